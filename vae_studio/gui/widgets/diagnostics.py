"""Live posterior diagnostics: KL per latent dimension, active units, and a collapse warning.

One ``BarGraphItem`` is made here and re-fed with ``setOpts`` on every update, like the loss
curves; the free-bits floor and the "inactive" threshold are two lines drawn over the bars.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from ...core.evaluate import COLLAPSE_KL_NATS, ACTIVE_UNIT_THRESHOLD, Diagnosis, diagnose
from .plot_parts import add_grid, cache_static_parts

ACTIVE_COLOR = "#0072B2"  # Okabe-Ito blue, as −ELBO on the loss plot
INACTIVE_COLOR = "#A0A0A0"
FREE_BITS_COLOR = "#D55E00"


class DiagnosticsPanel(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._kl: np.ndarray | None = None  # None until a held-out pass has measured it
        self._mu: np.ndarray | None = None
        self._free_bits = 0.0
        self._ticks_for = -1  # the number of bars the axis' ticks were made for
        self._top = 0.0  # the y range's top
        self._x_range: tuple[float, float] | None = None
        self.diagnosis: Diagnosis | None = None

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        header = QHBoxLayout()
        header.setContentsMargins(6, 0, 6, 0)
        title = QLabel("KL per dimension")
        title.setObjectName("sectionTitle")
        self.active_label = QLabel("Active units –")
        self.active_label.setObjectName("readout")
        self.active_label.setToolTip(
            "Dimensions whose encoder mean varies over the held-out digits (variance above "
            f"{ACTIVE_UNIT_THRESHOLD:g}; Burda et al. 2015). The others are ignored by the decoder."
        )
        header.addWidget(title)
        header.addStretch(1)
        header.addWidget(self.active_label)
        layout.addLayout(header)

        self.warning = QLabel()
        self.warning.setObjectName("collapseWarning")
        self.warning.setWordWrap(True)
        self.warning.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.warning.hide()
        layout.addWidget(self.warning)

        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setToolTip(
            "KL(q(z_i|x) ‖ p(z_i)) per latent dimension on the held-out set, after each epoch, in nats:\n"
            "how much information each dimension carries. Grey bars are below "
            f"{COLLAPSE_KL_NATS:g} nats: the posterior is the prior there.\n"
            "The orange line is the free-bits floor λ, below which the KL is not pushed down."
        )
        layout.addWidget(self.graphics, 1)
        self.plot: pg.PlotItem = self.graphics.addPlot()
        self.plot.setLabel("left", "KL", units="nats")
        self.plot.getAxis("left").enableAutoSIPrefix(False)
        self.plot.setLabel("bottom", "latent dimension")
        add_grid(self.plot, x=False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        self._brushes = (pg.mkBrush(ACTIVE_COLOR), pg.mkBrush(INACTIVE_COLOR))
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.7, brush=self._brushes[0], pen=None)
        self.plot.addItem(self.bars)
        self.free_bits_line = pg.InfiniteLine(
            angle=0, movable=False, pen=pg.mkPen(FREE_BITS_COLOR, width=2, style=Qt.PenStyle.DashLine),
            label="free bits λ = {value:.2f}", labelOpts={"position": 0.02, "color": FREE_BITS_COLOR, "anchors": [(0, 1), (0, 1)]},
        )
        self.free_bits_line.hide()
        self.plot.addItem(self.free_bits_line)
        # broken over lines: the chart is a third of the window wide, and the text must fit it whole
        self.empty = pg.TextItem("KL per dimension\nappears with the\nfirst snapshot", color=INACTIVE_COLOR, anchor=(0.5, 0.5))
        self.plot.addItem(self.empty)
        self.empty.setPos(0.5, 0.5)
        self.plot.setRange(xRange=(0, 1), yRange=(0, 1), padding=0)
        cache_static_parts(self.plot)

    # -- public ------------------------------------------------------------------------------
    def set_free_bits(self, nats: float) -> None:
        self._free_bits = float(nats)
        self.free_bits_line.setValue(self._free_bits)
        self.free_bits_line.setVisible(self._free_bits > 0)
        self._fit()

    def set_kl(self, kl_per_dim) -> None:
        """KL per dimension from a held-out pass (``Validation.kl_per_dim``)."""
        kl = np.asarray(kl_per_dim, dtype=np.float64).reshape(-1)
        self._kl = kl if kl.size else None
        self._update()

    def set_snapshot(self, snapshot) -> None:
        """The probe set's encoder means for active units; the KL too once an epoch has measured it
        (before that a snapshot carries zeros, which would read as a collapse)."""
        self._mu = np.asarray(snapshot.probe_mu, dtype=np.float32)
        kl = np.asarray(snapshot.kl_per_dim, dtype=np.float64).reshape(-1)
        if kl.size == self._mu.shape[1] and kl.any():
            self._kl = kl
        elif self._kl is not None and self._kl.size != self._mu.shape[1]:
            self._kl = None  # another model's KL
        self._update()

    def clear(self) -> None:
        self._kl = self._mu = None
        self.diagnosis = None
        self.bars.setOpts(x=[], height=[], brushes=None, brush=self._brushes[0])
        self.active_label.setText("Active units –")
        self.warning.hide()
        self.empty.show()
        self._top = 0.0
        self.plot.setRange(xRange=(0, 1), yRange=(0, 1), padding=0)

    def kl_values(self) -> np.ndarray | None:
        return None if self._kl is None else self._kl.copy()

    def bar_heights(self) -> np.ndarray:
        return np.asarray(self.bars.opts.get("height", []), dtype=np.float64)

    # -- internals ---------------------------------------------------------------------------
    def _update(self) -> None:
        kl = self._kl
        if kl is not None:
            active = kl >= COLLAPSE_KL_NATS
            x = np.arange(1, kl.size + 1)
            self.bars.setOpts(x=x, height=kl, width=0.7, brushes=[self._brushes[0 if a else 1] for a in active])
            self.empty.hide()
            if kl.size != self._ticks_for:  # new ticks re-render the axis: only for a new model
                self._ticks_for = kl.size
                self.plot.getAxis("bottom").setTicks([[(int(i), f"z{i}") for i in x]] if kl.size <= 16 else None)
            self._fit()
        if self._mu is not None and self._mu.ndim == 2 and self._mu.shape[0] > 0:
            self.diagnosis = diagnose(kl, self._mu)
            d = self.diagnosis
            self.active_label.setText(f"Active units <b>{d.active_units}</b> / {d.latent_dim}")
            if d.warning:
                self.warning.setText("⚠ " + d.warning)
                self.warning.show()
            else:
                self.warning.hide()

    def _fit(self) -> None:
        if self._kl is None:
            return
        top = max(float(self._kl.max()) if self._kl.size else 0.0, self._free_bits, COLLAPSE_KL_NATS * 4)
        # a new range re-renders both axes: keep it while the tallest bar fills 70 to 100% of it
        x_range = (0.4, self._kl.size + 0.6)
        if self._top and 0.7 * self._top <= top <= self._top and x_range == self._x_range:
            return
        self._top, self._x_range = top * 1.12, x_range
        self.plot.setRange(xRange=x_range, yRange=(0, self._top), padding=0)
        self.plot.getViewBox().prepareForPaint()  # applied at the paint instead, it costs a second one
