"""Generating from a trained model: prior samples, the manifold grid, traversals, interpolations,
and for a conditional model one code under every label.

Plain NumPy and PyTorch, so a notebook can draw the same figures as the window. ``tile`` turns a
batch of images into one picture.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import torch

from .decoding import as_batch, decode, to_images
from .models import VAE
from .projection import Projection


def prior_samples(model: VAE, n: int = 64, label: int | None = None, seed: int = 0) -> np.ndarray:
    """``n`` decoded draws from the model's prior, reproducible for a seed."""
    z = model.prior.sample(n, 1.0, torch.Generator().manual_seed(int(seed)))
    return decode(model, z, label)


def manifold_codes(
    projection: Projection,
    x_range: tuple[float, float],
    y_range: tuple[float, float],
    n: int = 20,
    base_z: np.ndarray | None = None,
) -> np.ndarray:
    """(n*n, D) codes on a regular n x n grid over a view rectangle, in reading order.

    Row 0 is the top of the rectangle (largest y), so the tiled picture has the map's
    orientation. Cell centres are used, so neighbouring rectangles tile without repeats.
    """
    xs = _cell_centres(x_range, n)
    ys = _cell_centres(y_range, n)[::-1]
    gx, gy = np.meshgrid(xs, ys)
    return projection.to_latent(np.column_stack([gx.ravel(), gy.ravel()]), base_z)


def _cell_centres(r: tuple[float, float], n: int) -> np.ndarray:
    lo, hi = float(r[0]), float(r[1])
    return lo + (np.arange(n) + 0.5) * (hi - lo) / n


def manifold_grid(
    model: VAE,
    projection: Projection,
    x_range: tuple[float, float],
    y_range: tuple[float, float],
    n: int = 20,
    base_z: np.ndarray | None = None,
    label: int | None = None,
) -> np.ndarray:
    """Kingma and Welling's figure: decode a regular grid over a rectangle of the 2-D view."""
    return decode(model, manifold_codes(projection, x_range, y_range, n, base_z), label)


def traversal_codes(z: np.ndarray, dims: Sequence[int] | None = None, steps: int = 7, span: float = 3.0) -> np.ndarray:
    """(len(dims) * steps, D): for each dimension, the code z with that one coordinate swept
    over [-span, +span] and the others fixed."""
    z = np.asarray(z, dtype=np.float64).reshape(-1)
    dims = list(range(len(z))) if dims is None else [int(d) for d in dims]
    values = np.linspace(-span, span, steps)
    codes = np.repeat(z[None, :], len(dims) * steps, axis=0)
    for r, d in enumerate(dims):
        codes[r * steps : (r + 1) * steps, d] = values
    return codes


def traversal_grid(
    model: VAE,
    z: np.ndarray,
    dims: Sequence[int] | None = None,
    steps: int = 7,
    span: float = 3.0,
    label: int | None = None,
) -> np.ndarray:
    """Decoded traversals, one row of ``steps`` images per dimension in ``dims``."""
    return decode(model, traversal_codes(z, dims, steps, span), label)


