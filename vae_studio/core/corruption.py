"""Corrupting clean images, and measuring how far an image is from the clean one.

Images are float arrays in [0, 1] whose last two axes are height and width and whose first axis
is the batch: (N, H, W) or (N, C, H, W). Every corruption returns the corrupted images and a
``known`` mask of the same shape, True where a pixel still holds its clean value and the
corruption says so: an occluding box or an erase mask tells where the damage is, so the pixels
outside it are known and inpainting may keep them fixed. Gaussian noise touches every pixel and
salt-and-pepper does not say which pixels it hit, so their masks are all False: a denoiser must
not rely on them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NOISES = ("gaussian", "saltpepper", "occlusion")
NOISE_LABELS = {"gaussian": "Gaussian noise σ", "saltpepper": "salt-and-pepper p", "occlusion": "occluding box side"}
PSNR_CAP_DB = 100.0  # an exact copy: a finite figure that sorts above every real one


@dataclass(frozen=True)
class Corruption:
    """Corrupted images in [0, 1] and where their pixels are still known to be clean."""

    images: np.ndarray
    known: np.ndarray  # bool, same shape; all False when the damage cannot be located

    @property
    def locatable(self) -> bool:
        """Whether the damage has a known place, so that inpainting applies."""
        return bool(self.known.any())


def _rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def _as_images(x) -> np.ndarray:
    a = np.asarray(x, dtype=np.float32)
    if a.ndim < 3:
        raise ValueError(f"expected a batch of images (N, H, W) or (N, C, H, W), got shape {a.shape}")
    return a


def gaussian(x, sigma: float, seed=None) -> Corruption:
    """Add N(0, sigma^2) to every pixel and clip to [0, 1]."""
    if not sigma >= 0:
        raise ValueError(f"the noise level sigma must be >= 0 (got {sigma})")
    a = _as_images(x)
    noisy = np.clip(a + sigma * _rng(seed).standard_normal(a.shape, dtype=np.float32), 0.0, 1.0)
    return Corruption(noisy.astype(np.float32), np.zeros(a.shape, dtype=bool))


def salt_and_pepper(x, p: float, seed=None) -> Corruption:
    """Set each pixel with probability ``p`` to 0 or 1 (even odds)."""
    if not 0 <= p <= 1:
        raise ValueError(f"the salt-and-pepper fraction p must be between 0 and 1 (got {p})")
    a = _as_images(x)
    rng = _rng(seed)
    hit = rng.random(a.shape) < p
    salt = rng.random(a.shape) < 0.5
    out = np.where(hit, salt.astype(np.float32), a)
    return Corruption(out.astype(np.float32), np.zeros(a.shape, dtype=bool))


def box_mask(shape: tuple[int, ...], side: float, seed=None) -> np.ndarray:
    """A bool mask of ``shape`` (N, ..., H, W), True inside one square box per image.

    ``side`` is the box's side as a fraction of the image's shorter side (0 to 1); each image's
    box is placed uniformly at random, wholly inside the image.
    """
    if not 0 <= side <= 1:
        raise ValueError(f"the occluding box's side must be a fraction between 0 and 1 of the image (got {side})")
    n, h, w = shape[0], shape[-2], shape[-1]
    s = int(round(side * min(h, w)))
    rng = _rng(seed)
    top = rng.integers(0, h - s + 1, size=n)
    left = rng.integers(0, w - s + 1, size=n)
    rows = np.arange(h)[None, :, None]
    cols = np.arange(w)[None, None, :]
    inside = ((rows >= top[:, None, None]) & (rows < top[:, None, None] + s)
              & (cols >= left[:, None, None]) & (cols < left[:, None, None] + s))  # (N, H, W)
    inside = inside.reshape((n,) + (1,) * (len(shape) - 3) + (h, w))
    return np.broadcast_to(inside, shape).copy()


def erase(x, mask, fill: float = 0.0) -> Corruption:
    """Blank the pixels where ``mask`` is True (strokes rubbed out with the mouse, a box); the
    mask broadcasts over the channels."""
    a = _as_images(x)
    m = np.broadcast_to(np.asarray(mask, dtype=bool), a.shape)
    return Corruption(np.where(m, np.float32(fill), a).astype(np.float32), ~m)


def occlusion(x, side: float, seed=None, fill: float = 0.0) -> Corruption:
    """Blank one square box per image (side as a fraction of the image), placed at random."""
    a = _as_images(x)
    return erase(a, box_mask(a.shape, side, seed), fill)


def corrupt(x, kind: str, level: float, seed=None) -> Corruption:
    """One of :data:`NOISES` at ``level``: sigma, the hit fraction p, or the box side."""
    if kind == "gaussian":
        return gaussian(x, level, seed)
    if kind == "saltpepper":
        return salt_and_pepper(x, level, seed)
    if kind == "occlusion":
        return occlusion(x, level, seed)
    raise ValueError(f"noise must be one of {', '.join(NOISES)} (got {kind!r})")


def psnr(clean, other, peak: float = 1.0) -> np.ndarray:
    """Peak signal-to-noise ratio of each image of ``other`` against ``clean``, in dB, (N,).

    10 log10(peak^2 / MSE) over every pixel of an image; an exact copy scores
    :data:`PSNR_CAP_DB` rather than infinity, so means stay finite.
    """
    a = _as_images(clean).astype(np.float64)
    b = _as_images(other).astype(np.float64)
    if a.shape != b.shape:
        raise ValueError(f"cannot compare images of shape {a.shape} with {b.shape}")
    mse = ((a - b) ** 2).reshape(len(a), -1).mean(1)
    with np.errstate(divide="ignore"):
        db = 10.0 * np.log10(peak**2 / mse)
    return np.minimum(db, PSNR_CAP_DB)


def median3x3(x) -> np.ndarray:
    """The 3x3 median filter, edges padded by repeating the border: the classic denoising yardstick."""
    a = _as_images(x)
    h, w = a.shape[-2:]
    pad = [(0, 0)] * (a.ndim - 2) + [(1, 1), (1, 1)]
    p = np.pad(a, pad, mode="edge")
    windows = np.stack([p[..., i : i + h, j : j + w] for i in range(3) for j in range(3)])
    return np.median(windows, axis=0).astype(np.float32)
