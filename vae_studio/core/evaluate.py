"""Held-out figures: -ELBO (recon, KL), the importance-weighted NLL bound, active units, KL per dim."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from .data import Split, to_float
from .errors import DataError
from .losses import recon_nll
from .models import VAE

_LOG_2PI = math.log(2 * math.pi)
ACTIVE_UNIT_THRESHOLD = 0.01  # Burda et al. 2015


@dataclass(frozen=True)
class EvalResult:
    recon: float
    kl: float
    neg_elbo: float
    kl_per_dim: tuple[float, ...]
    active_units: int
    mu_variance: tuple[float, ...]
    nll_iwae: float | None = None
    iwae_samples: int | None = None
    n_images: int = 0
    likelihood: str = "bernoulli"  # what the nats are measured against; compare only like with like

    def to_dict(self) -> dict:
        d = {
            "likelihood": self.likelihood,
            "neg_elbo": self.neg_elbo,
            "recon": self.recon,
            "kl": self.kl,
            "active_units": self.active_units,
            "kl_per_dim": list(self.kl_per_dim),
            "n_images": self.n_images,
        }
        if self.nll_iwae is not None:
            d["nll_iwae"] = self.nll_iwae
            d["iwae_samples"] = self.iwae_samples
        return d


def _batches(split: Split, device: torch.device, batch_size: int):
    for i in range(0, len(split), batch_size):
        x = to_float(split.images[i : i + batch_size].to(device))
        y = split.labels[i : i + batch_size].to(device)
        yield x, y


def _labels(model: VAE, y: torch.Tensor) -> torch.Tensor | None:
    return y if model.conditional else None


def active_units(mu: torch.Tensor, threshold: float = ACTIVE_UNIT_THRESHOLD) -> tuple[int, torch.Tensor]:
    """Dimensions whose posterior mean varies over the data: Var_x(E_q[z_i|x]) > threshold."""
    var = mu.double().var(0, unbiased=False) if mu.shape[0] > 1 else torch.zeros(mu.shape[1], dtype=torch.float64)
    return int((var > threshold).sum()), var


def posterior_sample(
    mu: torch.Tensor, logvar: torch.Tensor, samples: int = 1, generator: torch.Generator | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """``samples`` reparameterised draws z = mu + eps * sigma from q(z|x) = N(mu, diag(exp(logvar))),
    (samples, B, D), and the standard normal eps behind them."""
    eps = torch.randn((samples, *mu.shape), generator=generator, device=mu.device, dtype=mu.dtype)
    return mu + eps * torch.exp(0.5 * logvar), eps


def neg_elbo_per_image(
    model: VAE, x: torch.Tensor, y: torch.Tensor | None = None, samples: int = 1, generator: torch.Generator | None = None,
    per_dim: bool = False,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, torch.Tensor]:
    """The -ELBO's terms for each image of a batch: reconstruction and KL (B,), each averaged over
    ``samples`` draws of z (the standard prior's KL is exact), the KL per dimension (B, D) when
    ``per_dim`` (else None), and the posterior means (B, D). ``y``: the labels of a conditional
    model, else None."""
    mu, logvar = model.encode(x, y)
    mu, logvar = mu.float(), logvar.float()
    z, _ = posterior_sample(mu, logvar, samples, generator)
    b = x.shape[0]
    ys = None if y is None else y.repeat(samples)
    xs = x.expand(samples, *x.shape).reshape(samples * b, *x.shape[1:])
    rec = recon_nll(model.decode(z.reshape(samples * b, -1), ys), xs, model.cfg.likelihood, model.log_sigma)
    kl_d = model.prior.kl_per_dim(mu, logvar, z[0]) if per_dim else None
    return rec.view(samples, b).mean(0), model.prior.kl(mu, logvar, z), kl_d, mu


@torch.no_grad()
def elbo(
    model: VAE,
    split: Split,
    device: torch.device | str = "cpu",
    batch_size: int = 2048,
    generator: torch.Generator | None = None,
) -> tuple[float, float, torch.Tensor, torch.Tensor]:
    """Mean recon and KL (nats per image), KL per dimension, and all posterior means. Under a
    mixture prior the dimensions' KLs are each to the prior's marginal and need not add up to the KL."""
    device = torch.device(device)
    sums = torch.zeros(2, dtype=torch.float64, device=device)
    kl_dims = torch.zeros(model.cfg.latent_dim, dtype=torch.float64, device=device)
    mus = []
    for x, y in _batches(split, device, batch_size):
        rec, kl, kl_d, mu = neg_elbo_per_image(model, x, _labels(model, y), generator=generator, per_dim=True)
        sums += torch.stack([rec.sum(), kl.sum()]).double()
        kl_dims += kl_d.sum(0).double()
        mus.append(mu.cpu())
    n = max(1, len(split))
    recon, kl = (sums / n).tolist()
    return recon, kl, (kl_dims / n).float().cpu(), torch.cat(mus) if mus else torch.zeros(0, model.cfg.latent_dim)


@torch.no_grad()
def iwae_nll(
    model: VAE,
    split: Split,
    k: int,
    device: torch.device | str = "cpu",
    generator: torch.Generator | None = None,
    max_decodes: int = 8192,
) -> float:
    """Importance-weighted estimate of -log p(x) with k samples (Burda et al. 2015), nats per image.

    -log (1/k sum_i p(x, z_i) / q(z_i | x)), z_i ~ q(z | x), computed with log-sum-exp. k = 1 is the
    single-sample -ELBO; the estimate tightens towards the true NLL as k grows.
    """
    if k < 1:
        raise ValueError("k must be >= 1")
    device = torch.device(device)
    batch = max(1, max_decodes // k)
    acc = torch.zeros((), dtype=torch.float64, device=device)
    for x, y in _batches(split, device, batch):
        b = x.shape[0]
        mu, logvar = model.encode(x, _labels(model, y))
        mu, logvar = mu.float(), logvar.float()
        z, eps = posterior_sample(mu, logvar, k, generator)  # (k, b, D)
        log_q = (-0.5 * (eps.pow(2) + logvar + _LOG_2PI)).sum(-1)
        log_p_z = model.prior.log_prob(z)
        yk = None if not model.conditional else y.repeat(k)
        logits = model.decode(z.reshape(k * b, -1), yk)
        xk = x.expand(k, *x.shape).reshape(k * b, *x.shape[1:])
        log_px_z = -recon_nll(logits, xk, model.cfg.likelihood, model.log_sigma).view(k, b)
        log_w = log_px_z + log_p_z - log_q
        acc += -(torch.logsumexp(log_w.double(), dim=0) - math.log(k)).sum()
    return float(acc) / max(1, len(split))


def evaluate(
    model: VAE,
    split: Split,
    device: torch.device | str = "cpu",
    iwae_samples: int | None = None,
    seed: int = 0,
    binarize: bool = False,
) -> EvalResult:
    """``binarize``: score a fixed 0/1 draw of the pixels, as for a model trained on binarised data."""
    from .config import likelihood_label
    from .data import binarized

    device = torch.device(device)
    if model.conditional and len(split) and int(split.labels.max()) >= model.cfg.num_classes:
        raise DataError(f"this conditional model was trained on {model.cfg.num_classes} classes, but the data has labels "
                        f"up to {int(split.labels.max())}; evaluate it on data with the classes it knows")
    if binarize:
        split = binarized(split, seed)
    was_training = model.training
    model.eval()
    try:
        gen = torch.Generator(device=device).manual_seed(seed)
        recon, kl, kl_d, mu = elbo(model, split, device, generator=gen)
        au, var = active_units(mu)
        nll = iwae_nll(model, split, iwae_samples, device, generator=gen) if iwae_samples else None
    finally:
        model.train(was_training)
    return EvalResult(
        recon=recon,
        kl=kl,
        neg_elbo=recon + kl,
        kl_per_dim=tuple(float(v) for v in kl_d),
        active_units=au,
        mu_variance=tuple(float(v) for v in var),
        nll_iwae=nll,
        iwae_samples=iwae_samples,
        n_images=len(split),
        likelihood=likelihood_label(model.cfg.likelihood, binarize),
    )




COLLAPSE_KL_NATS = 0.05  # a dimension carrying less than this is indistinguishable from the prior


def collapse_warning(kl_per_dim_values, active: int | None = None) -> str | None:
    """A message when the posterior has collapsed onto the prior, else None.

    Collapse: every dimension's KL is near 0, or no dimension's mean varies over the data. The
    decoder then ignores z, and every image decodes to the same average digit.
    """
    kl = np.asarray(kl_per_dim_values, dtype=float)
    if kl.size == 0:
        return None
    if (kl < COLLAPSE_KL_NATS).all() or active == 0:
        return (
            f"Posterior collapse: the KL is {kl.sum():.3f} nats over {kl.size} dimensions"
            f"{'' if active is None else f' and {active} units are active'}, so the decoder ignores z. "
            "Usual remedies: a KL warm-up, free bits, or a lower beta."
        )
    return None


@dataclass(frozen=True)
class Diagnosis:
    """What the window shows about a posterior while it trains."""

    active_units: int
    latent_dim: int
    mu_variance: tuple[float, ...]
    warning: str | None  # the collapse message, or None when the posterior carries information


def diagnose(kl_per_dim_values, mu) -> Diagnosis:
    """Active units of the encoder means ``mu`` (N, D) and the collapse check, in one call.

    ``kl_per_dim_values`` None: KL not measured yet (before the first held-out pass), so no
    warning; the active units alone are not enough evidence early in a run.
    """
    mu_t = torch.as_tensor(np.asarray(mu, dtype=np.float32))
    au, var = active_units(mu_t)
    warning = None if kl_per_dim_values is None else collapse_warning(kl_per_dim_values, au)
    return Diagnosis(au, int(mu_t.shape[1]), tuple(float(v) for v in var), warning)


def evaluate_weights(
    model_config, state: dict, split: Split, iwae_samples: int | None = None, max_images: int | None = None, seed: int = 0
) -> EvalResult:
    """:func:`evaluate` for a model given as a config and CPU weights (a snapshot or a bundle), on
    the CPU, on the first ``max_images`` images of ``split``: the same images for every run, so
    runs compare like with like."""
    from .models import build_model  # the module-level import is only a type

    model = build_model(model_config)
    model.load_state_dict(state)
    if max_images is not None and len(split) > max_images:
        split = split.subset(slice(0, max_images))
    return evaluate(model, split, "cpu", iwae_samples=iwae_samples, seed=seed)