def slerp(z0: np.ndarray, z1: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Spherical interpolation (Shoemake 1985; White 2016 for generative models).

    Follows the great circle between the directions of z0 and z1 while the norm changes
    smoothly, so intermediate codes keep the typical norm of a Gaussian sample instead of
    passing near the origin. Falls back to a straight line for (anti)parallel endpoints.
    """
    z0 = np.asarray(z0, dtype=np.float64).reshape(-1)
    z1 = np.asarray(z1, dtype=np.float64).reshape(-1)
    t = np.asarray(t, dtype=np.float64).reshape(-1, 1)
    n0, n1 = np.linalg.norm(z0), np.linalg.norm(z1)
    if n0 < 1e-8 or n1 < 1e-8:
        return (1 - t) * z0 + t * z1
    cos = np.clip(z0 @ z1 / (n0 * n1), -1.0, 1.0)
    omega = math.acos(cos)
    so = math.sin(omega)
    if so < 1e-6:
        return (1 - t) * z0 + t * z1
    return (np.sin((1 - t) * omega) / so) * z0 + (np.sin(t * omega) / so) * z1


def interpolate(z0: np.ndarray, z1: np.ndarray, steps: int = 10, method: str = "linear") -> np.ndarray:
    """(steps, D) codes from z0 to z1 inclusive, on a straight line or by slerp."""
    if steps < 2:
        raise ValueError("an interpolation needs at least 2 steps")
    t = np.linspace(0.0, 1.0, steps)
    if method == "linear":
        a = np.asarray(z0, dtype=np.float64).reshape(1, -1)
        b = np.asarray(z1, dtype=np.float64).reshape(1, -1)
        return (1 - t[:, None]) * a + t[:, None] * b
    if method == "slerp":
        return slerp(z0, z1, t)
    raise ValueError(f"method must be 'linear' or 'slerp' (got {method!r})")


def interpolation_strip(
    model: VAE, z0: np.ndarray, z1: np.ndarray, steps: int = 10, method: str = "linear", label: int | None = None
) -> np.ndarray:
    return decode(model, interpolate(z0, z1, steps, method), label)


def tile(images: np.ndarray, nrow: int, padding: int = 2, pad_value: float = 1.0) -> np.ndarray:
    """A batch (N, H, W) or (N, C, H, W) laid out ``nrow`` images per row: one (H', W') or
    (C, H', W') float32 picture with ``padding`` pixels of ``pad_value`` between and around."""
    from torchvision.utils import make_grid  # only needed here; keeps `import core` light

    a = np.asarray(images, dtype=np.float32)
    one_channel = a.ndim == 3
    t = torch.from_numpy(np.ascontiguousarray(a[:, None] if one_channel else a))
    if len(t) == 0:
        return np.zeros((0, 0), dtype=np.float32)
    # make_grid turns one channel into three; ask for one row of N if nrow exceeds N
    grid = make_grid(t, nrow=max(1, int(nrow)), padding=padding, pad_value=pad_value).numpy()
    return grid[0] if one_channel else grid

# -- conditional models: one code under every label -----------------------------------------
def _classes(model: VAE, labels: Sequence[int] | None) -> list[int]:
    if not model.conditional:
        raise ValueError("label sweeps and style transfer need a conditional model")
    return list(range(model.cfg.num_classes)) if labels is None else [int(c) for c in labels]


def label_sweep(model: VAE, z: np.ndarray, labels: Sequence[int] | None = None) -> np.ndarray:
    """Each code of ``z`` (N, D) or (D,) decoded under every label: (N * len(labels), H, W),
    one row per code. The code carries the style; the label picks the class."""
    z = np.asarray(z, dtype=np.float32)
    z = z.reshape(1, -1) if z.ndim == 1 else z
    classes = _classes(model, labels)
    codes = np.repeat(z, len(classes), axis=0)
    ys = torch.as_tensor(np.tile(classes, len(z)), dtype=torch.long)
    with torch.inference_mode():
        out = model.decode(torch.from_numpy(np.ascontiguousarray(codes)), ys)
    return to_images(torch.sigmoid(out.float()))


def style_transfer(
    model: VAE, images: np.ndarray, labels: Sequence[int], targets: Sequence[int] | None = None
) -> np.ndarray:
    """The CVAE analogy figure (Kingma et al. 2014, fig. 1): encode each image with its own label,
    then decode its posterior mean under every target label. (N * len(targets), H, W), one row
    per image: the same handwriting drawn as each class."""
    x = as_batch(images, model)
    if len(labels) != len(x):
        raise ValueError(f"need one label per image (got {len(labels)} labels for {len(x)} images)")
    classes = _classes(model, targets)
    with torch.inference_mode():
        mu, _ = model.encode(x, torch.as_tensor(np.asarray(labels), dtype=torch.long))
    return label_sweep(model, mu.float().numpy(), classes)
