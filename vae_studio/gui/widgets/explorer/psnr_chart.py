"""A small chart of PSNR against noise level: the noisy images, the VAE's output and a 3x3 median
filter, with a line at the level chosen."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QVBoxLayout, QWidget

from ..plot_parts import add_grid, legend_brush

CURVES = (("noisy", "input", "#888888", Qt.PenStyle.DashLine), ("denoised", "VAE", "#0072B2", Qt.PenStyle.SolidLine),
          ("median", "median", "#E69F00", Qt.PenStyle.SolidLine))


class PsnrChart(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.plot = pg.PlotWidget()
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        self.plot.setMinimumSize(160, 110)
        layout.addWidget(self.plot)
        self.plot.setToolTip("Mean PSNR against the clean digits, in dB, over held-out digits at each noise level: "
                             "higher is closer to the clean digit. The median filter is the classic yardstick.")
        item = self.plot.getPlotItem()
        item.setLabel("left", "PSNR (dB)")
        item.getAxis("left").enableAutoSIPrefix(False)
        item.getAxis("bottom").enableAutoSIPrefix(False)
        add_grid(item)
        self.legend = item.addLegend(offset=(-4, 2), labelTextSize="8pt", brush=legend_brush(), verSpacing=-8)
        self.curves = {}
        for key, name, color, style in CURVES:
            c = pg.PlotDataItem(pen=pg.mkPen(color, width=2, style=style), symbol="o", symbolSize=4,
                                symbolBrush=color, symbolPen=None)
            item.addItem(c)
            self.legend.addItem(c, name)
            self.curves[key] = c
        self.line = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen("#d62728", width=1))
        item.addItem(self.line, ignoreBounds=True)
        self.line.hide()
        self.curve = None

    def set_curve(self, curve, x_label: str, title: str) -> None:
        """A core ``PsnrCurve``, or None to empty the chart (``title`` then says why)."""
        self.curve = curve
        self.plot.setTitle(title, size="8pt")
        if curve is None:
            for c in self.curves.values():
                c.setData([], [])
            return
        for key, c in self.curves.items():
            c.setData(curve.levels, getattr(curve, key))
        self.plot.setLabel("bottom", x_label)
        values = [getattr(curve, key) for key, *_ in CURVES]
        lo, hi = min(float(v.min()) for v in values), max(float(v.max()) for v in values)
        self.plot.setXRange(float(curve.levels[0]), float(curve.levels[-1]), padding=0.04)
        self.plot.setYRange(lo - 1.0, hi + 0.5 * (hi - lo) + 1.0, padding=0)  # headroom for the legend

    def set_level(self, level: float | None) -> None:
        if level is None:
            self.line.hide()
        else:
            self.line.setValue(level)
            self.line.show()
