"""The latent explorer: a live map of latent space to click, sliders, generated grids, a draw pad.

It is a self-contained view. The window hands it snapshots (``set_snapshot``, about once a
second while training) and the held-out images behind the map's points; it never sees the
trainer. Everything it shows lives in one :class:`~vae_studio.core.explorer_state.ExplorerState`
(Qt-free); the map, the bar, the decode, generate and draw tabs are views of that state, each
told when it changes, none knowing another.

Main-window contract::

    explorer = LatentExplorer()
    explorer.set_class_names(dataset.class_names)     # once per dataset
    explorer.set_probe_split(dataset.test)            # images behind snapshot.probe_index
    explorer.set_snapshot(snapshot)                   # each Snapshot message, GUI thread
    explorer.set_label(k)                             # conditional models: decode as class k
    explorer.set_variant(variant)                     # the variant switch: label controls follow it
    explorer.clear()                                  # a new run, or a dataset change
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QSplitter, QTabWidget, QVBoxLayout, QWidget

from ....core import explorer_state as S
from ....core.decoding import encode
from .apply_tab import ApplyTab
from .decode_tab import DecodeTab
from .draw_tab import DrawTab
from .generate_tab import GenerationPanel
from .map_quality import MapQualityLabel
from .map_view import StateMap
from .view_bar import VIEW_MODES, ViewBar

__all__ = ["LatentExplorer", "VIEW_MODES"]


class LatentExplorer(QWidget):
    """Signals: ``decoded(np.ndarray)`` the (H, W) image now shown for the current code,
    ``zChanged(np.ndarray)`` the current code z (D,) after every click, slider move or snapshot,
    and ``labelChanged(int)`` the class a conditional model decodes with."""

    decoded = Signal(object)
    zChanged = Signal(object)
    labelChanged = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.state = S.ExplorerState()
        root = QVBoxLayout(self)
        root.setContentsMargins(0, 0, 0, 0)
        root.setSpacing(4)
        self.bar = ViewBar(self.state)
        self.bar.on_label_chosen = self.set_label
        root.addWidget(self.bar)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.map = StateMap(self.state)
        self.map_quality = MapQualityLabel(self.state)
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.setSpacing(0)
        lv.addWidget(self.map, 1)
        lv.addWidget(self.map_quality)
        self.splitter.addWidget(left)
        self.tabs = QTabWidget()
        self.splitter.addWidget(self.tabs)
        # the map is aspect-locked: beyond a square it only adds margins, so the pictures get the rest
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.splitterMoved.connect(lambda *_: setattr(self, "_split_by_hand", True))
        root.addWidget(self.splitter, 1)

        self.decode_tab = DecodeTab(self.state)
        self.tabs.addTab(self.decode_tab, "Decode")
        self.generation = GenerationPanel(self.state)
        self.tabs.addTab(self.generation, "Generate")
        self.draw_tab = DrawTab(self.state)
        self.tabs.addTab(self.draw_tab, "Draw")
        self.apply_tab = ApplyTab(self.state)
        self.tabs.addTab(self.apply_tab, "Apply")
        self.tabs.setTabToolTip(3, "Denoising and inpainting: corrupt a digit and let the VAE restore it")
        self.tabs.currentChanged.connect(lambda _=0: self.generation.refresh_visible())
        self.decode_tab.decoded.connect(self.decoded)
        self._emitted_label = self.state.label
        self.state.subscribe(self._on_state)

    def resizeEvent(self, ev) -> None:
        super().resizeEvent(ev)
        # the map a square as tall as the pane, the pictures the rest of the width
        h = self.splitter.height()
        w = self.splitter.width()
        if w > 0 and h > 0 and not getattr(self, "_split_by_hand", False):
            left = min(max(240, h), int(w * 0.55))
            self.splitter.setSizes([left, w - left])

    def _on_state(self, changed: frozenset) -> None:
        if S.Z in changed and self.state.z is not None:
            self.zChanged.emit(self.state.z.copy())
        if self.state.label != self._emitted_label:
            self._emitted_label = self.state.label
            self.labelChanged.emit(self.state.label)

    # -- public API --------------------------------------------------------------------------
    def set_class_names(self, names) -> None:
        """Names of the classes, for the legend and the 'Decode as' choice."""
        self.state.set_class_names(names)

    def set_train_split(self, split) -> None:
        """The training images: the posterior sampler fits their codes."""
        self.state.set_train_split(split)

    def set_probe_split(self, split) -> None:
        """The held-out split the snapshots' ``probe_index`` points into (a core ``Split``)."""
        self.state.set_probe_split(split)

    def set_probe_images(self, images: np.ndarray | None) -> None:
        """The probe images themselves, (P, H, W) uint8 or float in [0, 1], row i behind map point i."""
        self.state.set_probe_images(images)

    def set_snapshot(self, snapshot) -> None:
        """Show a trainer ``Snapshot``. Cheap enough to call at ~1 Hz from the GUI thread: the
        CPU model is refreshed in place and the plot items only get new data."""
        self.state.set_snapshot(snapshot)

    def set_variant(self, variant: str, label_given: bool = False) -> None:
        """The variant the window will train next ("vanilla", "conditional", "beta"; for β, whether
        it is given the label). The label controls follow the model shown; with none shown, they
        follow this at once."""
        self.state.set_variant(variant, label_given)

    def set_label(self, label: int) -> None:
        """Conditional models: decode everything as this class (ignored by other models)."""
        self.state.set_label(label)

    def label(self) -> int:
        return self.state.label

    def set_view(self, mode: str, dims: tuple[int, int] | None = None) -> None:
        """``mode`` 'pca' or 'dims'; ``dims`` the 0-based dimensions for a dims view."""
        self.state.set_view(mode, dims)

    def set_z(self, z: np.ndarray) -> None:
        """Decode code ``z`` (D,) as if the sliders had been moved there."""
        self.state.set_z(z)

    def decode_at(self, x: float, y: float, index: int = -1) -> None:
        """What a click at view point (x, y) does; ``index`` the probe point clicked, or -1."""
        self.state.click(x, y, index)

    def clear(self) -> None:
        """Forget the model and every picture: for a new run or another dataset."""
        self.state.clear()

    def select_point(self, i: int) -> None:
        """Select held-out point ``i`` as a click on it would, and show it in the Decode tab."""
        st = self.state
        if 0 <= i < len(st.xy):
            st.click(float(st.xy[i, 0]), float(st.xy[i, 1]), int(i))
            self.tabs.setCurrentWidget(self.decode_tab)

    def show_image_code(self, image: np.ndarray) -> None:
        """Decode at the posterior mean of ``image`` (H, W), one with no point on the map."""
        st = self.state
        if st.model is not None:
            st.set_z(encode(st.model, image, st.decode_label())[0][0])
            self.tabs.setCurrentWidget(self.decode_tab)

    def wait(self, timeout: float) -> bool:
        """Let the figures computed off the GUI thread finish; True if they did."""
        jobs = (self.map_quality.job, self.map_quality.baseline_job, self.apply_tab.chart_job, self.apply_tab.fit_job)
        return all([job.wait(timeout) for job in jobs])

    # -- what is shown -----------------------------------------------------------------------
    @property
    def projection(self):
        return self.state.projection

    def model(self):
        return self.state.model

    def latent_dim(self) -> int:
        return self.state.latent_dim

    def class_names(self) -> tuple[str, ...]:
        return self.state.class_names

    def map_xy(self) -> np.ndarray:
        """The probe points as drawn on the map, (P, 2)."""
        return self.state.xy

    def current_z(self) -> np.ndarray | None:
        return None if self.state.z is None else self.state.z.copy()

    def clicked_z(self) -> np.ndarray | None:
        return None if self.state.clicked_z is None else self.state.clicked_z.copy()

    def decoded_image(self) -> np.ndarray | None:
        """The (H, W) image in the decoded view."""
        return self.decode_tab.decoded_image()

    def drawn_posterior(self) -> tuple[np.ndarray, np.ndarray] | None:
        return self.state.drawn

    def probe_count(self) -> int:
        return self.state.probe_count()

    def probe_examples(self, index) -> tuple[np.ndarray, np.ndarray]:
        return self.state.probe_examples(index)

    def encode_drawing(self) -> None:
        self.draw_tab.encode_drawing()

    def _on_hover(self, x: float, y: float) -> None:
        self.state.hover(x, y)

    # the widgets tests and scripts reach for, where they now live
    view_combo = property(lambda self: self.bar.view_combo)
    x_spin = property(lambda self: self.bar.x_spin)
    y_spin = property(lambda self: self.bar.y_spin)
    variance_label = property(lambda self: self.bar.variance_label)
    label_label = property(lambda self: self.bar.label_label)
    label_combo = property(lambda self: self.bar.label_combo)
    info = property(lambda self: self.bar.info)
    decoded_view = property(lambda self: self.decode_tab.decoded_view)
    hover_view = property(lambda self: self.decode_tab.hover_view)
    original_view = property(lambda self: self.decode_tab.original_view)
    recon_view = property(lambda self: self.decode_tab.recon_view)
    sliders = property(lambda self: self.decode_tab.sliders)
    pad = property(lambda self: self.draw_tab.pad)
    clear_button = property(lambda self: self.draw_tab.clear_button)
    input_view = property(lambda self: self.draw_tab.input_view)
    drawn_recon_view = property(lambda self: self.draw_tab.drawn_recon_view)
    elbo_label = property(lambda self: self.draw_tab.elbo_label)
