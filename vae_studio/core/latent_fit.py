"""Restoring a corrupted image by fitting a code to it: the MAP estimate of z under the corruption.

The encoder was trained on clean digits; a noisy one is outside what it knows and its code is a
poor guess. Searching instead for the code whose decoded image best explains the corrupted one
*under the corruption's own noise model*, plus the prior's pull -log N(z; 0, I), uses the
decoder as a prior over clean images (Bora et al. 2017, "Compressed sensing using generative
models"): the result is always an image the model can draw. The search starts from the encoder's
mean and runs a fixed number of Adam steps on the codes alone, all images of a batch at once.

Noise models, per pixel, with ``m`` the decoded mean and ``o`` the observed pixel:
- Gaussian with a known sigma, clipped to [0, 1]: log N(o; m, sigma^2) inside, and the clipped
  tails' probability, log Phi(-m / sigma) at o = 0 and log Phi((m - 1) / sigma) at o = 1;
- salt-and-pepper with a known fraction p: a kept pixel is m up to a small slack (SLACK), a hit
  one is 0 or 1 whatever m is; the mixture of the two;
- a known mask (occlusion, erased strokes): the model's own likelihood of the known pixels only.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .decoding import as_batch
from .losses import cb_mean, pixel_nll
from .models import VAE

DEFAULT_STEPS = 150
DEFAULT_LR = 0.05
SLACK = 0.1  # how far a kept pixel may sit from the decoded mean, in the salt-and-pepper model
_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


def label_batch(model: VAE, labels, n: int) -> torch.Tensor | None:
    """The labels of ``n`` images for a conditional model (one label is every image's); None for
    any other model."""
    if not model.conditional:
        return None
    if labels is None:
        raise ValueError("a conditional model works on images of a given class: pass labels=")
    y = torch.as_tensor(np.asarray(labels), dtype=torch.long).reshape(-1)
    if y.numel() == 1:
        return y.expand(n).clone()
    if y.numel() != n:
        raise ValueError(f"{n} images but {y.numel()} labels")
    return y


def _mean(model: VAE, logits: torch.Tensor) -> torch.Tensor:
    return cb_mean(logits) if model.cfg.likelihood == "continuous-bernoulli" else torch.sigmoid(logits)


def _noise_nll(model: VAE, logits: torch.Tensor, obs: torch.Tensor, kind: str, level: float,
               known: torch.Tensor | None) -> torch.Tensor:
    """-log p(observed | z) per image, (B,)."""
    if known is not None:
        nll = pixel_nll(logits, obs, model.cfg.likelihood, model.log_sigma) * known
        return nll.flatten(1).sum(1)
    m = _mean(model, logits.float())
    if kind == "gaussian":
        s = max(float(level), 1e-3)
        inside = 0.5 * ((obs - m) / s) ** 2 + math.log(s) + _LOG_SQRT_2PI
        low = -torch.special.log_ndtr(-m / s)
        high = -torch.special.log_ndtr((m - 1.0) / s)
        nll = torch.where(obs <= 0, low, torch.where(obs >= 1, high, inside))
    elif kind == "saltpepper":
        p = min(max(float(level), 1e-4), 1 - 1e-4)
        kept = math.log1p(-p) - 0.5 * ((obs - m) / SLACK) ** 2 - math.log(SLACK) - _LOG_SQRT_2PI
        hit = torch.where((obs <= 0) | (obs >= 1), math.log(p / 2), -1e4)
        nll = -torch.logaddexp(kept, torch.as_tensor(hit, dtype=kept.dtype))
    else:
        raise ValueError(f"no noise model for {kind!r}: gaussian or saltpepper, or pass the known-pixel mask")
    return nll.flatten(1).sum(1)


def fit_codes(model: VAE, images, kind: str = "gaussian", level: float = 0.0, known=None, labels=None,
              steps: int = DEFAULT_STEPS, lr: float = DEFAULT_LR, batch: int = 512) -> np.ndarray:
    """MAP codes (N, D) for corrupted float images; ``known`` (bool, the images' shape) makes the
    fit use the model's own likelihood on the known pixels only, whatever ``kind``."""
    x_all = as_batch(np.asarray(images, dtype=np.float32), model)
    k_all = None if known is None else as_batch(np.asarray(known, dtype=np.float32), model)
    y_all = label_batch(model, labels, len(x_all))
    was_training = model.training
    model.eval()
    out = []
    try:
        for i in range(0, len(x_all), batch):
            x = x_all[i : i + batch]
            known_b = None if k_all is None else k_all[i : i + batch]
            y = None if y_all is None else y_all[i : i + batch]
            with torch.no_grad():
                z0 = model.encode(x if known_b is None else x * known_b, y)[0].float()
            z = z0.clone().requires_grad_(True)
            opt = torch.optim.Adam([z], lr=lr)
            for _ in range(steps):
                with torch.enable_grad():
                    loss = (_noise_nll(model, model.decode(z, y), x, kind, level, known_b) - model.prior.log_prob(z)).sum()
                    # gradients for the codes only: the weights stay as they are, with no .grad left behind
                    (grad,) = torch.autograd.grad(loss, [z])
                z.grad = grad
                opt.step()
            out.append(z.detach())
    finally:
        model.train(was_training)
    return torch.cat(out).numpy() if out else np.zeros((0, model.cfg.latent_dim), np.float32)


@torch.no_grad()
def decode_codes(model: VAE, z: np.ndarray, labels=None, shape=None) -> np.ndarray:
    """Mean images of codes, reshaped to ``shape`` (the corrupted images' own) when given."""
    zt = torch.as_tensor(np.asarray(z, dtype=np.float32))
    out = model.decode_mean(zt, label_batch(model, labels, len(zt))).float().numpy()
    return out.reshape(shape) if shape is not None else out


def restore_by_fit(model: VAE, images, kind: str = "gaussian", level: float = 0.0, known=None, labels=None,
                   steps: int = DEFAULT_STEPS, lr: float = DEFAULT_LR) -> np.ndarray:
    """The decoded MAP code of each corrupted image, in the images' shape; with a known mask the
    known pixels are put back, so only the damaged ones are drawn by the model."""
    a = np.asarray(images, dtype=np.float32)
    z = fit_codes(model, a, kind, level, known, labels, steps, lr)
    out = decode_codes(model, z, labels, a.shape)
    if known is not None:
        out = np.where(np.broadcast_to(np.asarray(known, dtype=bool), a.shape), a, out)
    return out.astype(np.float32)
