"""Exploring a trained latent space: 2-D views, decoding, grids, interpolation, one-off encodes.

Everything here is plain NumPy and PyTorch, so a notebook can draw the same figures as the
window. Images come back as float32 arrays in [0, 1], shape (N, H, W) for one-channel data and
(N, C, H, W) otherwise; ``tile`` turns a batch into one picture.

A :class:`Projection` maps codes z (D dims) to a 2-D view and back. Both kinds of view, two
chosen dimensions or the first two principal components of the encoder means, are an
orthonormal 2 x D matrix W and a centre c: ``view = (z - c) W^T``. That one form makes the
inverse, the prior's contours and posterior ellipses the same code for both.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from .config import ModelConfig
from .losses import kl_per_dim, recon_nll
from .models import VAE, build_model

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
        mu = np.asarray(mu, dtype=np.float64).reshape(-1)
        var = np.exp(np.asarray(logvar, dtype=np.float64).reshape(-1))
        cov = (self.matrix * var[None, :]) @ self.matrix.T  # W diag(sigma^2) W^T
        centre = self.to_view(mu)
        t = np.linspace(0, 2 * math.pi, n)
        if self.rank == 1:
            s = k * math.sqrt(cov[0, 0])
            return np.column_stack([centre[0] + s * np.cos(t), centre[1] + 0.0 * t])
        evals, evecs = np.linalg.eigh(cov)
        circle = np.column_stack([np.cos(t), np.sin(t)]) * (k * np.sqrt(np.maximum(evals, 0)))[None, :]
        return centre[None, :] + circle @ evecs.T


# -- a CPU copy of the model ----------------------------------------------------------------
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


# -- decoding and grids ---------------------------------------------------------------------
def _label_tensor(model: VAE, label: int | None, n: int) -> torch.Tensor | None:
    if not model.conditional:
        return None
    if label is None:
        raise ValueError("a conditional model decodes for a chosen class: pass label=")
    return torch.full((n,), int(label), dtype=torch.long)


def _images(mean: torch.Tensor) -> np.ndarray:
    out = mean.float().numpy()
    return out[:, 0] if out.shape[1] == 1 else out


def decode(model: VAE, z: np.ndarray, label: int | None = None) -> np.ndarray:
    """Mean images for codes ``z`` (N, D) or (D,): float32 in [0, 1], (N, H, W)."""
    z = np.asarray(z, dtype=np.float32)
    z = z.reshape(1, -1) if z.ndim == 1 else z
    with torch.inference_mode():
        t = torch.from_numpy(np.ascontiguousarray(z))
        return _images(torch.sigmoid(model.decode(t, _label_tensor(model, label, len(z))).float()))


def prior_samples(model: VAE, n: int = 64, label: int | None = None, seed: int = 0) -> np.ndarray:
    """``n`` decoded draws z ~ N(0, I), reproducible for a seed."""
    g = torch.Generator().manual_seed(int(seed))
    z = torch.randn(n, model.cfg.latent_dim, generator=g).numpy()
    return decode(model, z, label)


def manifold_codes(
    projection: Projection,
    x_range: tuple[float, float],
    y_range: tuple[float, float],
    n: int = 20,
    base_z: np.ndarray | None = None,
) -> np.ndarray:
    """(n*n, D) codes on a regular n x n grid over a view rectangle, in reading order.

    Row 0 is the top of the rectangle (largest y), so the tiled picture has the map's
    orientation. Cell centres are used, so neighbouring rectangles tile without repeats.
    """
    xs = _cell_centres(x_range, n)
    ys = _cell_centres(y_range, n)[::-1]
    gx, gy = np.meshgrid(xs, ys)
    return projection.to_latent(np.column_stack([gx.ravel(), gy.ravel()]), base_z)


def _cell_centres(r: tuple[float, float], n: int) -> np.ndarray:
    lo, hi = float(r[0]), float(r[1])
    return lo + (np.arange(n) + 0.5) * (hi - lo) / n


def manifold_grid(
    model: VAE,
    projection: Projection,
    x_range: tuple[float, float],
    y_range: tuple[float, float],
    n: int = 20,
    base_z: np.ndarray | None = None,
    label: int | None = None,
) -> np.ndarray:
    """Kingma and Welling's figure: decode a regular grid over a rectangle of the 2-D view."""
    return decode(model, manifold_codes(projection, x_range, y_range, n, base_z), label)


def traversal_codes(z: np.ndarray, dims: Sequence[int] | None = None, steps: int = 7, span: float = 3.0) -> np.ndarray:
    """(len(dims) * steps, D): for each dimension, the code z with that one coordinate swept
    over [-span, +span] and the others fixed."""
    z = np.asarray(z, dtype=np.float64).reshape(-1)
    dims = list(range(len(z))) if dims is None else [int(d) for d in dims]
    values = np.linspace(-span, span, steps)
    codes = np.repeat(z[None, :], len(dims) * steps, axis=0)
    for r, d in enumerate(dims):
        codes[r * steps : (r + 1) * steps, d] = values
    return codes


