"""Latent traversals and interpolations as animated GIFs, or as one still picture (PNG).

A traversal frame shows one image per chosen dimension, each decoded from the same code with that
one dimension set to the frame's value; over the frames the value sweeps from −span to +span
(disentangling-vae's figure). An interpolation frame is the image at one point of the path from
A to B. Frames run forward and back again, so the loop never jumps. The still picture is the
grid the window's Generate tab shows: one row per dimension, or the path as one strip.

Pictures are made with :func:`generate.tile`, so any image size and any number of channels work;
Pillow writes the files (atomically). Pillow merges consecutive identical frames into one longer
frame, so a dimension the decoder ignores shows as a still.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np

from .atomic import atomic_write
from .decoding import decode
from .errors import ConfigError, OutputError
from .evaluate import COLLAPSE_KL_NATS
from .generate import interpolate, tile, traversal_codes
from .models import VAE

SUFFIXES = (".gif", ".png")
MAX_DIMS = 10  # dimensions a traversal shows when none are chosen: the most informative first


def default_dims(latent_dim: int, kl_per_dim: Sequence[float] | None = None, limit: int = MAX_DIMS) -> list[int]:
    """The dimensions worth traversing: by KL, largest first, those the decoder uses (all if none
    is known to be in use), at most ``limit``."""
    if kl_per_dim is None or len(kl_per_dim) != latent_dim or not any(k > 0 for k in kl_per_dim):
        return list(range(min(latent_dim, limit)))
    kl = np.asarray(kl_per_dim, dtype=np.float64)
    order = [int(d) for d in np.argsort(-kl, kind="stable")]
    active = [d for d in order if kl[d] >= COLLAPSE_KL_NATS]
    return (active or order)[:limit]


def traversal(model: VAE, z: np.ndarray, dims: Sequence[int], steps: int = 9, span: float = 3.0,
              label: int | None = None) -> np.ndarray:
    """Decoded traversals, (len(dims), steps, [C,] H, W): row r sweeps dimension ``dims[r]``."""
    images = decode(model, traversal_codes(z, dims, steps, span), label)
    return images.reshape(len(dims), steps, *images.shape[1:])


def traversal_frames(images: np.ndarray, per_row: int | None = None) -> list[np.ndarray]:
    """One picture per value: every dimension's image at that value, ``per_row`` to a row."""
    n_dims, steps = images.shape[:2]
    per_row = per_row or min(n_dims, 5)
    return [tile(images[:, t], per_row) for t in range(steps)]


def traversal_picture(images: np.ndarray) -> np.ndarray:
    """The still grid: one row per dimension, one column per value."""
    n_dims, steps = images.shape[:2]
    return tile(images.reshape(n_dims * steps, *images.shape[2:]), steps)


def interpolation(model: VAE, z0: np.ndarray, z1: np.ndarray, steps: int = 10, method: str = "linear",
                  label: int | None = None) -> np.ndarray:
    """Decoded images along the path from z0 to z1 (both included), ([C,] H, W) each."""
    return decode(model, interpolate(z0, z1, steps, method), label)


def boomerang(frames: list[np.ndarray]) -> list[np.ndarray]:
    """Forward, then back without repeating either end: a loop without a jump."""
    return list(frames) + list(frames[-2:0:-1])


def check_suffix(path: str | os.PathLike, flag: str = "--out") -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in SUFFIXES:
        raise ConfigError(f"{flag} must end in .gif (an animation) or .png (one picture), not {Path(path).name!r}")
    return suffix


def to_pil(picture: np.ndarray, scale: int = 1):
    """A float picture in [0, 1], (H, W) or (C, H, W), as a Pillow image, each pixel ``scale`` x ``scale``."""
    from PIL import Image

    a = np.clip(np.round(np.asarray(picture, dtype=np.float32) * 255.0), 0, 255).astype(np.uint8)
    if a.ndim == 3:
        a = a[0] if a.shape[0] == 1 else np.moveaxis(a, 0, -1)
    if scale > 1:
        a = np.repeat(np.repeat(a, scale, axis=0), scale, axis=1)
    return Image.fromarray(np.ascontiguousarray(a), mode="L" if a.ndim == 2 else "RGB")


def save_picture(picture: np.ndarray, path: str | os.PathLike, scale: int = 1) -> Path:
    return _write(path, lambda f: to_pil(picture, scale).save(f, format="PNG"))


def save_animation(frames: list[np.ndarray], path: str | os.PathLike, scale: int = 1, fps: float = 8.0) -> Path:
    """An animated GIF that loops forever, ``fps`` frames a second."""
    if not frames:
        raise ValueError("an animation needs at least one frame")
    images = [to_pil(f, scale) for f in frames]
    duration = max(20, int(round(1000.0 / fps)))  # browsers treat less than 20 ms as 100 ms
    return _write(path, lambda f: images[0].save(f, format="GIF", save_all=True, append_images=images[1:],
                                                 duration=duration, loop=0))


def _write(path: str | os.PathLike, write) -> Path:
    path = Path(path)
    try:
        with atomic_write(path) as f:
            write(f)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path
