"""The anomaly view's two charts: the score's histogram per group with a draggable threshold, and
the ROC curve with the threshold's point on it."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

from ..latent_map import CLASS_COLORS
from ..plot_parts import add_grid, legend_brush

NORMAL_COLOR, ANOMALOUS_COLOR = "#4E79A7", "#F28E2B"
THRESHOLD_COLOR = "#d62728"


def _plot(tooltip: str) -> pg.PlotWidget:
    w = pg.PlotWidget()
    w.setMenuEnabled(False)
    w.setMouseEnabled(x=False, y=False)
    w.hideButtons()
    w.setToolTip(tooltip)
    w.setMinimumSize(150, 120)
    add_grid(w.getPlotItem())
    return w


class ScoreHistogram(QWidget):
    """Histograms of one score per group (class, or normal and anomalous), as a share of each
    group; ``thresholdMoved(float)`` while the red line is dragged."""

    thresholdMoved = Signal(float)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.plot = _plot("How the chosen score spreads over each group of images, as a share of the group "
                          "(higher = more anomalous).\nDrag the red line, or use the slider, to set the threshold: "
                          "images at or above it are flagged.")
        layout.addWidget(self.plot)
        item = self.plot.getPlotItem()
        item.setLabel("left", "share")
        item.getAxis("left").enableAutoSIPrefix(False)
        item.getAxis("bottom").enableAutoSIPrefix(False)
        self.legend = item.addLegend(offset=(-4, 2), labelTextSize="8pt", brush=legend_brush(), verSpacing=-8,
                                     colCount=2)
        self.curves: list[pg.PlotDataItem] = []
        self.line = pg.InfiniteLine(angle=90, movable=True, pen=pg.mkPen(THRESHOLD_COLOR, width=2),
                                    hoverPen=pg.mkPen(THRESHOLD_COLOR, width=4))
        self.line.setZValue(10)
        self.line.hide()
        item.addItem(self.line, ignoreBounds=True)
        self.line.sigDragged.connect(lambda line: self.thresholdMoved.emit(float(line.value())))

    def clear(self) -> None:
        for c in self.curves:
            self.plot.removeItem(c)
        self.curves = []
        self.legend.clear()
        self.line.hide()

    def set_data(self, edges: np.ndarray, groups, x_label: str) -> None:
        """``groups``: (name, class or None, shares per bin) each."""
        self.clear()
        self.legend.setColumnCount(5 if len(groups) > 4 else 1)
        for i, (name, c, shares) in enumerate(groups):
            if c is not None:
                color = CLASS_COLORS[c % len(CLASS_COLORS)]
            else:
                color = (NORMAL_COLOR, ANOMALOUS_COLOR)[min(i, 1)]
            fill = pg.mkColor(color)
            fill.setAlpha(60 if len(groups) <= 2 else 0)
            curve = pg.PlotDataItem(edges, shares, stepMode="center", pen=pg.mkPen(color, width=1.6),
                                    fillLevel=0 if len(groups) <= 2 else None, brush=fill)
            self.plot.addItem(curve)
            self.legend.addItem(curve, name)
            self.curves.append(curve)
        top = max((float(s.max()) for _, _, s in groups if len(s)), default=1.0)
        self.plot.setLabel("bottom", x_label)
        self.plot.setXRange(float(edges[0]), float(edges[-1]), padding=0.02)
        self.plot.setYRange(0, top * 1.25 if top > 0 else 1.0, padding=0)

    def set_threshold(self, value: float | None) -> None:
        if value is None or not np.isfinite(value):
            self.line.hide()
            return
        self.line.blockSignals(True)
        self.line.setValue(value)
        self.line.blockSignals(False)
        self.line.show()


class RocPlot(QWidget):
    """The ROC curve of the chosen score, its AUROC, and where the threshold sits on it."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.plot = _plot("ROC curve: the share of anomalies flagged (detection rate) against the share of normal "
                          "images flagged (false-positive rate), over every threshold.\nAUROC: the chance that a "
                          "random anomaly scores above a random normal image (0.5 = chance).")
        layout.addWidget(self.plot)
        item = self.plot.getPlotItem()
        item.setLabel("bottom", "false-positive rate")
        item.setLabel("left", "detection rate")
        item.setXRange(0, 1, padding=0.03)
        item.setYRange(0, 1, padding=0.03)
        item.enableAutoRange(enable=False)
        for side in ("bottom", "left"):
            item.getAxis(side).setTicks([[(v, f"{v:g}") for v in (0, 0.5, 1)], [(v, "") for v in (0.25, 0.75)]])
        fg = pg.mkColor(pg.getConfigOption("foreground"))
        chance = pg.PlotDataItem([0, 1], [0, 1], pen=pg.mkPen(fg, width=1, style=Qt.PenStyle.DashLine))
        chance.setOpacity(0.4)
        item.addItem(chance)
        self.curve = pg.PlotDataItem(pen=pg.mkPen(NORMAL_COLOR, width=2))
        item.addItem(self.curve)
        self.point = pg.ScatterPlotItem(size=10, brush=pg.mkBrush(THRESHOLD_COLOR), pen=None)
        item.addItem(self.point)
        self.auroc: float | None = None

    def set_curve(self, roc, note: str = "") -> None:
        """An ROC (core ``RocCurve``), or None with a note on why there is none."""
        if roc is None:
            self.curve.setData([], [])
            self.point.setData([], [])
            self.auroc = None
            self.plot.setTitle(note, size="8pt")
            return
        self.auroc = roc.auroc
        self.curve.setData(roc.fpr, roc.tpr)
        self.plot.setTitle(f"AUROC {roc.auroc:.3f}", size="9pt")

    def set_point(self, fpr: float | None, tpr: float | None) -> None:
        if fpr is None or tpr is None or not (np.isfinite(fpr) and np.isfinite(tpr)) or self.auroc is None:
            self.point.setData([], [])
        else:
            self.point.setData([fpr], [tpr])