def traversal_grid(
    model: VAE,
    z: np.ndarray,
    dims: Sequence[int] | None = None,
    steps: int = 7,
    span: float = 3.0,
    label: int | None = None,
) -> np.ndarray:
    """Decoded traversals, one row of ``steps`` images per dimension in ``dims``."""
    return decode(model, traversal_codes(z, dims, steps, span), label)


def slerp(z0: np.ndarray, z1: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Spherical interpolation (Shoemake 1985; White 2016 for generative models).

    Follows the great circle between the directions of z0 and z1 while the norm changes
    smoothly, so intermediate codes keep the typical norm of a Gaussian sample instead of
    passing near the origin. Falls back to a straight line for (anti)parallel endpoints.
    """
    z0 = np.asarray(z0, dtype=np.float64).reshape(-1)
    z1 = np.asarray(z1, dtype=np.float64).reshape(-1)
    t = np.asarray(t, dtype=np.float64).reshape(-1, 1)
    n0, n1 = np.linalg.norm(z0), np.linalg.norm(z1)
    if n0 < 1e-8 or n1 < 1e-8:
        return (1 - t) * z0 + t * z1
    cos = np.clip(z0 @ z1 / (n0 * n1), -1.0, 1.0)
    omega = math.acos(cos)
    so = math.sin(omega)
    if so < 1e-6:
        return (1 - t) * z0 + t * z1
    return (np.sin((1 - t) * omega) / so) * z0 + (np.sin(t * omega) / so) * z1


def interpolate(z0: np.ndarray, z1: np.ndarray, steps: int = 10, method: str = "linear") -> np.ndarray:
    """(steps, D) codes from z0 to z1 inclusive, on a straight line or by slerp."""
    if steps < 2:
        raise ValueError("an interpolation needs at least 2 steps")
    t = np.linspace(0.0, 1.0, steps)
    if method == "linear":
        a = np.asarray(z0, dtype=np.float64).reshape(1, -1)
        b = np.asarray(z1, dtype=np.float64).reshape(1, -1)
        return (1 - t[:, None]) * a + t[:, None] * b
    if method == "slerp":
        return slerp(z0, z1, t)
    raise ValueError(f"method must be 'linear' or 'slerp' (got {method!r})")


def interpolation_strip(
    model: VAE, z0: np.ndarray, z1: np.ndarray, steps: int = 10, method: str = "linear", label: int | None = None
) -> np.ndarray:
    return decode(model, interpolate(z0, z1, steps, method), label)


def tile(images: np.ndarray, nrow: int, padding: int = 2, pad_value: float = 1.0) -> np.ndarray:
    """A batch (N, H, W) or (N, C, H, W) laid out ``nrow`` images per row: one (H', W') or
    (C, H', W') float32 picture with ``padding`` pixels of ``pad_value`` between and around."""
    from torchvision.utils import make_grid  # only needed here; keeps `import core` light

    a = np.asarray(images, dtype=np.float32)
    one_channel = a.ndim == 3
    t = torch.from_numpy(np.ascontiguousarray(a[:, None] if one_channel else a))
    if len(t) == 0:
        return np.zeros((0, 0), dtype=np.float32)
    # make_grid turns one channel into three; ask for one row of N if nrow exceeds N
    grid = make_grid(t, nrow=max(1, int(nrow)), padding=padding, pad_value=pad_value).numpy()
    return grid[0] if one_channel else grid


# -- encoding a single new image ------------------------------------------------------------
def encode(model: VAE, images: np.ndarray, label: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Posterior parameters for float images in [0, 1], (N, H, W) or (H, W): mu, logvar (N, D)."""
    x = _as_batch(images, model)
    with torch.inference_mode():
        mu, logvar = model.encode(x, _label_tensor(model, label, len(x)))
    return mu.float().numpy(), logvar.float().numpy()


def _as_batch(images: np.ndarray, model: VAE) -> torch.Tensor:
    a = np.asarray(images, dtype=np.float32)
    shape = model.cfg.image_shape
    if a.ndim == len(shape) - 1 or a.ndim == 2:
        a = a[None]
    if a.ndim == 3 and shape[0] == 1:
        a = a[:, None]
    if tuple(a.shape[1:]) != tuple(shape):
        raise ValueError(f"the model takes images of shape {shape}, got {a.shape[1:]}")
    return torch.from_numpy(np.ascontiguousarray(a))


def neg_elbo(
    model: VAE, image: np.ndarray, label: int | None = None, samples: int = 64, seed: int = 0
) -> tuple[float, float, float]:
    """(-ELBO, recon, KL) in nats for one image in [0, 1], averaged over ``samples`` draws of z.

    Lower means the model finds the image more typical of what it was trained on.
    """
    x = _as_batch(image, model)[:1]
    y = _label_tensor(model, label, 1)
    g = torch.Generator().manual_seed(int(seed))
    with torch.inference_mode():
        mu, logvar = model.encode(x, y)
        mu, logvar = mu.float(), logvar.float()
        eps = torch.randn(samples, mu.shape[1], generator=g)
        z = mu + eps * torch.exp(0.5 * logvar)
        yk = None if y is None else y.expand(samples)
        rec = recon_nll(model.decode(z, yk), x.expand(samples, *x.shape[1:]), model.cfg.likelihood, model.log_sigma)
        kl = kl_per_dim(mu, logvar).sum()
    r, k = float(rec.mean()), float(kl)
    return r + k, r, k


def center_like_mnist(image: np.ndarray, size: int = 28, box: int = 20, threshold: float = 0.05) -> np.ndarray:
    """A large drawing (H, W) in [0, 1], ink high -> (size, size) the way MNIST was made.

    MNIST's digits were scaled to fit a 20 x 20 box keeping their aspect ratio, with
    anti-aliasing, then placed in 28 x 28 so that the centre of mass sits in the middle.
    An empty drawing gives an empty image.
    """
    a = np.asarray(image, dtype=np.float32)
    ys, xs = np.nonzero(a > threshold)
    out = np.zeros((size, size), dtype=np.float32)
    if len(ys) == 0:
        return out
    crop = a[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    h, w = crop.shape
    scale = box / max(h, w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    t = torch.from_numpy(np.ascontiguousarray(crop))[None, None]
    small = F.interpolate(t, size=(nh, nw), mode="area" if scale < 1 else "bilinear", **({} if scale < 1 else {"align_corners": False}))
    small = small[0, 0].clamp(0, 1).numpy()
    mass = small.sum()
    if mass <= 0:
        return out
    cy = (small.sum(1) * np.arange(nh)).sum() / mass
    cx = (small.sum(0) * np.arange(nw)).sum() / mass
    top = int(round((size - 1) / 2 - cy))
    left = int(round((size - 1) / 2 - cx))
    top = min(max(top, 0), size - nh)
    left = min(max(left, 0), size - nw)
    out[top : top + nh, left : left + nw] = small
    return out


def neg_elbo_each(model: VAE, images: np.ndarray, labels: np.ndarray | None = None, seed: int = 0, batch: int = 1024) -> np.ndarray:
    """Single-sample -ELBO in nats for each image of a batch (N,): a reference for what is typical."""
    x_all = _as_batch(images, model)
    g = torch.Generator().manual_seed(int(seed))
    out = []
    with torch.inference_mode():
        for i in range(0, len(x_all), batch):
            x = x_all[i : i + batch]
            y = None
            if model.conditional:
                if labels is None:
                    raise ValueError("a conditional model needs the images' labels")
                y = torch.as_tensor(np.asarray(labels[i : i + batch]), dtype=torch.long)
            mu, logvar = model.encode(x, y)
            mu, logvar = mu.float(), logvar.float()
            z = mu + torch.randn(mu.shape, generator=g) * torch.exp(0.5 * logvar)
            rec = recon_nll(model.decode(z, y), x, model.cfg.likelihood, model.log_sigma)
            out.append((rec + kl_per_dim(mu, logvar).sum(1)).numpy())
    return np.concatenate(out) if out else np.zeros(0, dtype=np.float32)


# -- conditional models: one code under every label -----------------------------------------
def _classes(model: VAE, labels: Sequence[int] | None) -> list[int]:
    if not model.conditional:
        raise ValueError("label sweeps and style transfer need a conditional model")
    return list(range(model.cfg.num_classes)) if labels is None else [int(c) for c in labels]


def label_sweep(model: VAE, z: np.ndarray, labels: Sequence[int] | None = None) -> np.ndarray:
    """Each code of ``z`` (N, D) or (D,) decoded under every label: (N * len(labels), H, W),
    one row per code. The code carries the style; the label picks the class."""
    z = np.asarray(z, dtype=np.float32)
    z = z.reshape(1, -1) if z.ndim == 1 else z
    classes = _classes(model, labels)
    codes = np.repeat(z, len(classes), axis=0)
    ys = torch.as_tensor(np.tile(classes, len(z)), dtype=torch.long)
    with torch.inference_mode():
        out = model.decode(torch.from_numpy(np.ascontiguousarray(codes)), ys)
    return _images(torch.sigmoid(out.float()))


def style_transfer(
    model: VAE, images: np.ndarray, labels: Sequence[int], targets: Sequence[int] | None = None
) -> np.ndarray:
    """The CVAE analogy figure (Kingma et al. 2014, fig. 1): encode each image with its own label,
    then decode its posterior mean under every target label. (N * len(targets), H, W), one row
    per image: the same handwriting drawn as each class."""
    x = _as_batch(images, model)
    if len(labels) != len(x):
        raise ValueError(f"need one label per image (got {len(labels)} labels for {len(x)} images)")
    classes = _classes(model, targets)
    with torch.inference_mode():
        mu, _ = model.encode(x, torch.as_tensor(np.asarray(labels), dtype=torch.long))
    return label_sweep(model, mu.float().numpy(), classes)


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
