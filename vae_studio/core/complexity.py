"""How complex an image is: its length in bits under a lossless image compressor.

Serrà et al. (2020, "Input complexity and out-of-distribution detection with likelihood-based
generative models") show that a generative model's likelihood is dominated by how simple an
image is (plain backgrounds, few strokes), which is why a model of clothes gives digits higher
likelihood than clothes. A generic compressor measures that simplicity without knowing the
model; subtracting its code length from the model's NLL in bits leaves the part of the
likelihood that is the model's own. Compressors here work on the quantised 8-bit image.

A compressor's bits and a VAE's nats under a Bernoulli likelihood of grey pixels are not the
same currency: the Bernoulli cross-entropy is no code length of 8-bit pixels, and a grey pixel
costs it at least its binary entropy whatever the model. :func:`local_code_length` therefore
measures complexity in the model's own likelihood: each pixel is predicted from its left, upper
and upper-left neighbours (the plane through them, as in PNG's and LOCO-I's predictors) and
scored with the model's pixel likelihood, as if that predictor were the decoder.
"""

from __future__ import annotations

import bz2
import io
import lzma
import zlib

import numpy as np
import torch

from .losses import pixel_nll

COMPRESSORS = ("png", "jp2", "webp", "zlib", "bz2", "lzma")
_LZMA_FILTERS = [{"id": lzma.FILTER_LZMA2, "preset": 9, "dict_size": 1 << 16}]


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
        # the presets' dictionaries (up to 64 MiB) cost far more to set up than a small image needs
        out = lzma.compress(img.tobytes(), format=lzma.FORMAT_RAW, filters=_LZMA_FILTERS)
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


LOCAL_MIX = 0.1  # the local predictor's share of a flat guess: no pixel is ever predicted with certainty


def local_prediction(images) -> np.ndarray:
    """Each pixel predicted from its causal neighbours: left + up - upper-left, clipped to [0, 1]
    and mixed with 0.5; images in [0, 1] with height and width as the last two axes."""
    x = np.asarray(images, dtype=np.float32)
    pad = [(0, 0)] * (x.ndim - 2) + [(1, 0), (1, 0)]
    p = np.pad(x, pad)
    plane = p[..., 1:, :-1] + p[..., :-1, 1:] - p[..., :-1, :-1]
    return (np.clip(plane, 0.0, 1.0) * (1 - LOCAL_MIX) + 0.5 * LOCAL_MIX).astype(np.float32)


def local_code_length(images, likelihood: str = "bernoulli", log_sigma: float | None = None) -> np.ndarray:
    """-log p(x) in nats of each image (N,) under the local predictor and the model's pixel
    likelihood ("bernoulli", "continuous-bernoulli" or "gaussian" with the model's log sigma)."""
    x = torch.from_numpy(np.ascontiguousarray(np.asarray(images, dtype=np.float32)))
    pred = torch.from_numpy(local_prediction(x.numpy()))
    logits = torch.logit(pred)
    sigma = None if log_sigma is None else torch.as_tensor(float(log_sigma))
    return pixel_nll(logits, x, likelihood, sigma).reshape(len(x), -1).sum(1).double().numpy()
