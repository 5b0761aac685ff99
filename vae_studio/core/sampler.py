"""Sampling beyond the prior: a Gaussian mixture fitted to where the training data's codes are.

A VAE's aggregate posterior, the cloud of encoder means of the training set, does not fill the
prior N(0, I): it has holes and thin shells, and a prior draw that lands in a hole decodes to a
smudge. Ghosh et al. (2020, "From variational to deterministic autoencoders") fit a density to
the training set's posterior means after training and sample from that instead ("ex-post density
estimation"); with a 10-component full-covariance Gaussian mixture it improves sample quality
for every model they try. For a conditional model one mixture per class is fitted, so a draw for
label y comes from where the digits of class y put their style codes.

``temperature`` scales every component's spread (and the prior's): below 1 trades variety for
typicality. Plain NumPy/PyTorch: the mixture is fitted by EM in float64 on the CPU.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from .data import Split, to_float

SAMPLERS = ("prior", "posterior")
DEFAULT_COMPONENTS = 10  # as in Ghosh et al. 2020
CLASS_COMPONENTS = 3  # per class of a conditional model: each class has a tenth of the data
MAX_FIT_POINTS = 20_000  # EM cost grows with N; a random subset this large fits as well
_LOG_2PI = math.log(2 * math.pi)


@dataclass(frozen=True)
class GaussianMixture:
    weights: np.ndarray  # (K,)
    means: np.ndarray  # (K, D)
    covs: np.ndarray  # (K, D, D)

    @property
    def dim(self) -> int:
        return self.means.shape[1]

    @classmethod
    def fit(cls, x: np.ndarray, components: int = DEFAULT_COMPONENTS, iters: int = 100, tol: float = 1e-4,
            seed: int = 0) -> "GaussianMixture":
        """EM from a k-means++ start. Each covariance gets a small ridge (relative to the data's
        own variance), so a component on a handful of points never becomes singular."""
        x = torch.as_tensor(np.asarray(x, dtype=np.float64))
        if x.ndim != 2 or len(x) < 1:
            raise ValueError(f"expected (N, D) codes, got {tuple(x.shape)}")
        n, d = x.shape
        k = max(1, min(int(components), n))
        g = torch.Generator().manual_seed(seed)
        ridge = 1e-4 * float(x.var(0, unbiased=False).mean()) + 1e-6
        eye = torch.eye(d, dtype=torch.float64)
        means = _kmeans_pp(x, k, g)
        covs = (torch.cov(x.T).reshape(d, d) if n > 1 else torch.zeros(d, d, dtype=torch.float64)) + ridge * eye
        covs = covs.expand(k, d, d).clone()
        weights = torch.full((k,), 1.0 / k, dtype=torch.float64)
        prev = -math.inf
        for _ in range(iters):
            log_r = _component_log_prob(x, weights, means, covs)  # (N, K)
            ll = torch.logsumexp(log_r, 1)
            r = torch.exp(log_r - ll[:, None])
            nk = r.sum(0).clamp_min(1e-10)
            weights = nk / n
            means = (r.T @ x) / nk[:, None]
            diff = x[None, :, :] - means[:, None, :]  # (K, N, D)
            covs = torch.bmm((diff * r.T[:, :, None]).transpose(1, 2), diff) / nk[:, None, None] + ridge * eye
            mean_ll = float(ll.mean())
            if mean_ll - prev < tol:
                break
            prev = mean_ll
        return cls(weights.numpy(), means.numpy(), covs.numpy())

    def log_prob(self, z: np.ndarray, temperature: float = 1.0) -> np.ndarray:
        z = torch.as_tensor(np.asarray(z, dtype=np.float64)).reshape(-1, self.dim)
        covs = torch.as_tensor(self.covs) * temperature**2
        lp = _component_log_prob(z, torch.as_tensor(self.weights), torch.as_tensor(self.means), covs)
        return torch.logsumexp(lp, 1).numpy()

    def sample(self, n: int, temperature: float = 1.0, generator: torch.Generator | None = None) -> np.ndarray:
        if n <= 0:  # torch.multinomial refuses to draw nothing
            return np.zeros((0, self.dim), np.float32)
        w = torch.as_tensor(self.weights)
        comp = torch.multinomial(w / w.sum(), n, replacement=True, generator=generator)
        chol = torch.linalg.cholesky(torch.as_tensor(self.covs))
        eps = torch.randn(n, self.dim, generator=generator, dtype=torch.float64)
        z = torch.as_tensor(self.means)[comp] + temperature * torch.einsum("nde,ne->nd", chol[comp], eps)
        return z.numpy().astype(np.float32)

    def projected(self, matrix: np.ndarray, center: np.ndarray) -> "GaussianMixture":
        """The mixture as seen in a linear view ``(z - center) @ matrix.T``: each component's image
        is exactly N(W(mu - c), W Sigma W^T), so the view's density is the marginal, not a slice."""
        w = np.asarray(matrix, dtype=np.float64)
        means = (self.means - np.asarray(center, dtype=np.float64)) @ w.T
        covs = np.einsum("id,kde,je->kij", w, self.covs, w)
        return GaussianMixture(self.weights.copy(), means, covs)

    def to_dict(self) -> dict:
        return {"weights": torch.as_tensor(self.weights), "means": torch.as_tensor(self.means), "covs": torch.as_tensor(self.covs)}

    @classmethod
    def from_dict(cls, d: dict) -> "GaussianMixture":
        w, m, c = (np.asarray(d[k], dtype=np.float64) for k in ("weights", "means", "covs"))
        if w.ndim != 1 or m.shape[0] != len(w) or c.shape != (len(w), m.shape[1], m.shape[1]):
            raise ValueError("inconsistent Gaussian mixture shapes")
        return cls(w, m, c)


