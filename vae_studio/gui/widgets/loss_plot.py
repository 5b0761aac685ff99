"""Live loss curves: −ELBO, reconstruction and KL per step and per epoch, plus the KL weight.

Every curve is one PlotDataItem made here once; ``refresh`` hands each its whole buffer with
``setData``. pyqtgraph clips to the visible range and peak-downsamples, so a long run of many
thousand points redraws as fast as a short one.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from ...core.history import History
from .smoothing import Smoother

LN2 = math.log(2.0)


def nats_to_bits_per_dim(nats: float, pixels: int) -> float:
    return nats / (pixels * LN2)
from .plot_parts import add_grid, cache_static_parts, legend_brush

# colour-blind-safe (Okabe-Ito): −ELBO blue, reconstruction orange, KL green
COLORS = {"neg_elbo": "#0072B2", "recon": "#E69F00", "kl": "#009E73", "kl_weight": "#CC79A7"}
NAMES = {"neg_elbo": "−ELBO", "recon": "reconstruction", "kl": "KL"}


def _faint(color: str) -> pg.QtGui.QColor:
    c = pg.mkColor(color)
    c.setAlpha(70)
    return c


class LossPlot(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._pixels = 784
        self._version = -1
        self._history: History | None = None
        self._val_count = -1
        self._smoother = Smoother()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        header = QHBoxLayout()
        header.setContentsMargins(6, 0, 6, 0)
        title = QLabel("Loss")
        title.setObjectName("sectionTitle")
        self.readout = QLabel("Press Train to start: the curves appear here as the model learns.")
        self.readout.setObjectName("readout")
        # the figures wrap rather than widen the window: a long readout must never push it past the screen
        self.readout.setWordWrap(True)
        self.readout.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.readout.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.log_scale = QCheckBox("Log scale")
        self.log_scale.setToolTip("Show the loss axis on a logarithmic scale, to see late, small improvements")
        self.log_scale.toggled.connect(self._on_log)
        header.addWidget(title)
        header.addSpacing(12)
        header.addWidget(self.readout, 1)
        header.addWidget(self.log_scale)
        layout.addLayout(header)

        self.graphics = pg.GraphicsLayoutWidget()
        self._tip = (
            "Losses in nats per image (sum over pixels, mean over the batch): −ELBO = reconstruction + KL.\n"
            "Divide by (pixels × ln 2) for bits per dimension; for 28×28 images, 100 nats ≈ 0.184 bits/dim.\n"
            "Faint lines: every progress report; solid: smoothed; circles: held-out set after each epoch; "
            "star: the best held-out epoch."
        )
        self.graphics.setToolTip(self._tip)
        layout.addWidget(self.graphics, 1)

        self.plot: pg.PlotItem = self.graphics.addPlot(row=0, col=0)
        self.plot.setLabel("left", "loss", units="nats / image")
        self.plot.getAxis("left").enableAutoSIPrefix(False)
        add_grid(self.plot)
        self.plot.setClipToView(True)
        self.plot.setDownsampling(auto=True, mode="peak")
        self.legend = self.plot.addLegend(offset=(-10, 10), labelTextSize="9pt", brush=legend_brush())
        self.legend.setColumnCount(3)  # short rows stay above the curves once the loss has dropped

        self.raw: dict[str, pg.PlotDataItem] = {}
        self.smooth: dict[str, pg.PlotDataItem] = {}
        self.val: dict[str, pg.PlotDataItem] = {}
        for key in NAMES:
            self.raw[key] = self.plot.plot(pen=pg.mkPen(_faint(COLORS[key]), width=1))
        for key, name in NAMES.items():
            self.smooth[key] = self.plot.plot(pen=pg.mkPen(COLORS[key], width=2), name=f"{name} (train)")
        for key, name in NAMES.items():
            self.val[key] = self.plot.plot(
                pen=pg.mkPen(COLORS[key], width=1, style=Qt.PenStyle.DashLine),
                symbol="o", symbolSize=6, symbolBrush=COLORS[key], symbolPen=None, name=f"{name} (held out)",
            )

        # the epoch whose weights scored best on the held-out set: what `vae-studio train` keeps
        self.best = pg.ScatterPlotItem(symbol="star", size=16, brush=pg.mkBrush(COLORS["neg_elbo"]),
                                       pen=pg.mkPen("w", width=1), name="best epoch")
        self.plot.addItem(self.best)  # named: the legend lists it
        self._best_epoch: int | None = None
        self._likelihood = "bernoulli"

        self.weight_plot: pg.PlotItem = self.graphics.addPlot(row=1, col=0)
        self.weight_plot.setLabel("left", "KL weight")
        self.weight_plot.setLabel("bottom", "training step")
        self.weight_plot.setYRange(0, 1.05, padding=0)
        self.weight_plot.setMouseEnabled(y=False)
        add_grid(self.weight_plot)
        self.weight_plot.setXLink(self.plot)
        self.weight_plot.setMaximumHeight(80)  # the losses keep most of the height
        self.weight_plot.getAxis("left").setWidth(self.plot.getAxis("left").width())
        self.weight_curve = self.weight_plot.plot(pen=pg.mkPen(COLORS["kl_weight"], width=2))
        self.set_weight_visible(False)

        # Ranges follow the data in steps, not on every point: each range change re-lays out and
        # re-renders the axes, which costs more than the curves themselves. A pan or zoom by hand
        # stops the following; pyqtgraph's "A" button brings it back.
        self.following = True
        vb = self.plot.getViewBox()
        vb.disableAutoRange()
        vb.sigRangeChangedManually.connect(self._stop_following)
        self.plot.autoBtn.clicked.connect(self._follow_again)
        cache_static_parts(self.plot, self.weight_plot)

    # -- public ------------------------------------------------------------------------------
    def set_pixels(self, pixels: int) -> None:
        self._pixels = pixels

    def set_weight_visible(self, visible: bool) -> None:
        """The KL weight row is shown only when a warm-up schedule makes it move."""
        self.weight_plot.setVisible(visible)
        self._version = -1  # the curve is filled only while it shows: fill it at the next refresh
        self.plot.setLabel("bottom", None if visible else "training step")
        self.plot.showAxis("bottom", True)

    def refresh(self, history: History, force: bool = False, planned_steps: float | None = None) -> bool:
        """Redraw from the buffers if they changed; True if anything was drawn.

        ``planned_steps``: the step the run will end at, if known; the view never grows past it."""
        if history.version == self._version and history is self._history and not force:
            return False
        self._planned = planned_steps
        new_run = history is not self._history  # each run has its own buffers
        self._version = history.version
        self._history = history
        steps = history.array("step")
        val_steps = history.array("val_step")
        # held-out points come once an epoch: their symbols are rebuilt only when they change
        val_changed = force or new_run or self._val_count != len(val_steps)
        self._val_count = len(val_steps)
        for key in NAMES:
            self.raw[key].setData(steps, history.array(key))
            self.smooth[key].setData(steps, self._smoother.arrays(history)[key])
            if val_changed:
                self.val[key].setData(val_steps, history.array(f"val_{key}"))
        if val_changed:
            self._mark_best(history)
        if self.following:
            self._follow(history)
        weight = history.array("kl_weight")
        if len(weight) and not self.weight_plot.isVisible() and np.any(weight < 1.0):
            self.set_weight_visible(True)
        if self.weight_plot.isVisible() or not len(weight):
            self.weight_curve.setData(steps, weight)
        self._update_readout(history)
        return True

    def curve_data(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """What each curve currently shows (for tests and exports)."""
        out = {}
        for group, items in (("raw", self.raw), ("smooth", self.smooth), ("val", self.val)):
            for key, item in items.items():
                x, y = item.getOriginalDataset()
                out[f"{group}:{key}"] = (np.asarray(x if x is not None else []), np.asarray(y if y is not None else []))
        return out

    # -- internals ---------------------------------------------------------------------------
    def set_likelihood(self, label: str) -> None:
        """Which likelihood the nats are measured against: figures compare only under the same one."""
        self._likelihood = label
        self.graphics.setToolTip(self._tip + f"\nLikelihood: {label.replace('-', ' ')}; nats compare only between runs "
                                 "with the same likelihood.")

    @property
    def best_epoch(self) -> int | None:
        return self._best_epoch

    def _mark_best(self, history: History) -> None:
        val = history.array("val_neg_elbo")
        finite = np.isfinite(val)
        if not finite.any():
            self.best.setData([], [])
            self._best_epoch = None
            return
        i = int(np.argmin(np.where(finite, val, np.inf)))
        self.best.setData([history.array("val_step")[i]], [val[i]])
        self._best_epoch = int(history.array("val_epoch")[i])

    def _update_readout(self, history: History) -> None:
        if not len(history):
            self.readout.setText("Press Train to start: the curves appear here as the model learns.")
            return
        e, r, k = (self._smoother.arrays(history)[n][-1] for n in ("neg_elbo", "recon", "kl"))
        text = (
            f"−ELBO <b>{e:.1f}</b> nats/image ({nats_to_bits_per_dim(e, self._pixels):.3f} bits/dim) · "
            f"recon {r:.1f} · KL {k:.1f}"
        )
        val = history.array("val_neg_elbo")
        if len(val) and math.isfinite(val[-1]):
            text += f" · held-out −ELBO {val[-1]:.1f}"
        if self._best_epoch is not None and len(val) > 1:
            text += f" · best: epoch {self._best_epoch}"
        self.readout.setText(text + f" · {self._likelihood.replace('-', ' ')} likelihood")

    def _on_log(self, on: bool) -> None:
        self.plot.setLogMode(x=False, y=on)
        self._range = None
        if self.following:
            self._follow_again()

    def _stop_following(self, *_):
        self.following = False

    def _follow_again(self, *_):
        self.following = True
        self._range = None
        self.plot.getViewBox().disableAutoRange()
        self._version = -1

    _range: tuple[float, float, float, float] | None = None

    def reset_view(self) -> None:
        """Another run is shown: its range owes nothing to the previous run's."""
        self._range = None
        self._planned = None
        self.following = True

    def fit_to_data(self, history: History) -> None:
        """Snap the range to the data (when a run ends), unless the person has zoomed by hand."""
        if self.following:
            self._range = None
            self._follow(history, fit=True)

    _planned: float | None = None

    def _follow(self, history: History, fit: bool = False) -> None:
        """Keep the data in view; ``fit``: snugly, for a run that stands still."""
        steps = history.array("step")
        if not len(steps):
            self._range = None
            vb = self.plot.getViewBox()
            vb.setRange(xRange=(0, 10), yRange=(0, 1), padding=0, disableAutoRange=True)
            return
        # y from the smoothed and held-out curves: single noisy reports may leave the view
        ys = [self._smoother.arrays(history)[k] for k in NAMES] + [history.array(f"val_{k}") for k in NAMES]
        y = np.concatenate([a for a in ys if len(a)])
        y = y[np.isfinite(y)]
        log = self.log_scale.isChecked()
        if log:
            y = np.log10(y[y > 0])
        if not len(y):
            return
        x_hi = float(steps[-1])
        lo, hi = float(y.min()), float(y.max())
        span = max(hi - lo, 1e-6)
        r = self._range
        # Each change of range re-renders both axes and repaints the whole plot, so while a run
        # goes the range moves in steps: x doubles ahead of the data, up to the run's planned
        # end; y changes only when the data leaves it or fills less than half of it, with room
        # below for the loss to keep falling.
        stale = r is None or x_hi > r[1] or lo < r[2] or hi > r[3] or (hi - lo) < 0.5 * (r[3] - r[2])
        if stale:
            x_end = max(10.0, x_hi * (1.02 if fit else 2.0))
            if self._planned is not None and self._planned >= x_hi:
                x_end = min(x_end, max(10.0, 1.02 * self._planned))
            y_lo = lo - (0.06 if fit else 0.25) * span
            if not log and lo >= 0:
                y_lo = max(0.0, y_lo)  # losses in nats are positive: an axis below 0 shows nothing
            r = (float(steps[0]) if len(steps) > 1 else 0.0, x_end, y_lo, hi + 0.06 * span)
            self._range = r
            vb = self.plot.getViewBox()
            vb.setRange(xRange=(r[0], r[1]), yRange=(r[2], r[3]), padding=0, disableAutoRange=True)
            vb.prepareForPaint()  # the new transform now: applied at the paint, it asks for a second one
