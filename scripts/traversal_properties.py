"""What each latent dimension of a model changes, measured on decoded digits.

For every active dimension (posterior-mean variance above the active-unit threshold) and each of
``n`` held-out digits, the digit's own code is decoded twice, with that dimension set to -span
and to +span (the other dimensions and, for a model given the label, the label kept). Two
things are read from each pair:

- whether the digit stays itself: an independent classifier reads the digit's label at both
  ends (``kept``, the share of digits);
- which property moves: slant, width, height, ink, and the centre's x and y position, from the
  images' moments. Each change is the mean difference over the digits divided by the property's
  spread among them, so properties of different units compare; ``main`` is the largest and
  ``ratio`` how many times the runner-up it is.

Used by ``quality_evidence.py`` (target 4); ``figure`` draws the traversal grid it describes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from vae_studio.core.animation import traversal, traversal_picture
from vae_studio.core.data import Split, to_float
from vae_studio.core.evaluate import ACTIVE_UNIT_THRESHOLD, active_units
from vae_studio.core.sampler import posterior_means

PROPERTIES = ("slant", "width", "height", "ink", "x", "y")


def image_properties(images: torch.Tensor) -> dict[str, torch.Tensor]:
    """Moment properties of grey images (N, 1, H, W) in [0, 1], each (N,)."""
    img = images[:, 0].float()
    h, w = img.shape[-2:]
    ys = torch.arange(h, dtype=torch.float32).view(1, h, 1)
    xs = torch.arange(w, dtype=torch.float32).view(1, 1, w)
    mass = img.sum((1, 2)) + 1e-6
    cy = (img * ys).sum((1, 2)) / mass
    cx = (img * xs).sum((1, 2)) / mass
    dy, dx = ys - cy.view(-1, 1, 1), xs - cx.view(-1, 1, 1)
    m20 = (img * dx * dx).sum((1, 2)) / mass
    m02 = (img * dy * dy).sum((1, 2)) / mass
    m11 = (img * dx * dy).sum((1, 2)) / mass
    # slant: how far x moves per row, the shear an upright digit would need
    return {"slant": m11 / m02.clamp_min(1e-6), "width": m20.sqrt(), "height": m02.sqrt(), "ink": mass, "x": cx, "y": cy}


def active_dims(model, split: Split) -> list[int]:
    """The active dimensions, the most varied first."""
    _, var = active_units(torch.as_tensor(posterior_means(model, split)))
    return [int(d) for d in torch.argsort(var, descending=True) if var[d] > ACTIVE_UNIT_THRESHOLD]


@torch.no_grad()
def unit_properties(model, split: Split, clf, n: int = 300, span: float = 2.0) -> list[dict]:
    model = model.eval()
    part = split.subset(slice(0, n))
    labels = part.labels
    mu = torch.as_tensor(posterior_means(model, part))
    given = labels if model.conditional else None
    out = []
    for d in active_dims(model, split):
        lo, hi = mu.clone(), mu.clone()
        lo[:, d], hi[:, d] = -span, span
        a, b = model.decode_mean(lo, given).float(), model.decode_mean(hi, given).float()
        kept = ((clf(a).argmax(1) == labels) & (clf(b).argmax(1) == labels)).float().mean().item()
        pa, pb = image_properties(a), image_properties(b)
        change = {k: float((pb[k] - pa[k]).mean() / (0.5 * (pa[k].std() + pb[k].std()) + 1e-6)) for k in PROPERTIES}
        ranked = sorted(PROPERTIES, key=lambda k: -abs(change[k]))
        out.append({"dim": d, "kept": kept, "main": ranked[0],
                    "ratio": abs(change[ranked[0]]) / max(1e-6, abs(change[ranked[1]])), "change": change})
    return out


def figure(model, split: Split, dims: list[int], path: Path, index: int = 0, span: float = 2.0) -> None:
    """The traversal grid of ``dims`` (rows, -span to +span) from held-out digit ``index``, as a PNG."""
    from PIL import Image

    x = to_float(split.images[index : index + 1])
    label = int(split.labels[index]) if model.conditional else None
    with torch.no_grad():
        z = model.encode(x, None if label is None else torch.tensor([label]))[0][0].float().numpy()
    grid = traversal_picture(traversal(model.eval(), z, dims, steps=9, span=span, label=label))
    img = (np.clip(grid.squeeze(), 0, 1) * 255).astype(np.uint8)
    Image.fromarray(img).resize((img.shape[1] * 2, img.shape[0] * 2), Image.NEAREST).save(path)


def describe(units: list[dict]) -> str:
    """One line per unit: "dim 4: slant (8.0x the next), class kept 100%"."""
    return "; ".join(f"dim {u['dim']}: {u['main']} {u['change'][u['main']]:+.1f} ({u['ratio']:.1f}x the next), "
                     f"kept {u['kept']:.0%}" for u in units)
