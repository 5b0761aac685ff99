"""How good a 2-D map is, as one number: the k-nearest-neighbour class accuracy of held-out points.

Each held-out image's 2-D point takes the majority class of its k nearest training points in
the same view (ties go to the class of the nearest among the tied). The same figure for a 2-D
PCA of the raw pixels is the yardstick a VAE's map has to beat, and, when an optional package
for it is installed, so are UMAP (``umap-learn``) and t-SNE (``openTSNE``) of the pixels.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field

import numpy as np
import torch

from .data import Dataset, Split
from .sampler import posterior_means

DEFAULT_K = 5
MAX_REFERENCE_POINTS = 20_000  # training points the neighbours are sought among; more change little


def knn_accuracy(train_xy, train_labels, test_xy, test_labels, k: int = DEFAULT_K, chunk: int = 2048) -> float:
    """Fraction of the test points whose k nearest training points' majority class is their own."""
    a = np.asarray(train_xy, dtype=np.float64)
    b = np.asarray(test_xy, dtype=np.float64)
    ya = np.asarray(train_labels).reshape(-1).astype(np.int64)
    yb = np.asarray(test_labels).reshape(-1).astype(np.int64)
    if len(a) != len(ya) or len(b) != len(yb):
        raise ValueError("every point needs a label")
    if len(a) == 0 or len(b) == 0:
        raise ValueError("k-NN accuracy needs training and test points")
    k = max(1, min(int(k), len(a)))
    n_classes = int(max(ya.max(), yb.max())) + 1
    correct = 0
    a2 = (a * a).sum(1)
    for i in range(0, len(b), chunk):
        q = b[i : i + chunk]
        d = a2[None, :] - 2.0 * q @ a.T  # the squared distance, less |q|^2, which does not reorder a row
        nearest = np.argpartition(d, k - 1, axis=1)[:, :k]
        order = np.argsort(np.take_along_axis(d, nearest, 1), axis=1, kind="stable")
        votes = ya[np.take_along_axis(nearest, order, 1)]  # (q, k), nearest first
        counts = np.zeros((len(q), n_classes), dtype=np.int64)
        np.add.at(counts, (np.arange(len(q))[:, None], votes), 1)
        best = counts.max(1, keepdims=True)
        # among the tied classes, the one of the nearest neighbour: its first place in the vote order
        tied = counts[np.arange(len(q))[:, None], votes] == best
        winner = votes[np.arange(len(q)), tied.argmax(1)]
        correct += int((winner == yb[i : i + chunk]).sum())
    return correct / len(b)


def pixels(split: Split) -> np.ndarray:
    """A split's images as float rows (N, C*H*W) in [0, 1]."""
    return split.images.reshape(len(split), -1).numpy().astype(np.float32) / 255.0


def pca_2d(train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both sets in the plane of the training rows' first two principal components."""
    mean = train.mean(0, keepdims=True)
    _, _, vt = np.linalg.svd((train - mean).astype(np.float64), full_matrices=False)
    w = vt[:2].T
    return (train - mean) @ w, (test - mean) @ w


def optional_methods() -> list[str]:
    """The pixel embeddings whose package is installed, of "umap" and "tsne"."""
    found = []
    if importlib.util.find_spec("umap") is not None:
        found.append("umap")
    if importlib.util.find_spec("openTSNE") is not None:
        found.append("tsne")
    return found


def embed_2d(method: str, train: np.ndarray, test: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Training and test rows in 2-D: "pca", or "umap" / "tsne" fitted on the training rows and
    then applied to the test rows (both can place new points in a fitted map)."""
    if method == "pca":
        return pca_2d(train, test)
    if method == "umap":
        import umap

        fitted = umap.UMAP(n_components=2, random_state=seed).fit(train)
        return fitted.embedding_, fitted.transform(test)
    if method == "tsne":
        from openTSNE import TSNE

        fitted = TSNE(n_components=2, random_state=seed).fit(train)
        return np.asarray(fitted), np.asarray(fitted.transform(test))
    raise ValueError(f"unknown embedding {method!r}")


@dataclass(frozen=True)
class MapQuality:
    """k-NN class accuracy (0 to 1) of held-out points in each 2-D view."""

    k: int
    latent: float | None  # the VAE's shown view; None when not measured
    baselines: dict[str, float] = field(default_factory=dict)  # "pca", and "umap" / "tsne" when installed


def _subsample(split: Split, limit: int, seed: int) -> Split:
    if len(split) <= limit:
        return split
    idx = torch.from_numpy(np.sort(np.random.default_rng(seed).choice(len(split), limit, replace=False)))
    return split.subset(idx)


def pixel_baselines(dataset: Dataset, k: int = DEFAULT_K, methods=None, max_train: int = MAX_REFERENCE_POINTS,
                    seed: int = 0) -> dict[str, float]:
    """k-NN accuracy of held-out points in 2-D maps of the raw pixels: PCA, and the optional ones."""
    train = _subsample(dataset.train, max_train, seed)
    tr, te = pixels(train), pixels(dataset.test)
    out = {}
    for method in methods if methods is not None else ["pca", *optional_methods()]:
        a, b = embed_2d(method, tr, te, seed)
        out[method] = knn_accuracy(a, train.labels.numpy(), b, dataset.test.labels.numpy(), k)
    return out


def latent_view_accuracy(model, dataset: Dataset, matrix=None, center=None, k: int = DEFAULT_K,
                         max_train: int = MAX_REFERENCE_POINTS, seed: int = 0, device="cpu") -> float:
    """k-NN accuracy of the held-out posterior means in a 2-D view ``(mu - center) @ matrix.T``
    (a :class:`~vae_studio.core.projection.Projection`'s matrix and centre; default the first two
    dimensions), among the training set's means in the same view."""
    train = _subsample(dataset.train, max_train, seed)
    mu_train = posterior_means(model, train, device).astype(np.float64)
    mu_test = posterior_means(model, dataset.test, device).astype(np.float64)
    d = mu_train.shape[1]
    if matrix is None:
        matrix = np.eye(d)[: min(2, d)]
    matrix = np.asarray(matrix, dtype=np.float64)
    center = np.zeros(d) if center is None else np.asarray(center, dtype=np.float64)
    return knn_accuracy((mu_train - center) @ matrix.T, train.labels.numpy(),
                        (mu_test - center) @ matrix.T, dataset.test.labels.numpy(), k)


def map_quality(model, dataset: Dataset, matrix=None, center=None, k: int = DEFAULT_K, methods=None,
                seed: int = 0) -> MapQuality:
    """The shown view's figure beside those of the pixel maps."""
    return MapQuality(k, latent_view_accuracy(model, dataset, matrix, center, k, seed=seed),
                      pixel_baselines(dataset, k, methods, seed=seed))
