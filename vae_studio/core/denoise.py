"""Denoising and inpainting with a trained VAE, measured against a 3x3 median filter.

A VAE denoises by projection onto what it can draw. Two ways are offered: "fit" searches for
the code whose decoded image best explains the corrupted one under the corruption's own noise
model (:mod:`.latent_fit`), the better of the two in every measurement (README, denoising
table); "encoder" is one encode -> decode pass, which is instant but meets an input unlike
anything the encoder was trained on. Where the damage has a known place (an occluding box,
erased strokes), the encoder way iterates encode -> decode with the known pixels put back after
every pass, so the filled-in region is drawn to agree with what is still there, and returns the
iterates.

Images are float arrays in [0, 1], (N, H, W) for one-channel models or (N, C, H, W); results come
back in the shape they were given. Models run on the CPU unless a device is passed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .corruption import Corruption, corrupt, median3x3, psnr
from .decoding import as_batch
from .latent_fit import label_batch, restore_by_fit
from .models import VAE

DEFAULT_ITERATIONS = 10
CURVE_LEVELS = {  # the noise levels of the PSNR-against-noise chart, per kind
    "gaussian": (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8),
    "saltpepper": (0.05, 0.1, 0.2, 0.3, 0.4, 0.5),
    "occlusion": (0.2, 0.3, 0.4, 0.5, 0.6),
}


@torch.no_grad()
def reconstruct(model: VAE, images, labels=None, device: torch.device | str = "cpu", batch: int = 1024) -> np.ndarray:
    """The decoder's mean image at the encoder's mean code, for each image: the VAE's denoised copy."""
    a = np.asarray(images, dtype=np.float32)
    x = as_batch(a, model)
    y = label_batch(model, labels, len(x))
    was_training = model.training
    model.eval()
    out = []
    try:
        for i in range(0, len(x), batch):
            xb = x[i : i + batch].to(device)
            yb = None if y is None else y[i : i + batch].to(device)
            mu, _ = model.encode(xb, yb)
            out.append(model.decode_mean(mu, yb).float().cpu())
    finally:
        model.train(was_training)
    rec = torch.cat(out).numpy() if out else np.zeros((0, *model.cfg.image_shape), np.float32)
    return rec.reshape(a.shape)


def inpaint(model: VAE, images, known, iterations: int = DEFAULT_ITERATIONS, labels=None,
            device: torch.device | str = "cpu") -> np.ndarray:
    """Fill the unknown pixels by iterating encode -> decode, putting the known pixels back after
    every pass. Returns every iterate, (iterations + 1, *images.shape): the input first, the
    final fill last; the known pixels are exactly those of the input in every one of them."""
    if iterations < 0:
        raise ValueError(f"iterations must be >= 0 (got {iterations})")
    x0 = np.asarray(images, dtype=np.float32)
    m = np.broadcast_to(np.asarray(known, dtype=bool), x0.shape)
    steps = [x0]
    x = x0
    for _ in range(iterations):
        x = np.where(m, x0, reconstruct(model, x, labels, device)).astype(np.float32)
        steps.append(x)
    return np.stack(steps)


METHODS = ("fit", "encoder")
METHOD_LABELS = {
    "fit": "the code that best explains the corrupted image (MAP under the noise model)",
    "encoder": "encode → decode (iterated, known pixels kept, where the damage has a place)",
}


@dataclass(frozen=True)
class DenoiseResult:
    """One corruption of a batch of clean images and what each method made of it."""

    kind: str
    level: float
    method: str  # one of METHODS
    clean: np.ndarray
    corrupted: Corruption
    denoised: np.ndarray  # the VAE's restoration
    median: np.ndarray  # the 3x3 median filter of the corrupted images
    steps: np.ndarray | None  # the encode -> decode iterates (T + 1, ...) of an inpainting, else None
    psnr_noisy: np.ndarray  # (N,) dB against the clean images
    psnr_denoised: np.ndarray
    psnr_median: np.ndarray

    def summary(self) -> dict:
        """Mean PSNRs over the images, in dB."""
        return {
            "noise": self.kind, "level": self.level, "n": int(len(self.clean)), "method": self.method,
            "psnr_noisy": float(self.psnr_noisy.mean()), "psnr_denoised": float(self.psnr_denoised.mean()),
            "psnr_median": float(self.psnr_median.mean()),
        }


def denoise(model: VAE, clean, kind: str, level: float, seed: int = 0, labels=None, method: str = "fit",
            iterations: int = DEFAULT_ITERATIONS, device: torch.device | str = "cpu") -> DenoiseResult:
    """Corrupt ``clean`` with one of :data:`~vae_studio.core.corruption.NOISES` and restore it."""
    clean = np.asarray(clean, dtype=np.float32)
    return restore(model, clean, corrupt(clean, kind, level, seed), kind, level, labels, method, iterations, device)


def restore(model: VAE, clean, corrupted: Corruption, kind: str = "erase", level: float = 0.0, labels=None,
            method: str = "fit", iterations: int = DEFAULT_ITERATIONS, device: torch.device | str = "cpu") -> DenoiseResult:
    """Restore an already corrupted batch (strokes erased with the mouse, say) and measure it.

    ``method`` "fit": the decoded MAP code under the corruption's noise model (known pixels kept
    where the damage has a place); "encoder": one encode -> decode pass, or for damage with a
    place the iterated inpainting, whose iterates come back as ``steps``."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)} (got {method!r})")
    clean = np.asarray(clean, dtype=np.float32)
    known = corrupted.known if corrupted.locatable else None
    steps = None
    if method == "fit":
        denoised = restore_by_fit(model, corrupted.images, kind, level, known, labels)
    elif known is not None:
        steps = inpaint(model, corrupted.images, known, iterations, labels, device)
        denoised = steps[-1]
    else:
        denoised = reconstruct(model, corrupted.images, labels, device)
    median = median3x3(corrupted.images)
    return DenoiseResult(kind, float(level), method, clean, corrupted, denoised, median, steps,
                         psnr(clean, corrupted.images), psnr(clean, denoised), psnr(clean, median))


@dataclass(frozen=True)
class PsnrCurve:
    """Mean PSNR (dB) of the noisy, VAE-denoised and median-filtered images at each noise level."""

    kind: str
    method: str
    levels: np.ndarray
    noisy: np.ndarray
    denoised: np.ndarray
    median: np.ndarray


def psnr_curve(model: VAE, clean, kind: str = "gaussian", levels=None, seed: int = 0, labels=None,
               method: str = "fit", iterations: int = DEFAULT_ITERATIONS, device: torch.device | str = "cpu") -> PsnrCurve:
    """The PSNR-against-noise chart for ``model`` on ``clean`` images, with the median yardstick."""
    levels = np.asarray(CURVE_LEVELS[kind] if levels is None else levels, dtype=np.float64)
    rows = [denoise(model, clean, kind, float(lv), seed, labels, method, iterations, device).summary() for lv in levels]
    col = lambda key: np.array([r[key] for r in rows])  # noqa: E731
    return PsnrCurve(kind, method, levels, col("psnr_noisy"), col("psnr_denoised"), col("psnr_median"))
