"""A drawing made with the mouse, read the way MNIST's digits were made."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def center_like_mnist(image: np.ndarray, size: int = 28, box: int = 20, threshold: float = 0.05) -> np.ndarray:
    """A large drawing (H, W) in [0, 1], ink high -> (size, size) the way MNIST was made.

    MNIST's digits were scaled to fit a 20 x 20 box keeping their aspect ratio, with
    anti-aliasing, then placed in 28 x 28 so that the centre of mass sits in the middle.
    An empty drawing gives an empty image.
    """
    a = np.asarray(image, dtype=np.float32)
    ys, xs = np.nonzero(a > threshold)
    out = np.zeros((size, size), dtype=np.float32)
    if len(ys) == 0:
        return out
    crop = a[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    h, w = crop.shape
    scale = box / max(h, w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    t = torch.from_numpy(np.ascontiguousarray(crop))[None, None]
    small = F.interpolate(t, size=(nh, nw), mode="area" if scale < 1 else "bilinear", **({} if scale < 1 else {"align_corners": False}))
    small = small[0, 0].clamp(0, 1).numpy()
    mass = small.sum()
    if mass <= 0:
        return out
    cy = (small.sum(1) * np.arange(nh)).sum() / mass
    cx = (small.sum(0) * np.arange(nw)).sum() / mass
    top = int(round((size - 1) / 2 - cy))
    left = int(round((size - 1) / 2 - cx))
    top = min(max(top, 0), size - nh)
    left = min(max(left, 0), size - nw)
    out[top : top + nh, left : left + nw] = small
    return out
