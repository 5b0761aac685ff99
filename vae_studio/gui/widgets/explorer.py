"""The latent explorer: a live map of latent space to click, sliders, generated grids, a draw pad.

It is a self-contained view. The window hands it snapshots (``set_snapshot``, about once a
second while training) and the held-out images behind the map's points; it never sees the
trainer. Everything it decodes goes through its own CPU copy of the model, refreshed in place
from each snapshot's weights, under ``torch.inference_mode``.

Main-window contract::

    explorer = LatentExplorer()
    explorer.set_class_names(dataset.class_names)     # once per dataset
    explorer.set_probe_split(dataset.test)            # images behind snapshot.probe_index
    explorer.set_snapshot(snapshot)                   # each Snapshot message, GUI thread
    explorer.set_label(k)                             # conditional models: decode as class k
    explorer.clear()                                  # a new run, or a dataset change
"""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import QPointF, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ...core import latent as L
from .decoder_view import DigitView
from .draw_pad import DrawPad
from .generation import GenerationPanel
from .latent_map import LatentMapPlot
from .latent_sliders import LatentSliders

VIEW_MODES = (("pca", "Principal components (PCA)"), ("dims", "Two chosen dimensions"))


class LatentExplorer(QWidget):
    """Signals: ``decoded(np.ndarray)`` the (H, W) image now shown for the current code, and
    ``zChanged(np.ndarray)`` the current code z (D,), after every click, slider move or snapshot."""

    decoded = Signal(object)
    zChanged = Signal(object)
    labelChanged = Signal(int)  # the class a conditional model decodes with

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._cpu = L.CpuModel()
        self._snapshot = None
        self.projection: L.Projection | None = None
        self._mu: np.ndarray | None = None  # (P, D) float32 probe means
        self._labels: np.ndarray | None = None
        self._xy = np.zeros((0, 2), dtype=np.float32)
        self._kl: np.ndarray | None = None
        self._z: np.ndarray | None = None  # the current code, (D,) float64
        self._clicked_z: np.ndarray | None = None
        self._selected: int = -1  # probe point last clicked, or -1
        self._label = 0
        self._class_names: tuple[str, ...] = tuple(str(i) for i in range(10))
        self._probe_split = None
        self._probe_images: np.ndarray | None = None
        self._probe_images_key = None
        self._drawn: tuple[np.ndarray, np.ndarray] | None = None  # (mu, logvar) of the drawing
        self._typical: tuple[int, float] | None = None  # (snapshot step, median probe -ELBO)
        self._build()

    # -- layout ------------------------------------------------------------------------------
    def _build(self) -> None:
        root = QVBoxLayout(self)
        root.setContentsMargins(0, 0, 0, 0)
        root.setSpacing(4)

        bar = QHBoxLayout()
        title = QLabel("Latent space")
        title.setObjectName("sectionTitle")
        bar.addWidget(title)
        bar.addSpacing(12)
        bar.addWidget(QLabel("View"))
        self.view_combo = QComboBox()
        for key, text in VIEW_MODES:
            self.view_combo.addItem(text, key)
        self.view_combo.setToolTip(
            "How the D-dimensional codes are shown in 2-D.\n"
            "PCA: the plane in which the encoder means vary most; a click fills the other components with their mean.\n"
            "Two dimensions: plot z_i against z_j; a click takes the other dimensions from the sliders."
        )
        bar.addWidget(self.view_combo)
        self.x_label, self.x_spin = QLabel("x"), QSpinBox()
        self.y_label, self.y_spin = QLabel("y"), QSpinBox()
        for lab, spin, tip in ((self.x_label, self.x_spin, "Latent dimension on the horizontal axis"),
                               (self.y_label, self.y_spin, "Latent dimension on the vertical axis")):
            spin.setPrefix("z")
            spin.setRange(1, 1)
            for w in (lab, spin):
                w.setToolTip(tip)
            bar.addWidget(lab)
            bar.addWidget(spin)
        self.variance_label = QLabel("")
        self.variance_label.setObjectName("caption")
        self.variance_label.setToolTip("Share of the encoder means' variance that the two principal components show")
        bar.addWidget(self.variance_label)
        bar.addSpacing(12)
        self.label_label = QLabel("Decode as")
        self.label_combo = QComboBox()
        tip = ("A conditional VAE decodes z together with a class label: the same z drawn as each class.\n"
               "The map, sliders, grids and draw pad all use the class chosen here.")
        for w in (self.label_label, self.label_combo):
            w.setToolTip(tip)
            w.hide()
        bar.addWidget(self.label_label)
        bar.addWidget(self.label_combo)
        bar.addStretch(1)
        self.info = QLabel("No model yet: start training, or open a run.")
        self.info.setObjectName("caption")
        bar.addWidget(self.info)
        root.addLayout(bar)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.map = LatentMapPlot()
        self.splitter.addWidget(self.map)
        self.tabs = QTabWidget()
        self.splitter.addWidget(self.tabs)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        root.addWidget(self.splitter, 1)

        # Decode tab: the decoded digit, the hover preview, original vs reconstruction, sliders
        decode = QWidget()
        dl = QVBoxLayout(decode)
        dl.setContentsMargins(4, 4, 4, 4)
        top = QHBoxLayout()
        self.decoded_view = DigitView(
            "Decoded z", "The decoder's mean image p(x|z) for the current code: click the map or move a slider",
            min_size=160, placeholder="click the map",
        )
        top.addWidget(self.decoded_view, 2)
        side = QGridLayout()
        side.setSpacing(4)
        self.hover_view = DigitView("Under the cursor", "A live preview of the code under the mouse pointer on the map", min_size=64,
                                    placeholder="hover the map")
        self.original_view = DigitView("Original", "The held-out image you clicked on the map", min_size=64,
                                       placeholder="click a dot")
        self.recon_view = DigitView(
            "Reconstruction", "That image decoded from its posterior mean: how much of it the code kept", min_size=64,
            placeholder="click a dot",
        )
        side.addWidget(self.hover_view, 0, 0)
        side.addWidget(self.original_view, 1, 0)
        side.addWidget(self.recon_view, 1, 1)
        top.addLayout(side, 2)
        self._top_box = QWidget()
        self._top_box.setLayout(top)
        dl.addWidget(self._top_box, 2)
        self.sliders = LatentSliders()
        dl.addWidget(self.sliders, 3)
        self.tabs.addTab(decode, "Decode")

        self.generation = GenerationPanel(self)
        self.tabs.addTab(self.generation, "Generate")

        draw = QWidget()
        gl = QHBoxLayout(draw)
        gl.setContentsMargins(4, 4, 4, 4)
        left = QVBoxLayout()
        cap = QLabel("Draw a digit. It is encoded, and its posterior (★ with a ±1σ ellipse) appears on the map.")
        cap.setObjectName("caption")
        cap.setWordWrap(True)
        cap.setMaximumWidth(280)
        left.addWidget(cap)
        self.pad = DrawPad()
        left.addWidget(self.pad)
        self.clear_button = QPushButton("Clear")
        self.clear_button.setToolTip("Wipe the pad and remove the drawing's posterior from the map")
        left.addWidget(self.clear_button)
        left.addStretch(1)
        gl.addLayout(left)
        right = QVBoxLayout()
        pair = QHBoxLayout()
        self.input_view = DigitView("Encoder input, 28×28", "Your drawing cropped, scaled and centred the way MNIST digits were", min_size=96,
                                    placeholder="draw on the pad")
        self.drawn_recon_view = DigitView("Reconstruction", "Decoded from the posterior mean of your drawing", min_size=96,
                                          placeholder="draw on the pad")
        pair.addWidget(self.input_view)
        pair.addWidget(self.drawn_recon_view)
        pair_box = QWidget()
        pair_box.setLayout(pair)
        pair_box.setMaximumHeight(240)
        right.addWidget(pair_box, 1)
        self.elbo_label = QLabel("−ELBO: draw something first.")
        self.elbo_label.setWordWrap(True)
        self.elbo_label.setToolTip(
            "−ELBO = reconstruction + KL, in nats: an upper bound on −log p(x). The lower it is, the more typical "
            "the model finds your drawing; compare with the held-out digits' median."
        )
        right.addWidget(self.elbo_label)
        right.addStretch(1)
        gl.addLayout(right, 1)
        self.tabs.addTab(draw, "Draw")

        self.view_combo.currentIndexChanged.connect(self._on_view_controls)
        self.x_spin.valueChanged.connect(self._on_view_controls)
        self.y_spin.valueChanged.connect(self._on_view_controls)
        self.label_combo.currentIndexChanged.connect(self._on_label_combo)
        self.map.clicked.connect(self.decode_at)
        self.map.hovered.connect(self._on_hover)
        self.map.vb.sigRangeChanged.connect(lambda *_: self.generation.region_changed())
        self.sliders.changed.connect(self._on_sliders)
        self.sliders.takeClickedRequested.connect(self._take_clicked)
        self.generation.pathChanged.connect(self._update_paths)
        self.pad.strokeFinished.connect(self.encode_drawing)
        self._draw_timer = QTimer(self)
        self._draw_timer.setSingleShot(True)
        self._draw_timer.setInterval(60)  # live while drawing, ~16 encodes a second at most
        self._draw_timer.timeout.connect(self.encode_drawing)
        self.pad.changed.connect(self._draw_timer.start)
        self.clear_button.clicked.connect(self.pad.clear)
        self._set_view_controls_enabled()

    # -- public API --------------------------------------------------------------------------
    def set_class_names(self, names) -> None:
        """Names of the classes, for the legend and the 'Decode as' choice."""
        self._class_names = tuple(str(n) for n in names)
        self.map.set_class_names(self._class_names)
        self._fill_label_combo()

    def set_probe_split(self, split) -> None:
        """The held-out split the snapshots' ``probe_index`` points into (a core ``Split``)."""
        self._probe_split = split
        self._probe_images_key = None
        if self._snapshot is not None:
            self._sync_probe_images(self._snapshot)

    def set_probe_images(self, images: np.ndarray | None) -> None:
        """The probe images themselves, (P, H, W) uint8 or float in [0, 1], row i behind map point i."""
        self._probe_split = None
        self._probe_images = None if images is None else np.asarray(images)
        self._probe_images_key = "given"

    def set_label(self, label: int) -> None:
        """Conditional models: decode everything as this class (ignored by other models)."""
        changed = int(label) != self._label
        self._label = int(label)
        i = self.label_combo.findData(self._label)
        if i >= 0 and i != self.label_combo.currentIndex():
            self.label_combo.blockSignals(True)
            self.label_combo.setCurrentIndex(i)
            self.label_combo.blockSignals(False)
        self._redecode_all()
        if changed:
            self.labelChanged.emit(self._label)

    def label(self) -> int:
        return self._label

    def set_view(self, mode: str, dims: tuple[int, int] | None = None) -> None:
        """``mode`` 'pca' or 'dims'; ``dims`` the 0-based dimensions for a dims view."""
        i = [k for k, _ in VIEW_MODES].index(mode)
        for w in (self.view_combo, self.x_spin, self.y_spin):
            w.blockSignals(True)
        self.view_combo.setCurrentIndex(i)
        if dims is not None:
            self.x_spin.setValue(dims[0] + 1)
            self.y_spin.setValue(dims[1] + 1)
        for w in (self.view_combo, self.x_spin, self.y_spin):
            w.blockSignals(False)
        self._on_view_controls()

    def set_snapshot(self, snapshot) -> None:
        """Show a trainer ``Snapshot``. Cheap enough to call at ~1 Hz from the GUI thread: the
        CPU model is refreshed in place and the plot items only get new data."""
        cfg = snapshot.model_config
        rebuilt = self._cpu.load(cfg, snapshot.state)
        if rebuilt or self.projection is None or self.projection.latent_dim != cfg.latent_dim:
            self._configure(cfg)
        self._snapshot = snapshot
        self._mu = np.asarray(snapshot.probe_mu, dtype=np.float32)
        self._labels = np.asarray(snapshot.probe_labels)
        kl = np.asarray(snapshot.kl_per_dim, dtype=np.float64).reshape(-1)
        self._kl = kl if len(kl) == cfg.latent_dim else None
        self._sync_probe_images(snapshot)
        self.projection.fit(self._mu)
        self.sliders.set_kl(self._kl)
        self._refresh_map()
        self._redecode_all()
        epoch = snapshot.epoch
        self.info.setText(f"step {snapshot.step:,} · epoch {epoch:g} · {len(self._mu):,} held-out points")

    def set_z(self, z: np.ndarray) -> None:
        """Decode code ``z`` (D,) as if the sliders had been moved there."""
        if self.projection is None:
            return
        self.sliders.set_value(z)
        self._show_z(np.asarray(z, dtype=np.float64).reshape(-1))

    def map_xy(self) -> np.ndarray:
        """The probe points as drawn on the map, (P, 2)."""
        return self._xy

    def current_z(self) -> np.ndarray | None:
        return None if self._z is None else self._z.copy()

    def clicked_z(self) -> np.ndarray | None:
        return None if self._clicked_z is None else self._clicked_z.copy()

    def decoded_image(self) -> np.ndarray | None:
        """The (H, W) image in the decoded view."""
        return self.decoded_view.image()

    def decode_at(self, x: float, y: float, index: int = -1) -> None:
        """What a click at view point (x, y) does; ``index`` the probe point clicked, or -1.

        The code is the view's inverse: in a dims view the two dims come from the click and the
        rest from the sliders; in PCA the other components sit at the probe set's mean.
        """
        if self.projection is None or self._cpu.model is None:
            return
        z = self.projection.to_latent(np.array([x, y]), self.base_z())
        self._clicked_z = z.copy()
        self._selected = int(index)
        if index >= 0:
            self.generation.style_transfer.select(int(index))
        self.sliders.set_value(z)
        self._show_z(z)
        self._show_selected()

    def clear(self) -> None:
        """Forget the model and every picture: for a new run or another dataset."""
        self._cpu.clear()
        self._snapshot = None
        self.projection = None
        self._mu = self._labels = self._kl = None
        self._xy = np.zeros((0, 2), dtype=np.float32)
        self._z = self._clicked_z = None
        self._selected = -1
        self._drawn = None
        self._typical = None
        if self._probe_images_key != "given":  # images handed over directly outlive a clear
            self._probe_images_key = None
        self.map.clear()
        for v in (self.decoded_view, self.hover_view, self.original_view, self.recon_view, self.input_view, self.drawn_recon_view):
            v.clear()
        self.sliders.set_dimensions(0)
        self.generation.interpolation.set_endpoints(None, None)
        self.generation.invalidate()
        self.elbo_label.setText("−ELBO: draw something first.")
        self.info.setText("No model yet: start training, or open a run.")

    # -- what the generation pages read ------------------------------------------------------
    def model(self):
        return self._cpu.model

    def latent_dim(self) -> int:
        return 0 if self.projection is None else self.projection.latent_dim

    def class_names(self) -> tuple[str, ...]:
        return self._class_names


    def probe_count(self) -> int:
        if self._probe_images is None or self._labels is None:
            return 0
        return min(len(self._probe_images), len(self._labels))

    def probe_examples(self, index) -> tuple[np.ndarray, np.ndarray]:
        """Held-out images behind map points ``index`` as floats in [0, 1] (N, H, W), and their labels."""
        index = np.asarray(index, dtype=int)
        imgs = self._probe_images[index]
        imgs = imgs.astype(np.float32) / 255.0 if imgs.dtype == np.uint8 else imgs.astype(np.float32)
        return imgs, np.asarray(self._labels)[index]

    def decode_label(self) -> int | None:
        model = self._cpu.model
        return self._label if model is not None and model.conditional else None

    def base_z(self) -> np.ndarray | None:
        """Where a view point takes its off-plane coordinates from (see ``decode_at``)."""
        if self.projection is None or self.projection.mode == "pca" or self._z is None:
            return None
        return self._z

    def kl_per_dim(self) -> np.ndarray | None:
        return self._kl

    def dims_by_kl(self) -> np.ndarray:
        if self._kl is None or not self._kl.any():
            return np.arange(self.latent_dim())
        return np.argsort(-self._kl, kind="stable")

    def default_endpoints(self) -> tuple[np.ndarray, np.ndarray] | None:
        """Interpolation ends before any are picked: the mean codes of the first two classes."""
        if self._mu is None or len(self._mu) == 0:
            return None
        classes = np.unique(self._labels)
        if len(classes) < 2:
            return self._mu[0].astype(np.float64), self._mu[-1].astype(np.float64)
        return tuple(self._mu[self._labels == c].mean(0).astype(np.float64) for c in classes[:2])

    # -- internals ---------------------------------------------------------------------------
    def _configure(self, cfg) -> None:
        d = cfg.latent_dim
        mode = "pca" if d > 2 else "dims"
        self.projection = L.Projection(d, mode=mode)
        self._z = np.zeros(d)
        self._clicked_z = None
        self._selected = -1
        self._drawn = None
        self._typical = None
        self.sliders.set_dimensions(d)
        # many dimensions: the room goes to the sliders; a few: to the pictures
        self._top_box.setMaximumHeight(300 if d > 6 else 440)
        for w in (self.view_combo, self.x_spin, self.y_spin):
            w.blockSignals(True)
        self.view_combo.setCurrentIndex([k for k, _ in VIEW_MODES].index(mode))
        self.x_spin.setRange(1, d)
        self.y_spin.setRange(1, d)
        self.x_spin.setValue(1)
        self.y_spin.setValue(min(2, d))
        for w in (self.view_combo, self.x_spin, self.y_spin):
            w.blockSignals(False)
        if not self._class_names or len(self._class_names) < cfg.num_classes:
            self._class_names = tuple(str(i) for i in range(cfg.num_classes))
        self.map.set_class_names(self._class_names)
        self._fill_label_combo()
        for w in (self.label_label, self.label_combo):
            w.setVisible(cfg.conditional)
        self.generation.set_conditional(cfg.conditional)
        self.generation.interpolation.set_endpoints(None, None)
        self._set_view_controls_enabled()
        self.map.auto_range()

    def _fill_label_combo(self) -> None:
        self.label_combo.blockSignals(True)
        self.label_combo.clear()
        n = self._cpu.config.num_classes if self._cpu.config is not None else len(self._class_names)
        for i in range(n):
            name = self._class_names[i] if i < len(self._class_names) else str(i)
            self.label_combo.addItem(name, i)
        self._label = min(self._label, max(0, n - 1))
        self.label_combo.setCurrentIndex(self._label)
        self.label_combo.blockSignals(False)

    def _set_view_controls_enabled(self) -> None:
        d = self.latent_dim()
        dims = self.view_combo.currentData() == "dims"
        self.view_combo.setEnabled(d >= 2)
        for w in (self.x_label, self.x_spin, self.y_label, self.y_spin):
            w.setVisible(dims and d > 2)
        self.variance_label.setVisible(not dims)

    def _sync_probe_images(self, snapshot) -> None:
        if self._probe_images_key == "given" or self._probe_split is None:
            return
        index = np.asarray(snapshot.probe_index)
        key = (id(self._probe_split), index.tobytes())
        if key != self._probe_images_key:
            imgs = self._probe_split.images
            self._probe_images = np.asarray(imgs[index].numpy() if hasattr(imgs, "numpy") else imgs[index])
            self._probe_images_key = key

    def _on_view_controls(self, *_) -> None:
        if self.projection is None:
            self._set_view_controls_enabled()
            return
        mode = self.view_combo.currentData()
        if mode == "dims":
            i, j = self.x_spin.value() - 1, self.y_spin.value() - 1
            if i == j and self.latent_dim() > 1:  # keep the two axes different: move the other one
                other = self.y_spin if self.sender() is self.x_spin else self.x_spin
                other.blockSignals(True)
                other.setValue((i + 1) % self.latent_dim() + 1)
                other.blockSignals(False)
                i, j = self.x_spin.value() - 1, self.y_spin.value() - 1
            self.projection.set_dims(i, j)
        else:
            self.projection.set_mode("pca", self._mu)
        self._set_view_controls_enabled()
        self._refresh_map()
        self.map.auto_range()
        self.generation.invalidate()

    def _on_label_combo(self, i: int) -> None:
        data = self.label_combo.itemData(i)
        if data is not None:
            self.set_label(int(data))

    def _refresh_map(self) -> None:
        p = self.projection
        if p is None:
            return
        self.map.set_prior_contours(p.prior_contours())  # first: the points' range takes them in
        if self._mu is not None:
            self._xy = p.to_view(self._mu)
            self.map.set_points(self._xy, self._labels)
        self.map.set_axis_labels(*p.axis_labels())
        if p.mode == "pca" and p.explained_variance_ratio is not None:
            r = p.explained_variance_ratio
            self.variance_label.setText(
                f"variance shown: PC 1 {100 * r[0]:.0f}% + PC 2 {100 * r[1]:.0f}% = {100 * r[: p.rank].sum():.0f}%"
                if p.rank > 1 else "PC 1 shows all the variance"
            )
        self.map.set_marker(None if self._z is None else p.to_view(self._z))
        self.map.set_selected(self._xy[self._selected] if 0 <= self._selected < len(self._xy) else None)
        self._update_paths()
        self._update_drawn_overlay()
        # the new range now, not at the next paint: applied there, it costs a second paint
        self.map.settle()

    def _show_z(self, z: np.ndarray) -> None:
        self._z = z
        model = self._cpu.model
        if model is None:
            return
        img = L.decode(model, z, self.decode_label())[0]
        self.decoded_view.set_image(img)
        self.map.set_marker(self.projection.to_view(z))
        pages = [self.generation.traversal, self.generation.label_sweep]
        if self.projection.mode == "dims":
            pages.append(self.generation.manifold)  # its off-plane dims follow the sliders
        self.generation.invalidate(pages)
        self.decoded.emit(img)
        self.zChanged.emit(z.copy())

    def _show_selected(self) -> None:
        i = self._selected
        if self._mu is None or not (0 <= i < len(self._mu)):
            self.map.set_selected(None)
            self.original_view.clear()
            self.recon_view.clear()
            return
        self.map.set_selected(self._xy[i])
        if self._probe_images is not None and i < len(self._probe_images):
            img = self._probe_images[i]
            self.original_view.set_image(img / 255.0 if img.dtype == np.uint8 else img)
        label = int(self._labels[i]) if self._cpu.model.conditional else None  # its own class
        self.recon_view.set_image(L.decode(self._cpu.model, self._mu[i], label)[0])
        name = self._class_names[int(self._labels[i])] if int(self._labels[i]) < len(self._class_names) else str(self._labels[i])
        self.original_view.title.setText(f"Original (class {name})")

    def _on_sliders(self, z: np.ndarray) -> None:
        self._show_z(np.asarray(z, dtype=np.float64))

    def _take_clicked(self) -> None:
        if self._clicked_z is not None:
            self.set_z(self._clicked_z)

    def _on_hover(self, x: float, y: float) -> None:
        if self.projection is None or self._cpu.model is None:
            return
        z = self.projection.to_latent(np.array([x, y]), self.base_z())
        self.hover_view.set_image(L.decode(self._cpu.model, z, self.decode_label())[0])

    def _redecode_all(self) -> None:
        if self._cpu.model is None:
            return
        if self._z is not None:
            self._show_z(self._z)
        self._show_selected()
        self.encode_drawing()
        self.generation.invalidate()

    def _update_paths(self) -> None:
        codes = self.generation.interpolation.codes() if self.projection is not None else None
        if codes is None:
            self.map.set_paths(None, None)
            return
        lin, sl = codes
        self.map.set_paths(self.projection.to_view(lin), self.projection.to_view(sl))

    def encode_drawing(self) -> None:
        """Encode what is on the pad; show its posterior on the map and its -ELBO."""
        self._draw_timer.stop()
        model = self._cpu.model
        if model is None:
            return
        x = self.pad.image28()
        self.input_view.set_image(x)
        if not x.any():
            self._drawn = None
            self.drawn_recon_view.clear()
            self.elbo_label.setText("−ELBO: draw something first.")
            self._update_drawn_overlay()
            return
        label = self.decode_label()
        mu, logvar = L.encode(model, x, label)
        self._drawn = (mu[0].astype(np.float64), logvar[0].astype(np.float64))
        self.drawn_recon_view.set_image(L.decode(model, mu[0], label)[0])
        nelbo, rec, kl = L.neg_elbo(model, x, label)
        typical = self._typical_neg_elbo()
        ref = f"<br>Held-out digits: median {typical:.1f} nats." if typical is not None else ""
        self.elbo_label.setText(
            f"<b>−ELBO {nelbo:.1f} nats</b> = reconstruction {rec:.1f} + KL {kl:.1f}.{ref}"
            "<br>Lower is more typical of the training data."
        )
        self._update_drawn_overlay()

    def _typical_neg_elbo(self) -> float | None:
        snap = self._snapshot
        if snap is None or self._probe_images is None or len(self._probe_images) != len(snap.probe_labels):
            return None
        if self._typical is None or self._typical[0] != snap.step:
            imgs = self._probe_images[:1000]
            x = imgs.astype(np.float32) / 255.0 if imgs.dtype == np.uint8 else imgs.astype(np.float32)
            vals = L.neg_elbo_each(self._cpu.model, x, np.asarray(snap.probe_labels[:1000]))
            self._typical = (snap.step, float(np.median(vals)))
        return self._typical[1]

    def drawn_posterior(self) -> tuple[np.ndarray, np.ndarray] | None:
        return self._drawn

    def _update_drawn_overlay(self) -> None:
        if self._drawn is None or self.projection is None:
            self.map.set_drawn(None, None)
            return
        mu, logvar = self._drawn
        self.map.set_drawn(self.projection.to_view(mu), self.projection.ellipse(mu, logvar, k=1.0))