def _kmeans_pp(x: torch.Tensor, k: int, g: torch.Generator) -> torch.Tensor:
    centres = [x[torch.randint(len(x), (1,), generator=g)].reshape(-1)]
    d2 = ((x - centres[0]) ** 2).sum(1)
    for _ in range(1, k):
        p = d2 / d2.sum() if float(d2.sum()) > 0 else torch.full_like(d2, 1.0 / len(d2))
        c = x[torch.multinomial(p, 1, generator=g)].reshape(-1)
        centres.append(c)
        d2 = torch.minimum(d2, ((x - c) ** 2).sum(1))
    return torch.stack(centres)


def _component_log_prob(x: torch.Tensor, weights: torch.Tensor, means: torch.Tensor, covs: torch.Tensor) -> torch.Tensor:
    """log w_k + log N(x_n | mu_k, Sigma_k), shape (N, K)."""
    chol = torch.linalg.cholesky(covs)  # (K, D, D)
    diff = (x[None, :, :] - means[:, None, :]).transpose(1, 2)  # (K, D, N)
    sol = torch.linalg.solve_triangular(chol, diff, upper=False)  # (K, D, N)
    maha = sol.pow(2).sum(1)  # (K, N)
    logdet = 2 * torch.log(torch.diagonal(chol, dim1=1, dim2=2)).sum(1)  # (K,)
    d = x.shape[1]
    return (torch.log(weights.clamp_min(1e-300))[:, None] - 0.5 * (maha + logdet[:, None] + d * _LOG_2PI)).T


