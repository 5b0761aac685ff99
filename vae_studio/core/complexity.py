"""How complex an image is: its length in bits under a lossless image compressor.

Serrà et al. (2020, "Input complexity and out-of-distribution detection with likelihood-based
generative models") show that a generative model's likelihood is dominated by how simple an
image is (plain backgrounds, few strokes), which is why a model of clothes gives digits higher
likelihood than clothes. A generic compressor measures that simplicity without knowing the
model; subtracting its code length from the model's NLL in bits leaves the part of the
likelihood that is the model's own. Compressors here work on the quantised 8-bit image.
"""

from __future__ import annotations

import bz2
import io
import lzma
import zlib

import numpy as np

COMPRESSORS = ("png", "jp2", "webp", "zlib", "bz2", "lzma")


def _pil_image(img: np.ndarray):
    from PIL import Image

    if img.ndim == 2:
        return Image.fromarray(img, mode="L")
    if img.ndim == 3 and img.shape[0] == 3:
        return Image.fromarray(np.ascontiguousarray(img.transpose(1, 2, 0)), mode="RGB")
    return None


def _pil_bytes(img: np.ndarray, fmt: str, **options) -> bytes | None:
    pil = _pil_image(img)
    if pil is None:
        return None
    buf = io.BytesIO()
    pil.save(buf, format=fmt, **options)
    return buf.getvalue()


def _encode(img: np.ndarray, compressor: str) -> bytes:
    """One image's compressed bytes; an image the format cannot hold (channels other than 1 or 3)
    falls back to zlib of its raw bytes."""
    out = None
    if compressor == "png":
        out = _pil_bytes(img, "PNG", compress_level=9)
    elif compressor == "jp2":  # lossless (the reversible wavelet), PIL's default
        out = _pil_bytes(img, "JPEG2000")
    elif compressor == "webp":
        out = _pil_bytes(img, "WEBP", lossless=True, quality=100, method=6)
    elif compressor == "bz2":
        out = bz2.compress(img.tobytes(), 9)
    elif compressor == "lzma":
        out = lzma.compress(img.tobytes(), preset=9)
    elif compressor != "zlib":
        raise ValueError(f"compressor must be one of {', '.join(COMPRESSORS)} (got {compressor!r})")
    return out if out is not None else zlib.compress(img.tobytes(), 9)


def compressed_bits(images_u8, compressor: str = "png") -> np.ndarray:
    """Code length in bits of each 8-bit image, (N,); images (N, H, W) or (N, C, H, W) uint8.

    File headers are included: they are the same for every image of one shape, so they shift
    the scores of a whole set without reordering them.
    """
    a = np.asarray(images_u8)
    if a.dtype != np.uint8:
        raise ValueError(f"compressed lengths are of 8-bit images (uint8), got {a.dtype}")
    if a.ndim == 4 and a.shape[1] == 1:
        a = a[:, 0]
    return np.array([8 * len(_encode(np.ascontiguousarray(img), compressor)) for img in a], dtype=np.float64)


def quantised(images) -> np.ndarray:
    """Float images in [0, 1] as the 8-bit images a compressor reads."""
    return np.clip(np.rint(np.asarray(images, dtype=np.float64) * 255.0), 0, 255).astype(np.uint8)