def measure_explorer(snapshot, n_points: int = 5000, clicks: int = 60, updates: int = 15, seed: int = 0) -> dict:
    """Time the explorer on this machine: click -> decoded image painted, and a map update.

    The probe set is resampled (with a little jitter) to ``n_points`` so the map carries a
    realistic load. Times include the synchronous repaint of what changed: the decoded view for
    a click, the map for an update. Needs a QApplication; makes one (offscreen works) if none.
    """
    import dataclasses

    app = QApplication.instance() or QApplication([])
    rng = np.random.default_rng(seed)
    p = len(snapshot.probe_mu)
    pick = rng.integers(0, p, n_points) if n_points != p else np.arange(p)
    mu = snapshot.probe_mu[pick] + rng.normal(0, 0.05, (n_points, snapshot.probe_mu.shape[1])).astype(np.float32)
    snap = dataclasses.replace(snapshot, probe_mu=mu.astype(np.float32), probe_labels=snapshot.probe_labels[pick], probe_index=pick)
    w = LatentExplorer()
    w.resize(1280, 760)
    w.show()
    w.set_snapshot(snap)
    app.processEvents()
    try:
        (x0, x1), (y0, y1) = w.map.visible_range()
        click_ms, click_map_ms = [], []
        for _ in range(clicks):
            x, y = rng.uniform(x0, x1), rng.uniform(y0, y1)
            scene = w.map.vb.mapViewToScene(QPointF(x, y))
            t0 = time.perf_counter()
            w.map.handle_scene_click(scene)
            w.decoded_view.view.viewport().repaint()
            t1 = time.perf_counter()
            w.map.plot.viewport().repaint()  # the marker moved too
            t2 = time.perf_counter()
            click_ms.append((t1 - t0) * 1e3)
            click_map_ms.append((t2 - t0) * 1e3)
        update_ms, update_call_ms = [], []
        for k in range(updates):
            s = dataclasses.replace(snap, probe_mu=snap.probe_mu + np.float32(0.01 * (k % 3)), step=snap.step + k + 1)
            t0 = time.perf_counter()
            w.set_snapshot(s)
            t1 = time.perf_counter()
            w.map.plot.viewport().repaint()
            t2 = time.perf_counter()
            update_call_ms.append((t1 - t0) * 1e3)
            update_ms.append((t2 - t0) * 1e3)
        return {
            "click_p50_ms": float(np.percentile(click_ms, 50)),
            "click_p95_ms": float(np.percentile(click_ms, 95)),
            "click_with_map_repaint_p95_ms": float(np.percentile(click_map_ms, 95)),
            "map_update_ms": float(np.median(update_ms)),
            "map_update_p95_ms": float(np.percentile(update_ms, 95)),
            "set_snapshot_call_ms": float(np.median(update_call_ms)),
            "map_points": int(len(w.map.points())),
        }
    finally:
        w.close()
        w.deleteLater()

