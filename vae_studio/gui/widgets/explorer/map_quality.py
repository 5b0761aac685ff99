"""The latent map's quality as a number, under the map: the 5-nearest-neighbour class accuracy
of the held-out points in the view shown, beside the same for a 2-D PCA of the raw pixels (and
UMAP or t-SNE of the pixels when their package is installed).

Each held-out point takes the majority class of its 5 nearest training points in the same 2-D
plane. The training points' codes are computed off the GUI thread once per snapshot, and the
pixel maps once per dataset; a change of view only reruns the neighbour vote.
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


def measure(config, weights: dict, reference, probe_mu, probe_labels, probe_pixels, matrix, center,
            train_mu=None, baselines=None, k: int = DEFAULT_K):
    """(training codes, pixel baselines, accuracy of the view); the first two are computed only
    when not given. Runs in a worker thread with a private copy of the model."""
    if train_mu is None:
        model = build_model(config)
        model.load_state_dict(weights)
        model.eval().requires_grad_(False)
        train_mu = posterior_means(model, reference).astype(np.float64)
    labels = reference.labels.numpy()
    latent = knn_accuracy((train_mu - center) @ matrix.T, labels, (probe_mu - center) @ matrix.T, probe_labels, k)
    if baselines is None:
        ref_pixels = pixels(reference)
        baselines = {}
        for method in ["pca", *optional_methods()]:
            a, b = embed_2d(method, ref_pixels, probe_pixels)
            baselines[method] = knn_accuracy(a, labels, b, probe_labels, k)
    return train_mu, baselines, latent


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
        self.job.done.connect(self._on_done)
        self.job.failed.connect(lambda _k, msg: self.setText(f"Map quality: cannot measure ({msg})"))
        self._train_mu: tuple | None = None  # (model key, codes)
        self._baselines: tuple | None = None  # (data key, {method: accuracy})
        self.latent: float | None = None
        self.baselines: dict[str, float] = {}
        self._shown_key = None
        state.subscribe(self._on_state)

    def _keys(self):
        st = self.state
        snap = st.snapshot
        model_key = (id(snap), snap.step)
        data_key = (id(st.train_split), id(st.probe_split), np.asarray(snap.probe_index).tobytes())
        p = st.projection
        view_key = (p.matrix.tobytes(), p.center.tobytes())
        return model_key, data_key, view_key

    def _on_state(self, changed: frozenset) -> None:
        if changed & {S.MODEL, S.PROJECTION, S.PROBES, S.SAMPLER, S.POINTS}:
            self.refresh()

    def refresh(self) -> None:
        st = self.state
        if st.model is None or st.train_split is None or st.projection is None or st.probe_count() == 0:
            self.job.cancel_pending()
            self._shown_key = None
            self.latent, self.baselines = None, {}
            self.setText(" ")
            return
        keys = self._keys()
        if keys == self._shown_key or self.job.running_key == keys:
            return
        model_key, data_key, _ = keys
        train_mu = self._train_mu[1] if self._train_mu and self._train_mu[0] == model_key else None
        baselines = self._baselines[1] if self._baselines and self._baselines[0] == data_key else None
        reference = st.train_split.subset(_reference_index(len(st.train_split)))
        n = st.probe_count()
        images, labels = st.probe_examples(np.arange(n))
        p = st.projection
        snap = st.snapshot
        self.job.request(keys, measure, snap.model_config, snap.state, reference,
                         np.asarray(st.mu[:n], dtype=np.float64), labels, images.reshape(n, -1),
                         p.matrix.copy(), p.center.copy(), train_mu, baselines, throttled=train_mu is None)

    def _on_done(self, keys, result) -> None:
        train_mu, baselines, latent = result
        self._train_mu = (keys[0], train_mu)
        self._baselines = (keys[1], baselines)
        self._shown_key = keys
        self.latent, self.baselines = latent, dict(baselines)
        parts = [f"this view <b>{100 * latent:.0f}%</b>"]
        parts += [f"{METHOD_NAMES.get(m, m)} {100 * a:.0f}%" for m, a in baselines.items()]
        self.setText(f"{DEFAULT_K}-NN class accuracy: " + " · ".join(parts))
        self.refresh()  # the view or the model may have moved on meanwhile
