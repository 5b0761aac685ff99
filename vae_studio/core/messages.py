"""The messages a trainer yields: immutable, so a window never reads what the trainer is writing."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Union

import numpy as np
import torch

from .config import ModelConfig
from .models import VAE, build_model


@dataclass(frozen=True)
class Progress:
    step: int
    epoch: float  # fractional epochs completed
    epochs: int  # planned
    recon: float  # mean over the steps since the previous Progress, nats per image
    kl: float
    neg_elbo: float
    kl_weight: float  # schedule weight (0..1), before beta
    beta: float
    lr: float
    samples_per_s: float
    elapsed: float  # seconds spent training, pauses excluded
    eta: float  # seconds to the planned end at the current rate
    threads: int = 0  # CPU threads training uses now (see core/threads.py); 0 on a GPU


@dataclass(frozen=True)
class Validation:
    epoch: int
    step: int
    recon: float
    kl: float
    neg_elbo: float
    train_recon: float  # mean over the epoch
    train_kl: float
    kl_per_dim: tuple[float, ...]
    best_epoch: int = 0  # the epoch whose weights scored the lowest held-out -ELBO so far
    best_neg_elbo: float = math.inf
    neg_iwae: float | None = None  # held-out -IWAE-k bound, with the IWAE objective
    likelihood: str = "bernoulli"  # what the figures are measured against (see config.likelihood_label)


@dataclass(frozen=True)
class Snapshot:
    step: int
    epoch: float
    model_config: ModelConfig
    state: dict  # name -> CPU tensor, a private copy
    probe_mu: np.ndarray  # (P, D) posterior means of the probe set
    probe_index: np.ndarray  # (P,) indices of the probe images in the held-out split
    probe_labels: np.ndarray  # (P,)
    kl_per_dim: np.ndarray  # (D,) from the latest validation

    def build_model(self) -> VAE:
        model = build_model(self.model_config)
        model.load_state_dict(self.state)
        return model.eval()


@dataclass(frozen=True)
class Finished:
    reason: str  # "completed" or "stopped"
    step: int
    epoch: float


Message = Union[Progress, Validation, Snapshot, Finished]


PROBE_SEED = 1234  # fixed so every run of a dataset shows the same held-out points on the map


def probe_index(n: int, size: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(PROBE_SEED)
    return torch.sort(torch.randperm(n, generator=g)[: min(n, size)]).values
