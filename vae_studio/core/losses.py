"""ELBO terms in nats per image: reconstruction and KL reported separately, with the sign a reader
expects (-ELBO = recon + KL, all positive). Sum over pixels and latent dimensions, mean over the
batch. The training objective adds beta, the KL schedule weight, free bits and a capacity target
on top, but the reported terms are always the plain ones, so runs stay comparable.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

_LOG_2PI = math.log(2 * math.pi)


@dataclass(frozen=True)
class LossTerms:
    recon: torch.Tensor  # scalar, nats per image
    kl: torch.Tensor  # scalar, nats per image
    kl_per_dim: torch.Tensor  # (D,), batch mean
    total: torch.Tensor  # the objective that is minimised

    @property
    def neg_elbo(self) -> torch.Tensor:
        return self.recon + self.kl


def kl_per_dim(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """Analytic KL(N(mu, sigma^2) || N(0, 1)) for each sample and dimension, shape (B, D)."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar)


def recon_nll(logits: torch.Tensor, x: torch.Tensor, likelihood: str = "bernoulli", log_sigma: torch.Tensor | None = None) -> torch.Tensor:
    """-log p(x | z) per image, shape (B,)."""
    logits = logits.float()
    if likelihood == "bernoulli":
        nll = F.binary_cross_entropy_with_logits(logits, x, reduction="none")
    elif likelihood == "gaussian":
        if log_sigma is None:
            raise ValueError("a Gaussian likelihood needs log_sigma")
        nll = 0.5 * ((x - torch.sigmoid(logits)) * torch.exp(-log_sigma)).pow(2) + log_sigma + 0.5 * _LOG_2PI
    else:
        raise ValueError(f"unknown likelihood {likelihood!r}")
    return nll.flatten(1).sum(1)


def elbo_terms(
    logits: torch.Tensor,
    x: torch.Tensor,
    mu: torch.Tensor,
    logvar: torch.Tensor,
    *,
    likelihood: str = "bernoulli",
    log_sigma: torch.Tensor | None = None,
    beta: float = 1.0,
    kl_weight: float = 1.0,
    free_bits: float = 0.0,
    capacity: float | None = None,
) -> LossTerms:
    """Loss terms for one batch.

    free_bits: each dimension's batch-mean KL enters the objective as max(lambda, KL_d), so the
    optimiser gains nothing by pushing a dimension below lambda nats (Kingma et al. 2016).
    capacity: the objective uses beta * |KL - C| (Burgess et al. 2018) instead of beta * KL.
    """
    recon = recon_nll(logits, x, likelihood, log_sigma).mean()
    kl_d = kl_per_dim(mu.float(), logvar.float()).mean(0)
    kl = kl_d.sum()
    kl_obj = torch.clamp(kl_d, min=free_bits).sum() if free_bits > 0 else kl
    if capacity is not None:
        kl_obj = (kl_obj - capacity).abs()
    return LossTerms(recon=recon, kl=kl, kl_per_dim=kl_d, total=recon + (beta * kl_weight) * kl_obj)


def kl_schedule_weight(schedule: str, epoch: float, period_epochs: float) -> float:
    """KL weight at a (fractional) epoch.

    linear: 0 -> 1 over ``period_epochs`` then 1 (warm-up, Bowman et al. 2016).
    cyclical: repeats a ramp over the first half of every ``period_epochs`` cycle, then holds 1
    for the second half (Fu et al. 2019).
    """
    if schedule == "constant" or period_epochs <= 0:
        return 1.0
    if schedule == "linear":
        return min(1.0, epoch / period_epochs)
    if schedule == "cyclical":
        phase = (epoch % period_epochs) / period_epochs
        return min(1.0, 2.0 * phase)
    raise ValueError(f"unknown KL schedule {schedule!r}")


def capacity_at(target: float | None, epoch: float, ramp_epochs: float) -> float | None:
    if target is None:
        return None
    return target if ramp_epochs <= 0 else target * min(1.0, epoch / ramp_epochs)
