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
    kl_per_dim: torch.Tensor | None  # (D,), batch mean; None under a mixture prior (costly, validation measures it)
    total: torch.Tensor  # the objective that is minimised

    @property
    def neg_elbo(self) -> torch.Tensor:
        return self.recon + self.kl


def kl_per_dim(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """Analytic KL(N(mu, sigma^2) || N(0, 1)) for each sample and dimension, shape (B, D)."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar)


def cb_log_norm(logits: torch.Tensor) -> torch.Tensor:
    """log C(lambda) of the continuous Bernoulli, lambda = sigmoid(logits) (Loaiza-Ganem & Cunningham 2019).

    C(lambda) = 2 artanh(1 - 2 lambda) / (1 - 2 lambda), which in logits is eta / tanh(eta / 2),
    i.e. log 2 + log(u / tanh u) with u = eta / 2. The closed form divides 0 by 0 at lambda = 0.5,
    so near it the Taylor series u^2/3 - 7u^4/90 + 62u^6/2835 is used (error < 1e-9 for |u| < 0.1).
    """
    u = 0.5 * logits
    small = u.abs() < 0.1
    # the far branch never sees a small u, so neither its value nor its gradient is ever NaN
    safe = torch.where(small, torch.full_like(u, 0.1), u)
    far = torch.log(safe.abs()) - torch.log(torch.tanh(safe).abs())
    u2 = u * u
    near = u2 * (1.0 / 3.0 + u2 * (-7.0 / 90.0 + u2 * (62.0 / 2835.0)))
    return math.log(2.0) + torch.where(small, near, far)


def cb_mean(logits: torch.Tensor) -> torch.Tensor:
    """Mean of the continuous Bernoulli: lambda / (2 lambda - 1) + 1 / (2 artanh(1 - 2 lambda)),
    in logits sigmoid(eta) / tanh(eta / 2) - 1 / eta; 1/2 + eta/12 - eta^3/720 near eta = 0."""
    small = logits.abs() < 0.02
    safe = torch.where(small, torch.full_like(logits, 1.0), logits)
    far = torch.sigmoid(safe) / torch.tanh(0.5 * safe) - 1.0 / safe
    near = 0.5 + logits * (1.0 / 12.0 - logits * logits / 720.0)
    return torch.where(small, near, far).clamp(0.0, 1.0)


def recon_nll(logits: torch.Tensor, x: torch.Tensor, likelihood: str = "bernoulli", log_sigma: torch.Tensor | None = None) -> torch.Tensor:
    """-log p(x | z) per image, shape (B,)."""
    return pixel_nll(logits, x, likelihood, log_sigma).flatten(1).sum(1)


def pixel_nll(logits: torch.Tensor, x: torch.Tensor, likelihood: str = "bernoulli", log_sigma: torch.Tensor | None = None) -> torch.Tensor:
    """-log p(x | z) of each pixel, the shape of ``x``: what inpainting sums over the known pixels only."""
    logits = logits.float()
    if likelihood == "bernoulli":
        nll = F.binary_cross_entropy_with_logits(logits, x, reduction="none")
    elif likelihood == "continuous-bernoulli":
        # a proper density on [0, 1]: the Bernoulli cross-entropy of grey pixels is not a
        # likelihood of them, and -ELBOs under the two are not comparable
        nll = F.binary_cross_entropy_with_logits(logits, x, reduction="none") - cb_log_norm(logits)
    elif likelihood == "gaussian":
        if log_sigma is None:
            raise ValueError("a Gaussian likelihood needs log_sigma")
        nll = 0.5 * ((x - torch.sigmoid(logits)) * torch.exp(-log_sigma)).pow(2) + log_sigma + 0.5 * _LOG_2PI
    else:
        raise ValueError(f"unknown likelihood {likelihood!r}")
    return nll


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
    prior=None,
    z: torch.Tensor | None = None,
) -> LossTerms:
    """Loss terms for one batch.

    prior: the model's prior (None or standard: N(0, I), KL in closed form); a mixture prior's
    KL is estimated at ``z``, the code the decoder saw.
    free_bits: each dimension's batch-mean KL enters the objective as max(lambda, KL_d), so the
    optimiser gains nothing by pushing a dimension below lambda nats (Kingma et al. 2016).
    capacity: the objective uses beta * |KL - C| (Burgess et al. 2018) instead of beta * KL.
    """
    recon = recon_nll(logits, x, likelihood, log_sigma).mean()
    if prior is None or prior.kind == "standard":
        kl_d = kl_per_dim(mu.float(), logvar.float()).mean(0)
        kl = kl_d.sum()
        kl_obj = torch.clamp(kl_d, min=free_bits).sum() if free_bits > 0 else kl
    else:
        if free_bits > 0:
            raise ValueError("free bits need the standard normal prior: a mixture's KL does not split by dimension")
        kl_d, kl = None, prior.kl(mu, logvar, z).mean()
        kl_obj = kl
    if capacity is not None:
        kl_obj = (kl_obj - capacity).abs()
    return LossTerms(recon=recon, kl=kl, kl_per_dim=kl_d, total=recon + (beta * kl_weight) * kl_obj)


def iwae_terms(
    model,
    x: torch.Tensor,
    y: torch.Tensor | None,
    k: int,
    *,
    likelihood: str = "bernoulli",
    kl_weight: float = 1.0,
) -> tuple[LossTerms, torch.Tensor]:
    """The IWAE-k objective (Burda et al. 2015) for one batch, with the plain ELBO terms beside it.

    One encoder pass, k decoder passes as one batch of k*B. Returns the terms (``total`` is the
    negative IWAE bound, scaled per image; recon and KL are the ordinary single-sample-average
    ELBO terms, so curves stay comparable with ELBO-trained runs) and the batch-mean -IWAE bound.
    ``kl_weight`` scales log p(z) - log q(z|x) inside the bound (beta times the warm-up weight).
    """
    mu, logvar = model.encode(x, y)
    mu, logvar = mu.float(), logvar.float()
    std = torch.exp(0.5 * logvar)
    eps = torch.randn((k, *mu.shape), device=mu.device, dtype=mu.dtype)
    z = mu + eps * std  # (k, B, D)
    b = x.shape[0]
    yk = None if y is None else y.repeat(k)
    logits = model.decode(z.reshape(k * b, -1), yk)
    xk = x.expand(k, *x.shape).reshape(k * b, *x.shape[1:])
    rec = recon_nll(logits, xk, likelihood, model.log_sigma).view(k, b)
    log_q = (-0.5 * (eps.pow(2) + logvar + _LOG_2PI)).sum(-1)
    log_ratio = model.prior.log_prob(z) - log_q  # log p(z) - log q(z|x)
    log_w = -rec + kl_weight * log_ratio
    neg_iwae = -(torch.logsumexp(log_w, dim=0) - math.log(k))
    kl_d = kl_per_dim(mu, logvar).mean(0) if model.prior.kind == "standard" else None
    terms = LossTerms(recon=rec.mean(), kl=model.prior.kl(mu, logvar, z).mean(), kl_per_dim=kl_d, total=neg_iwae.mean())
    return terms, neg_iwae.mean().detach()


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