class PosteriorSampler:
    """One mixture over all codes, or one per class (``labels`` given to :meth:`fit`)."""

    def __init__(self, mixtures: dict[int | None, GaussianMixture], class_weights: dict[int, float] | None = None):
        self.mixtures = mixtures
        self.class_weights = class_weights or {}

    @property
    def per_class(self) -> bool:
        return None not in self.mixtures

    @property
    def dim(self) -> int:
        return next(iter(self.mixtures.values())).dim

    @classmethod
    def fit(cls, mu: np.ndarray, labels: np.ndarray | None = None, components: int | None = None,
            seed: int = 0) -> "PosteriorSampler":
        mu = np.asarray(mu, dtype=np.float64)
        rng = np.random.default_rng(seed)
        if labels is None:
            if len(mu) > MAX_FIT_POINTS:
                mu = mu[rng.choice(len(mu), MAX_FIT_POINTS, replace=False)]
            return cls({None: GaussianMixture.fit(mu, components or DEFAULT_COMPONENTS, seed=seed)})
        labels = np.asarray(labels).reshape(-1)
        if len(labels) != len(mu):
            raise ValueError(f"{len(mu)} codes but {len(labels)} labels")
        mixtures, weights = {}, {}
        for c in np.unique(labels):
            pts = mu[labels == c]
            if len(pts) > MAX_FIT_POINTS:
                pts = pts[rng.choice(len(pts), MAX_FIT_POINTS, replace=False)]
            # a component needs points enough to estimate its covariance
            k = max(1, min(components or CLASS_COMPONENTS, len(pts) // max(2, 2 * mu.shape[1])))
            mixtures[int(c)] = GaussianMixture.fit(pts, k, seed=seed)
            weights[int(c)] = float((labels == c).mean())
        return cls(mixtures, weights)

    def mixture(self, label: int | None = None) -> GaussianMixture:
        """The density codes of ``label`` are drawn from; None for a per-class sampler: all
        classes' components, weighted by how common each class is."""
        if not self.per_class:
            return self.mixtures[None]
        if label is not None:
            if int(label) not in self.mixtures:
                raise ValueError(f"no codes of class {label} were fitted (classes: {sorted(self.mixtures)})")
            return self.mixtures[int(label)]
        parts = [(self.class_weights.get(c, 1.0), m) for c, m in sorted(self.mixtures.items())]
        total = sum(w for w, _ in parts)
        return GaussianMixture(
            np.concatenate([w / total * m.weights for w, m in parts]),
            np.concatenate([m.means for _, m in parts]),
            np.concatenate([m.covs for _, m in parts]),
        )

    def sample(self, n: int, label: int | None = None, temperature: float = 1.0, seed: int = 0) -> np.ndarray:
        """(n, D) float32 codes."""
        g = torch.Generator().manual_seed(seed)
        return self.mixture(label).sample(n, temperature, g)

    def density_grid(self, xlim: tuple[float, float], ylim: tuple[float, float], n: int = 100,
                     matrix: np.ndarray | None = None, center: np.ndarray | None = None,
                     label: int | None = None, temperature: float = 1.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The fitted density on an n x n grid of a 2-D view, for contour lines.

        ``matrix`` (2, D) and ``center`` (D,) describe the view as ``(z - center) @ matrix.T`` (a
        :class:`~vae_studio.core.projection.Projection`'s ``matrix`` and ``center``); default: the
        first two dimensions. Returns x (n,), y (n,) and density (n, n) indexed [iy, ix]; for a
        latent space of more than two dimensions it is the marginal density in the view.
        """
        d = self.dim
        if matrix is None:
            rows = min(2, d)
            matrix = np.zeros((rows, d))
            matrix[np.arange(rows), np.arange(rows)] = 1.0
        center = np.zeros(d) if center is None else np.asarray(center, dtype=np.float64)
        view = self.mixture(label).projected(np.asarray(matrix, dtype=np.float64), center)
        xs = np.linspace(*xlim, n)
        ys = np.linspace(*ylim, n)
        gx, gy = np.meshgrid(xs, ys)
        pts = np.column_stack([gx.ravel(), gy.ravel()])[:, : view.dim]
        dens = np.exp(view.log_prob(pts, temperature)).reshape(n, n)
        return xs, ys, dens

    def to_dict(self) -> dict:
        """Tensors and plain values only, so it can live in a weights-only checkpoint."""
        return {
            "classes": [(-1 if c is None else c) for c in self.mixtures],
            "class_weights": [self.class_weights.get(c, 1.0) if c is not None else 1.0 for c in self.mixtures],
            "mixtures": [m.to_dict() for m in self.mixtures.values()],
        }

    @classmethod
    def from_dict(cls, d: dict) -> "PosteriorSampler":
        classes = [None if int(c) < 0 else int(c) for c in d["classes"]]
        mixtures = {c: GaussianMixture.from_dict(m) for c, m in zip(classes, d["mixtures"])}
        weights = {c: float(w) for c, w in zip(classes, d["class_weights"]) if c is not None}
        return cls(mixtures, weights)


@torch.no_grad()
def posterior_means(model, split: Split, device: torch.device | str = "cpu", batch_size: int = 2048) -> np.ndarray:
    """Encoder means of every image of ``split``, (N, D) float32."""
    device = torch.device(device)
    was_training = model.training
    model.eval()
    out = []
    try:
        for i in range(0, len(split), batch_size):
            x = to_float(split.images[i : i + batch_size].to(device))
            y = split.labels[i : i + batch_size].to(device) if model.conditional else None
            out.append(model.encode(x, y)[0].float().cpu())
    finally:
        model.train(was_training)
    return torch.cat(out).numpy() if out else np.zeros((0, model.cfg.latent_dim), np.float32)


def fit_posterior_sampler(model, split: Split, device: torch.device | str = "cpu", components: int | None = None,
                          seed: int = 0) -> PosteriorSampler:
    """The mixture of a trained model's training-set codes; per class for a conditional model."""
    mu = posterior_means(model, split, device)
    labels = split.labels.numpy() if model.conditional else None
    return PosteriorSampler.fit(mu, labels, components, seed=seed)


def sample_codes(sampler: str, n: int, latent_dim: int, *, posterior: PosteriorSampler | None = None,
                 label: int | None = None, temperature: float = 1.0, seed: int = 0, prior=None) -> np.ndarray:
    """(n, D) codes from the prior at temperature T or from the fitted mixture. ``prior``: the
    model's prior module (``model.prior``); None means N(0, I)."""
    if sampler not in SAMPLERS:
        raise ValueError(f"sampler must be one of {', '.join(SAMPLERS)} (got {sampler!r})")
    if not (math.isfinite(temperature) and temperature > 0):
        raise ValueError(f"temperature must be a positive number (got {temperature})")
    if sampler == "prior":
        from .prior import StandardNormalPrior

        return (prior if prior is not None else StandardNormalPrior(latent_dim)).sample(n, temperature, torch.Generator().manual_seed(seed))
    if posterior is None:
        raise ValueError("the posterior sampler needs a fitted PosteriorSampler")
    return posterior.sample(n, label, temperature, seed)
