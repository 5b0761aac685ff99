"""Running a trained model on NumPy arrays: a CPU copy of it, decoding codes, encoding images.

Images come back as float32 arrays in [0, 1], shape (N, H, W) for one-channel data and
(N, C, H, W) otherwise. A conditional model decodes and encodes with a class label.
"""

from __future__ import annotations

import numpy as np
import torch

from .config import ModelConfig
from .models import VAE, build_model


class CpuModel:
    """A CPU copy of a snapshot's model, refreshed in place.

    Building the network allocates and initialises every layer; when the configuration is the
    same as last time, ``load`` only copies the new weights into the existing one.
    """

    def __init__(self) -> None:
        self.model: VAE | None = None
        self.config: ModelConfig | None = None

    def load(self, config: ModelConfig, state: dict, share: bool = True) -> bool:
        """Returns True when the network had to be rebuilt (a new configuration).

        ``share``: take the snapshot's tensors as the parameters instead of copying them. A
        snapshot's state is a private, never-written copy, and nothing here trains, so sharing
        is safe and skips a copy that, on a CPU busy training in another thread, can cost tens
        of milliseconds.
        """
        rebuilt = self.model is None or config != self.config
        if rebuilt:
            self.model = build_model(config).eval()
            self.config = config
        with torch.no_grad():
            self.model.load_state_dict(state, assign=share)
        self.model.requires_grad_(False)
        return rebuilt

    def clear(self) -> None:
        self.model = None
        self.config = None


def label_tensor(model: VAE, label: int | None, n: int) -> torch.Tensor | None:
    """``n`` copies of ``label`` for a conditional model; None for any other."""
    if not model.conditional:
        return None
    if label is None:
        raise ValueError("a conditional model decodes for a chosen class: pass label=")
    return torch.full((n,), int(label), dtype=torch.long)


def to_images(mean: torch.Tensor) -> np.ndarray:
    """Decoder means (N, C, H, W) as NumPy, one-channel images squeezed to (N, H, W)."""
    out = mean.float().numpy()
    return out[:, 0] if out.shape[1] == 1 else out


def as_batch(images: np.ndarray, model: VAE) -> torch.Tensor:
    """Float images as the (N, C, H, W) batch ``model`` takes: one image or a batch, grey ones
    with or without their channel axis ((H, W), (N, H, W)), colour ones (C, H, W) or (N, C, H, W)."""
    a = np.asarray(images, dtype=np.float32)
    shape = tuple(model.cfg.image_shape)
    if a.ndim in (2, 3) and shape[0] == 1 and a.shape[-2:] == shape[1:]:
        a = a.reshape(-1, *shape)
    elif a.ndim == 3:
        a = a[None]
    if tuple(a.shape[1:]) != shape:
        raise ValueError(f"the model takes images of shape {shape}, got {a.shape[1:]}")
    return torch.from_numpy(np.ascontiguousarray(a))


def decode(model: VAE, z: np.ndarray, label: int | None = None) -> np.ndarray:
    """Mean images for codes ``z`` (N, D) or (D,): float32 in [0, 1], (N, H, W) grey or (N, C, H, W)."""
    z = np.asarray(z, dtype=np.float32)
    z = z.reshape(1, -1) if z.ndim == 1 else z
    with torch.inference_mode():
        t = torch.from_numpy(np.ascontiguousarray(z))
        return to_images(torch.sigmoid(model.decode(t, label_tensor(model, label, len(z))).float()))


def encode(model: VAE, images: np.ndarray, label: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Posterior parameters for float images in [0, 1], (N, H, W) or (H, W): mu, logvar (N, D)."""
    x = as_batch(images, model)
    with torch.inference_mode():
        mu, logvar = model.encode(x, label_tensor(model, label, len(x)))
    return mu.float().numpy(), logvar.float().numpy()
