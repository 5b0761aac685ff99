"""An invertible 2-D view of a latent space, for the explorer's map.

Both kinds of view, two chosen dimensions or the first two principal components of the encoder
means, are an orthonormal 2 x D matrix W and a centre c: ``view = (z - c) W^T``. That one form
makes the inverse, the prior's contours and posterior ellipses the same code for both.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

MODES = ("dims", "pca")


class Projection:
    """An invertible 2-D view of a D-dimensional latent space.

    ``to_latent(to_view(z), base_z=z) == z`` and ``to_view(to_latent(xy, base)) == xy``: a point
    in the view fixes the two in-plane coordinates; everything orthogonal to the view plane is
    taken from ``base_z`` (by default the centre: the probe mean for PCA, 0 for chosen dims).
    """

    def __init__(self, latent_dim: int, mode: str = "dims", dims: tuple[int, int] = (0, 1)):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)} (got {mode!r})")
        if latent_dim < 1:
            raise ValueError("latent_dim must be >= 1")
        self.latent_dim = int(latent_dim)
        self.mode = mode
        self.dims = (0, 0)
        self.center = np.zeros(self.latent_dim, dtype=np.float64)
        self.explained_variance_ratio: np.ndarray | None = None  # (2,), PCA only
        self._last_pca: np.ndarray | None = None
        first = (0, min(1, self.latent_dim - 1))
        self.set_dims(*(dims if mode == "dims" else first))
        self.mode = mode  # a PCA view shows the first two dimensions until it is fitted

    # -- set-up ------------------------------------------------------------------------------
    @property
    def rank(self) -> int:
        """2, or 1 for a one-dimensional latent space (the view's y is then always 0)."""
        return self.matrix.shape[0]

    def _dims_matrix(self, i: int, j: int) -> np.ndarray:
        rows = [i] if self.latent_dim == 1 else [i, j]
        m = np.zeros((len(rows), self.latent_dim), dtype=np.float64)
        m[np.arange(len(rows)), rows] = 1.0
        return m

    def _set_matrix(self, m: np.ndarray) -> None:
        self.matrix = m
        self._matrix32 = m.astype(np.float32)

    def set_dims(self, i: int, j: int) -> "Projection":
        d = self.latent_dim
        if d == 1:
            i = j = 0
        if not (0 <= i < d and 0 <= j < d):
            raise ValueError(f"dimensions must be between 0 and {d - 1} (got {i}, {j})")
        if i == j and d > 1:
            raise ValueError("the two view dimensions must differ")
        self.mode = "dims"
        self.dims = (int(i), int(j))
        self.center = np.zeros(d, dtype=np.float64)
        self.explained_variance_ratio = None
        self._set_matrix(self._dims_matrix(i, j))
        return self

    def fit(self, mu: np.ndarray) -> "Projection":
        """PCA view: refit the components to ``mu`` (N, D); a dims view ignores the data.

        Successive fits during training keep each component's sign pointing the way it did
        before, so the map does not mirror itself from one snapshot to the next.
        """
        if self.mode != "pca":
            return self
        mu = np.asarray(mu, dtype=np.float64)
        if mu.ndim != 2 or mu.shape[1] != self.latent_dim:
            raise ValueError(f"expected (N, {self.latent_dim}) encoder means, got {mu.shape}")
        if self.latent_dim == 1 or len(mu) < 2:
            self.center = mu.mean(0) if len(mu) else np.zeros(self.latent_dim)
            self.explained_variance_ratio = np.ones(self.rank) if self.latent_dim == 1 else np.array([0.5, 0.5])
            return self
        self.center = mu.mean(0)
        x = mu - self.center
        # eigenvectors of the D x D scatter matrix: the same axes as an SVD of the (N, D) data
        # at a fraction of the cost when N is thousands and D is small
        evals, evecs = np.linalg.eigh(x.T @ x)
        evals, evecs = np.maximum(evals[::-1], 0.0), evecs[:, ::-1]
        comps = evecs[:, :2].T.copy()
        old = self._last_pca
        if old is not None and old.shape == comps.shape:
            signs = np.sign(np.sum(old * comps, axis=1))
            comps *= np.where(signs == 0, 1.0, signs)[:, None]
        else:  # first fit: make the largest loading of each component positive, a stable convention
            big = np.argmax(np.abs(comps), axis=1)
            comps *= np.sign(comps[np.arange(2), big])[:, None]
        self._last_pca = comps
        var = evals
        total = var.sum()
        self.explained_variance_ratio = var[:2] / total if total > 0 else np.zeros(2)
        self._set_matrix(comps)
        return self

    @classmethod
    def pca(cls, mu: np.ndarray) -> "Projection":
        mu = np.asarray(mu)
        return cls(mu.shape[1], mode="pca").fit(mu)

    def set_mode(self, mode: str, mu: np.ndarray | None = None) -> "Projection":
        if mode == "dims":
            return self.set_dims(*self.dims)
        if mode != "pca":
            raise ValueError(f"mode must be one of {', '.join(MODES)} (got {mode!r})")
        self.mode = "pca"
        self._last_pca = None
        return self.fit(mu) if mu is not None else self

    # -- maps --------------------------------------------------------------------------------
    def to_view(self, z: np.ndarray) -> np.ndarray:
        """(N, D) or (D,) codes -> (N, 2) or (2,) view coordinates."""
        z = np.asarray(z)
        one = z.ndim == 1
        z2 = z.reshape(1, -1) if one else z
        if z2.dtype == np.float32:  # the map's 5,000 points: stay in float32, it is half the work
            xy = (z2 - self.center.astype(np.float32)) @ self._matrix32.T
        else:
            xy = (z2 - self.center) @ self.matrix.T
        if xy.shape[1] == 1:
            xy = np.hstack([xy, np.zeros_like(xy)])
        return xy[0] if one else xy

    def to_latent(self, xy: np.ndarray, base_z: np.ndarray | None = None) -> np.ndarray:
        """(N, 2) or (2,) view coordinates -> (N, D) or (D,) codes.

        The in-plane part comes from ``xy``; the part orthogonal to the view plane from
        ``base_z`` (default: the centre, i.e. the other principal components at their mean, or
        the other dimensions at 0).
        """
        xy = np.asarray(xy, dtype=np.float64)
        one = xy.ndim == 1
        xy2 = xy.reshape(1, -1)[:, : self.rank] if one else xy[:, : self.rank]
        base = self.center if base_z is None else np.asarray(base_z, dtype=np.float64).reshape(-1)
        if base.shape != (self.latent_dim,):
            raise ValueError(f"base_z must have {self.latent_dim} values (got {base.shape})")
        base_xy = (base - self.center) @ self.matrix.T
        z = base[None, :] + (xy2 - base_xy[None, :]) @ self.matrix
        return z[0] if one else z

    def axis_labels(self, with_variance: bool = False) -> tuple[str, str]:
        if self.mode == "pca":
            r = self.explained_variance_ratio
            if r is None or not with_variance:
                return "PC 1", ("PC 2" if self.rank > 1 else "")
            return f"PC 1 ({100 * r[0]:.0f}% of variance)", (f"PC 2 ({100 * r[1]:.0f}% of variance)" if self.rank > 1 else "")
        if self.latent_dim == 1:
            return "z1", ""
        return f"z{self.dims[0] + 1}", f"z{self.dims[1] + 1}"

    # -- shapes drawn on the map -------------------------------------------------------------
    def prior_contours(self, sigmas: Sequence[float] = (1.0, 2.0, 3.0), n: int = 129) -> list[np.ndarray]:
        """The k-sigma contours of the prior N(0, I) as it appears in this view, each (n, 2).

        W has orthonormal rows, so the prior's image in the view, W(z - c) with z ~ N(0, I), is
        exactly N(-Wc, I_2): circles of radius k about ``to_view(0)``. For a dims view that
        centre is the origin; for PCA it is where the origin of z space projects. They are
        contours of the 2-D marginal (39%, 86%, 99% of the prior's mass inside 1, 2, 3 sigma).
        A one-dimensional space gets the vertical lines x = +-k instead.
        """
        c = self.to_view(np.zeros(self.latent_dim))
        out = []
        for k in sigmas:
            if self.rank == 1:
                h = 0.5
                out.append(np.array([[c[0] - k, -h], [c[0] - k, h], [np.nan, np.nan], [c[0] + k, -h], [c[0] + k, h]]))
            else:
                t = np.linspace(0, 2 * math.pi, n)
                out.append(np.column_stack([c[0] + k * np.cos(t), c[1] + k * np.sin(t)]))
        return out

    def ellipse(self, mu: np.ndarray, logvar: np.ndarray, k: float = 1.0, n: int = 65) -> np.ndarray:
        """The k-sigma ellipse of the posterior N(mu, diag(exp(logvar))) in this view, (n, 2)."""
        var = np.exp(np.asarray(logvar, dtype=np.float64).reshape(-1))
        return self._ellipse(mu, np.diag(var), k, n)

    def prior_outlines(self, prior=None) -> list[np.ndarray]:
        """What the map draws for a model's prior (``model.prior``; None: N(0, I)): N(0, I)'s 1, 2
        and 3σ circles, or a learned mixture's ellipses (it moves as it trains) as one curve,
        NaN between them."""
        if prior is None or prior.kind == "standard":
            return self.prior_contours()
        gap = np.full((1, 2), np.nan)
        return [np.concatenate([np.vstack([e, gap]) for e in self.mixture_ellipses(prior.mixture())])]

    def mixture_ellipses(self, mixture, k: float = 1.0, n: int = 49, most: int = 20) -> list[np.ndarray]:
        """The k-sigma ellipses of the ``most`` heaviest components of a Gaussian mixture (a
        learned prior) in this view, heaviest first: a hundred overlapping outlines hide the points."""
        w = np.asarray(mixture.weights, dtype=np.float64)
        keep = np.argsort(-w)[:most]
        return [self._ellipse(mixture.means[i], mixture.covs[i], k, n) for i in keep]

    def _ellipse(self, mu: np.ndarray, cov_z: np.ndarray, k: float, n: int) -> np.ndarray:
        mu = np.asarray(mu, dtype=np.float64).reshape(-1)
        cov = self.matrix @ np.asarray(cov_z, dtype=np.float64) @ self.matrix.T  # W Sigma W^T
        centre = self.to_view(mu)
        t = np.linspace(0, 2 * math.pi, n)
        if self.rank == 1:
            s = k * math.sqrt(cov[0, 0])
            return np.column_stack([centre[0] + s * np.cos(t), centre[1] + 0.0 * t])
        evals, evecs = np.linalg.eigh(cov)
        circle = np.column_stack([np.cos(t), np.sin(t)]) * (k * np.sqrt(np.maximum(evals, 0)))[None, :]
        return centre[None, :] + circle @ evecs.T
