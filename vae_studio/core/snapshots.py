"""Snapshots for weights that no trainer holds."""

from __future__ import annotations

import torch

from .config import ModelConfig
from .models import build_model


def snapshot_of(model_config: ModelConfig, state: dict, dataset, *, step: int = 0, epoch: float = 0.0, probe_size: int = 2000):
    """A trainer-style ``Snapshot`` for weights that no trainer holds (a run opened from a file):
    the same probe points a trainer would show, their posterior means, and the held-out KL per
    dimension, all on the CPU."""
    from .data import to_float
    from .evaluate import elbo
    from .trainer import Snapshot, probe_index  # the same probe points as a trainer, so maps match

    model = build_model(model_config)
    model.load_state_dict(state)
    model.eval()
    probe = probe_index(len(dataset.test), probe_size)
    split = dataset.test.subset(probe)
    gen = torch.Generator().manual_seed(0)
    with torch.inference_mode():
        _, _, kl_d, _ = elbo(model, dataset.test, "cpu", generator=gen)
        x = to_float(split.images)
        mu = model.encode(x, split.labels if model.conditional else None)[0].float().numpy()
    return Snapshot(
        step=int(step), epoch=float(epoch), model_config=model_config,
        state={k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()},
        probe_mu=mu, probe_index=probe.numpy(), probe_labels=split.labels.numpy(),
        kl_per_dim=kl_d.numpy(),
    )
