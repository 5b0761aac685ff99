"""The prior p(z): the fixed N(0, I) of the classic VAE, or a mixture of Gaussians learned with it.

The KL term of the ELBO pays for every nat by which the codes' cloud differs from the prior. On
the digits that cloud is ten clusters with holes between them, nothing like N(0, I), so a prior
that can take its shape (a mixture of K diagonal Gaussians whose weights, means and variances
are trained with the model; Tomczak & Welling 2018 compare it with their VampPrior) leaves the
decoder the same and charges less for the code. The KL to a mixture has no closed form: q's
entropy is exact, and its cross-entropy with the prior is estimated at the z the decoder saw.

Both priors answer the same questions (log-density, KL, KL per dimension, samples, the mixture
it is), so losses, evaluation, sampling and the map never ask which one they have.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from .config import PRIORS
from .losses import kl_per_dim

_LOG_2PI = math.log(2 * math.pi)
_LOG_VAR_RANGE = (-9.0, 6.0)  # a component shrunk onto one code would buy nats by overfitting it


def log_normal(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """log N(z; mu, diag(exp(logvar))) per dimension, the broadcast shape."""
    return -0.5 * (_LOG_2PI + logvar + (z - mu).pow(2) * torch.exp(-logvar))


class StandardNormalPrior(nn.Module):
    """N(0, I): no parameters, so checkpoints from before priors were a setting load unchanged."""

    kind = "standard"

    def __init__(self, latent_dim: int):
        super().__init__()
        self.latent_dim = latent_dim

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        return (-0.5 * (z.float().pow(2) + _LOG_2PI)).sum(-1)

    def kl_per_dim(self, mu: torch.Tensor, logvar: torch.Tensor, z: torch.Tensor | None = None) -> torch.Tensor:
        """Analytic KL(q(z_d|x) || N(0, 1)), (B, D); ``z`` is not needed."""
        return kl_per_dim(mu.float(), logvar.float())

    def kl(self, mu: torch.Tensor, logvar: torch.Tensor, z: torch.Tensor | None = None) -> torch.Tensor:
        """KL(q(z|x) || p(z)) per image, (B,): exact here, whatever draws ``z`` are given."""
        return self.kl_per_dim(mu, logvar).sum(-1)

    def sample(self, n: int, temperature: float = 1.0, generator: torch.Generator | None = None) -> np.ndarray:
        """(n, D) float32 codes from N(0, T^2 I)."""
        return (temperature * torch.randn(n, self.latent_dim, generator=generator)).numpy()

    def mixture(self):
        from .sampler import GaussianMixture

        d = self.latent_dim
        return GaussianMixture(np.ones(1), np.zeros((1, d)), np.eye(d)[None])


class MixturePrior(nn.Module):
    """sum_k pi_k N(m_k, diag(v_k)), every part learned with the model."""

    kind = "mixture"

    def __init__(self, latent_dim: int, components: int):
        super().__init__()
        self.latent_dim = latent_dim
        # means drawn from N(0, I), unit variances: the classic prior's scale (the start's marginal
        # variance is 2; starting at exactly N(0, I), variances 1/2, measured no better)
        self.means = nn.Parameter(torch.randn(components, latent_dim))
        self.log_var = nn.Parameter(torch.zeros(components, latent_dim))
        self.logits = nn.Parameter(torch.zeros(components))

    def _parts(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        return self.means.float(), self.log_var.float().clamp(*_LOG_VAR_RANGE), torch.log_softmax(self.logits.float(), 0)

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """log p(z) for z (..., D). The squared distances to all K means are two matrix products,
        not a (N, K, D) tensor: the step's cost stays that of the batch, whatever K is. Always in
        float32: in bf16 the expanded square would lose tens of nats."""
        m, lv, log_pi = self._parts()
        shape = z.shape[:-1]
        with torch.autocast(z.device.type, enabled=False):
            z2 = z.float().reshape(-1, self.latent_dim)
            inv = torch.exp(-lv)  # (K, D)
            quad = z2.pow(2) @ inv.T - 2.0 * (z2 @ (m * inv).T) + (m.pow(2) * inv).sum(1)
            per = log_pi - 0.5 * (quad + lv.sum(1) + self.latent_dim * _LOG_2PI)
            return torch.logsumexp(per, -1).reshape(shape)

    def kl(self, mu: torch.Tensor, logvar: torch.Tensor, z: torch.Tensor | None = None) -> torch.Tensor:
        """-H[q(z|x)] - E log p(z) per image, (B,): the entropy of the Gaussian q in closed form,
        the cross-entropy averaged over the draws ``z`` ((B, D), or (S, B, D) for S of them).
        Unbiased, and with less variance than log q(z) - log p(z)."""
        if z is None:
            raise ValueError("the KL to a mixture prior is estimated at a sampled z")
        neg_entropy = -0.5 * (_LOG_2PI + 1.0 + logvar.float()).sum(-1)
        return neg_entropy - self.log_prob(z).reshape(-1, mu.shape[0]).mean(0)

    def kl_per_dim(self, mu: torch.Tensor, logvar: torch.Tensor, z: torch.Tensor | None = None) -> torch.Tensor:
        """Per dimension, the KL to the prior's marginal in that dimension (a 1-D mixture), one
        sample, (B, D). What the per-dimension chart and the collapse warning need: a dimension
        the codes do not use costs nothing. Unlike the standard prior's, the dimensions' values
        need not add up to the KL (the mixture couples them). Costs (B, K, D): not for every step."""
        if z is None:
            raise ValueError("the KL to a mixture prior is estimated at a sampled z")
        m, lv, log_pi = self._parts()
        z, mu, logvar = z.float(), mu.float(), logvar.float()
        out = []
        for i in range(0, z.shape[0], 256):
            zi = z[i : i + 256, None, :]  # (b, 1, D)
            log_p = torch.logsumexp(log_pi[None, :, None] + log_normal(zi, m[None], lv[None]), 1)
            out.append(-0.5 * (_LOG_2PI + 1.0 + logvar[i : i + 256]) - log_p)
        return torch.cat(out) if out else torch.zeros_like(mu)

    def sample(self, n: int, temperature: float = 1.0, generator: torch.Generator | None = None) -> np.ndarray:
        """(n, D) float32 codes; ``temperature`` scales every component's spread."""
        return self.mixture().sample(n, temperature, generator)

    def mixture(self):
        from .sampler import GaussianMixture

        m, lv, log_pi = (t.detach().double().cpu() for t in self._parts())
        covs = torch.diag_embed(lv.exp())
        return GaussianMixture(log_pi.exp().numpy(), m.numpy(), covs.numpy())


def build_prior(kind: str, latent_dim: int, components: int) -> nn.Module:
    if kind == "standard":
        return StandardNormalPrior(latent_dim)
    if kind == "mixture":
        return MixturePrior(latent_dim, components)
    raise ValueError(f"prior must be one of {', '.join(PRIORS)} (got {kind!r})")
