"""Parts shared by the plots: a cheap grid, cached axes and legends, the legend's background.

The plots redraw several times a second while a model trains, in the same process that must stay
responsive, on a software renderer; every millisecond spent painting here is one the training
process may lose on a small machine. These parts draw the same things as pyqtgraph's own, faster.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QLineF, QRectF

# alpha of the grid's lines over the plot background: major ticks, then finer ones
_GRID_ALPHA = (40, 16)


class GridLines(pg.GraphicsObject):
    """Grid lines at the axes' ticks, drawn in one call with hairline pens.

    pyqtgraph's ``showGrid`` lengthens every tick of the axis across the plot and replays the
    whole picture through the axis, which on the raster engine costs far more per frame than
    drawing the lines once, as here.
    """

    def __init__(self, plot: pg.PlotItem, x: bool = True, y: bool = True):
        super().__init__()
        self._plot = plot
        self._axes = tuple(name for name, on in (("bottom", x), ("left", y)) if on)
        color = pg.mkColor(pg.getConfigOption("foreground"))
        self._pens = []
        for alpha in _GRID_ALPHA:
            c = pg.mkColor(color)
            c.setAlpha(alpha)
            pen = pg.mkPen(c, width=0)
            pen.setCosmetic(True)
            self._pens.append(pen)
        self.setZValue(-1000)  # under every curve
        vb = plot.getViewBox()
        vb.addItem(self, ignoreBounds=True)
        vb.sigRangeChanged.connect(self._range_changed)

    def _range_changed(self, *_) -> None:
        self.prepareGeometryChange()
        self.update()

    def boundingRect(self) -> QRectF:
        return self._plot.getViewBox().viewRect()

    def paint(self, painter, *_) -> None:
        vb = self._plot.getViewBox()
        r = vb.viewRect()
        levels: list[list[QLineF]] = [[] for _ in self._pens]
        for name in self._axes:
            vertical = name == "bottom"
            lo, hi = (r.left(), r.right()) if vertical else (r.top(), r.bottom())
            size = vb.width() if vertical else vb.height()
            if size <= 0 or not hi > lo:
                continue
            ticks = self._plot.getAxis(name).tickValues(lo, hi, size)
            for level, (_, values) in enumerate(ticks[: len(levels)]):
                for v in values:
                    if lo <= v <= hi:
                        levels[level].append(QLineF(v, r.top(), v, r.bottom()) if vertical
                                             else QLineF(r.left(), v, r.right(), v))
        for pen, lines in zip(self._pens, levels):
            if lines:
                painter.setPen(pen)
                painter.drawLines(lines)


def add_grid(plot: pg.PlotItem, x: bool = True, y: bool = True) -> GridLines:
    """A light grid behind ``plot``'s items, at its axes' ticks (``showGrid``, made cheap)."""
    return GridLines(plot, x=x, y=y)


def cache_static_parts(*plots: pg.PlotItem) -> None:
    """Keep axes and legends as cached pixmaps: they change only with the range, not per frame.

    Without this every repaint of the view replays each axis's tick text, which on a software
    renderer costs more than drawing the curves.
    """
    mode = pg.QtWidgets.QGraphicsItem.CacheMode.DeviceCoordinateCache
    for plot in plots:
        for name in ("left", "bottom", "right", "top"):
            plot.getAxis(name).setCacheMode(mode)
        if plot.legend is not None:
            plot.legend.setCacheMode(mode)


def legend_brush() -> pg.QtGui.QBrush:
    """The plot background, slightly see-through, so the legend stays readable over curves."""
    c = pg.mkColor(pg.getConfigOption("background"))
    c.setAlpha(215)
    return pg.mkBrush(c)
