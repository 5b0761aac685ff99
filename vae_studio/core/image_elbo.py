"""How typical a model finds single images: their -ELBO in nats, lower is more typical.

The terms come from :func:`evaluate.neg_elbo_per_image`, the held-out figures' own code, so a
drawing's score and the held-out digits' are computed the same way.
"""

from __future__ import annotations

import numpy as np
import torch

from .decoding import as_batch, label_tensor
from .evaluate import neg_elbo_per_image
from .models import VAE


def neg_elbo(
    model: VAE, image: np.ndarray, label: int | None = None, samples: int = 64, seed: int = 0
) -> tuple[float, float, float]:
    """(-ELBO, recon, KL) in nats for one image in [0, 1], averaged over ``samples`` draws of z.

    Lower means the model finds the image more typical of what it was trained on.
    """
    x = as_batch(image, model)[:1]
    g = torch.Generator().manual_seed(int(seed))
    with torch.inference_mode():
        rec, kl, _, _ = neg_elbo_per_image(model, x, label_tensor(model, label, 1), samples, g)
    r, k = float(rec[0]), float(kl[0])
    return r + k, r, k


def neg_elbo_each(model: VAE, images: np.ndarray, labels: np.ndarray | None = None, seed: int = 0, batch: int = 1024) -> np.ndarray:
    """Single-sample -ELBO in nats for each image of a batch (N,): a reference for what is typical."""
    x_all = as_batch(images, model)
    g = torch.Generator().manual_seed(int(seed))
    out = []
    with torch.inference_mode():
        for i in range(0, len(x_all), batch):
            y = None
            if model.conditional:
                if labels is None:
                    raise ValueError("a conditional model needs the images' labels")
                y = torch.as_tensor(np.asarray(labels[i : i + batch]), dtype=torch.long)
            rec, kl, _, _ = neg_elbo_per_image(model, x_all[i : i + batch], y, 1, g)
            out.append((rec + kl).numpy())
    return np.concatenate(out) if out else np.zeros(0, dtype=np.float32)
