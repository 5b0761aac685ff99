"""The latent map's quality as a number, under the map: the 5-nearest-neighbour class accuracy
of the held-out points in the view shown, beside the same for a 2-D PCA of the raw pixels (and
UMAP or t-SNE of the pixels when their package is installed).

Each held-out point takes the majority class of its 5 nearest training points in the same 2-D
plane. Both figures are computed off the GUI thread: the training points' codes once per
snapshot (a change of view only reruns the neighbour vote), the pixel maps once per dataset, in
a job of their own so that their one-off cost never holds back the figure that follows the model.
"""

from __future__ import annotations

import numpy as np
import torch
from PySide6.QtWidgets import QLabel, QWidget

from ....core import explorer_state as S
from ....core.map_quality import DEFAULT_K, embed_2d, knn_accuracy, optional_methods, pixels
from ....core.models import build_model
from ....core.sampler import posterior_means
from ...background import LatestJob

REFERENCE_POINTS = 2000  # training points the neighbours are sought among, in every map alike
SHARE = 0.1  # while a model trains, the figure follows it with at most this share of the time
METHOD_NAMES = {"pca": "pixel PCA", "umap": "pixel UMAP", "tsne": "pixel t-SNE"}


def _reference_index(n: int) -> torch.Tensor:
    if n <= REFERENCE_POINTS:
        return torch.arange(n)
    return torch.sort(torch.randperm(n, generator=torch.Generator().manual_seed(0))[:REFERENCE_POINTS]).values


def measure(config, weights: dict, reference, probe_mu, probe_labels, matrix, center, train_mu=None,
            k: int = DEFAULT_K) -> tuple[np.ndarray, float]:
    """(training codes, accuracy of the view); the codes are computed only when not given. Runs
    in a worker thread with a private copy of the model."""
    if train_mu is None:
        model = build_model(config)
        model.load_state_dict(weights)
        model.eval().requires_grad_(False)
        train_mu = posterior_means(model, reference).astype(np.float64)
    view = lambda m: (m - center) @ matrix.T  # noqa: E731
    return train_mu, knn_accuracy(view(train_mu), reference.labels.numpy(), view(probe_mu), probe_labels, k)


def pixel_baselines(reference, probe_pixels, probe_labels, k: int = DEFAULT_K) -> dict[str, float]:
    """The same vote in 2-D maps of the raw pixels: PCA, and UMAP or t-SNE when installed."""
    ref_pixels, labels = pixels(reference), reference.labels.numpy()
    out = {}
    for method in ["pca", *optional_methods()]:
        a, b = embed_2d(method, ref_pixels, probe_pixels)
        out[method] = knn_accuracy(a, labels, b, probe_labels, k)
    return out


class MapQualityLabel(QLabel):
    def __init__(self, state: S.ExplorerState, parent: QWidget | None = None):
        super().__init__(" ", parent)
        self.state = state
        self.setObjectName("caption")
        self.setWordWrap(True)
        self.setToolTip(
            "How well the map keeps the classes apart: each held-out point is given the majority class of its "
            f"{DEFAULT_K} nearest training points in the same 2-D view, and the share it gets right is shown.\n"
            "Beside it, the same for a 2-D PCA of the raw pixels (and UMAP or t-SNE of the pixels when installed): "
            "what the VAE's map buys over classic dimension reduction.")
        self.job = LatestJob(self, max_share=SHARE)
        self.job.done.connect(self._on_latent)
        self.job.failed.connect(lambda _k, msg: self.setText(f"Map quality: cannot measure ({msg})"))
        self.baseline_job = LatestJob(self)
        self.baseline_job.done.connect(self._on_baselines)
        self._train_mu: tuple | None = None  # (model key, codes)
        self.latent: float | None = None
        self.latent_step: int | None = None
        self.baselines: dict[str, float] = {}
        self._shown_key = None
        self._baseline_key = None
        state.subscribe(self._on_state)

    def _keys(self):
        st = self.state
        snap = st.snapshot
        data_key = (id(st.train_split), id(st.probe_split), np.asarray(snap.probe_index).tobytes())
        p = st.projection
        return (id(snap), snap.step), data_key, (p.matrix.tobytes(), p.center.tobytes())

    def current(self) -> bool:
        """Whether the figures shown are those of the model and view shown."""
        return self._shown_key is not None and self._shown_key == self._keys() and self._baseline_key == self._keys()[1]

    def _on_state(self, changed: frozenset) -> None:
        if changed & {S.MODEL, S.PROJECTION, S.PROBES, S.SAMPLER, S.POINTS}:
            self.refresh()

    def refresh(self) -> None:
        st = self.state
        if st.model is None or st.train_split is None or st.projection is None or st.probe_count() == 0:
            self.job.cancel_pending()
            self._shown_key = None
            self.latent = self.latent_step = None
            self.setText(" ")
            return
        keys = self._keys()
        model_key, data_key, _ = keys
        n = st.probe_count()
        reference = None
        if data_key != self._baseline_key and self.baseline_job.running_key != data_key:
            reference = st.train_split.subset(_reference_index(len(st.train_split)))
            images, labels = st.probe_examples(np.arange(n))
            self.baselines = {}
            self.baseline_job.request(data_key, pixel_baselines, reference, images.reshape(n, -1), labels)
        if keys == self._shown_key or self.job.running_key == keys:
            return
        train_mu = self._train_mu[1] if self._train_mu and self._train_mu[0] == model_key else None
        if reference is None:
            reference = st.train_split.subset(_reference_index(len(st.train_split)))
        p, snap = st.projection, st.snapshot
        self.job.request(keys, measure, snap.model_config, snap.state, reference,
                         np.asarray(st.mu[:n], dtype=np.float64), np.asarray(st.labels[:n]), p.matrix.copy(),
                         p.center.copy(), train_mu, throttled=train_mu is None)

    def _on_latent(self, keys, result) -> None:
        train_mu, latent = result
        self._train_mu = (keys[0], train_mu)
        self._shown_key = keys
        self.latent, self.latent_step = latent, keys[0][1]
        self._show()
        self.refresh()  # the view or the model may have moved on meanwhile

    def _on_baselines(self, data_key, baselines) -> None:
        self._baseline_key = data_key
        self.baselines = dict(baselines)
        self._show()

    def _show(self) -> None:
        if self.latent is None:
            return
        parts = [f"this view <b>{100 * self.latent:.0f}%</b>"]
        parts += [f"{METHOD_NAMES.get(m, m)} {100 * a:.0f}%" for m, a in self.baselines.items()]
        self.setText(f"{DEFAULT_K}-NN class accuracy at step {self.latent_step:,}: " + " · ".join(parts))
