"""The latent map: where each held-out image lands in latent space, and a surface to click.

All plot items are made once and fed with ``setData``; snapshots only move points. Clicks are
taken from the scene (``sigMouseClicked``), not from the scatter, so an empty spot decodes as
well as a point does; the scatter's own ``sigClicked`` fires only on points.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

# ten distinguishable class colours (Tableau 10); more classes cycle
CLASS_COLORS = ("#4E79A7", "#F28E2B", "#E15759", "#76B7B2", "#59A14F", "#EDC948", "#B07AA1", "#FF9DA7", "#9C755F", "#BAB0AC")
SNAP_PIXELS = 7.0  # a click this close to a point (in screen pixels) is a click on that point
PRIOR_SIGMAS = (1.0, 2.0, 3.0)


class LatentMapPlot(QWidget):
    """Scatter of the probe set's posterior means in a 2-D view, with overlays.

    Signals carry view coordinates; ``clicked``'s third value is the index of the probe point
    under the cursor, or -1 for an empty spot.
    """

    clicked = Signal(float, float, int)
    hovered = Signal(float, float)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.plot = pg.PlotWidget()
        self.plot.setAspectLocked(True)
        # no grid: its alpha-blended lines cost more to paint than 5,000 points; the prior's
        # circles give the scale instead
        self.plot.setMinimumSize(240, 240)
        self.plot.setToolTip(
            "Each dot is a held-out image placed at the mean of its posterior q(z|x), coloured by class.\n"
            "Click anywhere to decode that point; drag to pan, scroll to zoom, right-click for more.\n"
            "Dashed circles: where the prior N(0, I) puts 39%, 86% and 99% of its mass in this view;\n"
            "with a learned mixture prior, the 1σ ellipses of its 20 heaviest components instead."
        )
        self.vb: pg.ViewBox = self.plot.getPlotItem().getViewBox()
        layout.addWidget(self.plot, 1)
        self.readout = QLabel(" ")
        self.readout.setObjectName("caption")
        layout.addWidget(self.readout)

        fg = pg.mkColor(pg.getConfigOption("foreground"))  # follows the theme (configure_plots)
        self._brushes: list = [pg.mkBrush(c) for c in CLASS_COLORS]

        self.contours = []
        self.contour_labels = []
        for k in PRIOR_SIGMAS:
            c = pg.PlotCurveItem(pen=pg.mkPen(fg, width=1, style=Qt.PenStyle.DashLine))
            c.setOpacity(0.45)
            c.setZValue(-10)
            self.plot.addItem(c)
            self.contours.append(c)
            t = pg.TextItem(f"{k:g}σ", color=fg, anchor=(0, 1))
            t.setOpacity(0.6)
            self.plot.addItem(t, ignoreBounds=True)
            self.contour_labels.append(t)

        # one scatter per class, each with its one brush: an update only moves points, and
        # pyqtgraph never styles points one by one
        self.scatters: list[pg.ScatterPlotItem] = []
        self._groups: tuple[np.ndarray, list[np.ndarray]] | None = None  # (labels, indices per class)
        self.selected = pg.ScatterPlotItem(size=13, pen=pg.mkPen(fg, width=2), brush=None, symbol="o")
        self.plot.addItem(self.selected, ignoreBounds=True)

        accent = QColor("#d62728")
        self.path_linear = pg.PlotDataItem(pen=pg.mkPen(accent, width=2), symbol="o", symbolSize=5, symbolBrush=accent, symbolPen=None)
        self.path_slerp = pg.PlotDataItem(
            pen=pg.mkPen(accent, width=2, style=Qt.PenStyle.DotLine), symbol="t", symbolSize=6, symbolBrush=accent, symbolPen=None
        )
        for item in (self.path_linear, self.path_slerp):
            item.setZValue(5)
            self.plot.addItem(item, ignoreBounds=True)
        self.path_labels = [pg.TextItem(t, color=accent, anchor=(0.5, 1.2)) for t in ("A", "B")]
        for t in self.path_labels:
            t.setZValue(6)
            self.plot.addItem(t, ignoreBounds=True)
            t.hide()

        drawn = QColor("#9467bd")
        self.drawn_ellipse = pg.PlotCurveItem(pen=pg.mkPen(drawn, width=2), brush=pg.mkBrush(drawn.red(), drawn.green(), drawn.blue(), 50))
        self.drawn_ellipse.setZValue(7)
        self.plot.addItem(self.drawn_ellipse, ignoreBounds=True)
        self.drawn_marker = pg.ScatterPlotItem(size=16, symbol="star", pen=pg.mkPen(fg, width=1), brush=pg.mkBrush(drawn))
        self.drawn_marker.setZValue(8)
        self.plot.addItem(self.drawn_marker, ignoreBounds=True)

        self.marker = pg.ScatterPlotItem(size=22, symbol="crosshair", pen=pg.mkPen(fg, width=2), brush=None)
        self.marker.setZValue(10)
        self.plot.addItem(self.marker, ignoreBounds=True)

        bg = pg.mkColor(pg.getConfigOption("background"))
        bg.setAlpha(200)  # points stay faintly visible under the legend
        self.legend = self.plot.addLegend(offset=(4, 4), labelTextSize="8pt", brush=pg.mkBrush(bg), verSpacing=-6)
        self._legend_names: tuple[str, ...] | None = None

        self._xy = np.zeros((0, 2), dtype=np.float32)
        self._axis_text: tuple[str, str] | None = None
        # The range follows the points in steps (see _follow); a pan or zoom by hand stops
        # that until the "A" button or a new view brings it back.
        self._following = True
        self._snug = True  # the next fit is tight: a new view, not points that keep spreading
        self._contour_box: np.ndarray | None = None  # (lo, hi) of the prior's circles
        self.vb.disableAutoRange()
        self.vb.sigRangeChangedManually.connect(self._stop_following)
        self.vb.sigResized.connect(self._on_resized)
        self.plot.getPlotItem().autoBtn.clicked.connect(self.auto_range)
        self.plot.scene().sigMouseClicked.connect(self._on_scene_click)
        # the hover preview decodes at most ~30 times a second however fast the mouse moves
        self._hover_proxy = pg.SignalProxy(self.plot.scene().sigMouseMoved, rateLimit=30, slot=self._on_scene_move, threadSafe=False)

    # -- data --------------------------------------------------------------------------------
    def _scatter(self, c: int) -> pg.ScatterPlotItem:
        while len(self.scatters) <= c:
            k = len(self.scatters)
            item = pg.ScatterPlotItem(size=5, pen=None, brush=self._brushes[k % len(self._brushes)], antialias=False)
            item.setZValue(0)
            self.plot.addItem(item)
            self.scatters.append(item)
        return self.scatters[c]

    def set_class_names(self, names: tuple[str, ...]) -> None:
        names = tuple(names)
        if names == self._legend_names:
            return
        self._legend_names = names
        self.legend.clear()
        self.legend.setColumnCount(5 if len(names) > 5 else 1)
        for i, name in enumerate(names):
            self.legend.addItem(self._scatter(i), name)

    def _class_groups(self, labels: np.ndarray) -> list[np.ndarray]:
        # the probe set is fixed for a run, so the split by class is computed once
        g = self._groups
        if g is not None and g[0].shape == labels.shape and np.array_equal(g[0], labels):
            return g[1]
        labels = np.asarray(labels, dtype=np.int64)
        n = int(labels.max()) + 1 if len(labels) else 0
        groups = [np.flatnonzero(labels == c) for c in range(n)]
        self._groups = (labels.copy(), groups)
        return groups

    def set_points(self, xy: np.ndarray, labels: np.ndarray) -> None:
        xy = np.asarray(xy, dtype=np.float32)
        self._xy = xy
        groups = self._class_groups(labels) if len(xy) else []
        for c, idx in enumerate(groups):
            _move_points(self._scatter(c), xy[idx, 0], xy[idx, 1])
        for item in self.scatters[len(groups):]:
            _erase(item)
        if self._following:
            self._follow()

    def points(self) -> np.ndarray:
        return self._xy

    def set_axis_labels(self, x: str, y: str) -> None:
        if (x, y) != self._axis_text:  # a new label re-lays out the plot
            self._axis_text = (x, y)
            self.plot.setLabel("bottom", x)
            self.plot.setLabel("left", y)

    def set_prior_contours(self, curves: list[np.ndarray]) -> None:
        pts = np.concatenate([np.asarray(c, dtype=np.float64) for c in curves]) if curves else np.zeros((0, 2))
        pts = pts[np.isfinite(pts).all(1)]
        self._contour_box = np.stack([pts.min(0), pts.max(0)]) if len(pts) else None
        for j, (item, label) in enumerate(zip(self.contours, self.contour_labels)):
            c = np.asarray(curves[j], dtype=np.float64) if j < len(curves) else np.zeros((0, 2))
            item.setData(c[:, 0], c[:, 1], connect="finite")
            # label where a circle crosses 45 degrees up-right; one curve of many ellipses has no label
            label.setVisible(len(curves) == len(self.contours) and len(c) > 0)
            if len(c):
                i = len(c) // 8
                label.setPos(float(c[i, 0]), float(c[i, 1]))

    def set_marker(self, xy: np.ndarray | None) -> None:
        if xy is None:
            _erase(self.marker)
        else:
            self.marker.setData([float(xy[0])], [float(xy[1])])

    def marker_position(self) -> np.ndarray | None:
        x, y = self.marker.getData()
        return None if x is None or len(x) == 0 else np.array([x[0], y[0]])

    def set_selected(self, xy: np.ndarray | None) -> None:
        if xy is None:
            _erase(self.selected)
        else:
            self.selected.setData([float(xy[0])], [float(xy[1])])

    def set_paths(self, linear: np.ndarray | None, slerp: np.ndarray | None) -> None:
        for item, p in ((self.path_linear, linear), (self.path_slerp, slerp)):
            if p is None:
                item.setData([], [])
            else:
                item.setData(p[:, 0], p[:, 1])
        ends = linear if linear is not None else slerp
        for t, row in zip(self.path_labels, (0, -1)):
            if ends is None:
                t.hide()
            else:
                t.setPos(float(ends[row, 0]), float(ends[row, 1]))
                t.show()

    def set_drawn(self, centre: np.ndarray | None, ellipse: np.ndarray | None) -> None:
        if centre is None:
            _erase(self.drawn_marker)
            self.drawn_ellipse.setData([], [])
            return
        self.drawn_marker.setData([float(centre[0])], [float(centre[1])])
        self.drawn_ellipse.setData(ellipse[:, 0], ellipse[:, 1])

    def settle(self) -> None:
        """Apply a pending auto-range now. pyqtgraph defers it to the next paint, so code that
        asks for the range between a data update and that paint would see the old one."""
        self.vb.prepareForPaint()

    def visible_range(self) -> tuple[tuple[float, float], tuple[float, float]]:
        self.settle()
        (x0, x1), (y0, y1) = self.vb.viewRange()
        return (x0, x1), (y0, y1)

    def auto_range(self) -> None:
        """Fit the view to the points and the prior's circles, and follow them from now on."""
        self._following = True
        self._snug = True
        self._follow()

    def _stop_following(self, *_) -> None:
        self._following = False

    def _on_resized(self, *_) -> None:
        # the aspect lock widens the range on one side only when the plot's shape changes
        if self._following:
            self._snug = True
            self._follow()

    def _follow(self) -> None:
        """Keep the points and the prior's circles in view, moving the range only when needed.

        Each snapshot moves every point a little. Refitting each time would re-render both axes
        and repaint the whole plot about once a second during training; instead the range moves
        when something leaves it, drifts off its centre or shrinks below 70% of it, and then
        leaves room to spread.
        """
        xy = self._xy[np.isfinite(self._xy).all(1)] if len(self._xy) else self._xy
        boxes = [np.stack([xy.min(0), xy.max(0)]).astype(np.float64)] if len(xy) else []
        if self._contour_box is not None:
            boxes.append(self._contour_box)
        if not boxes:
            return
        lo = np.min([b[0] for b in boxes], axis=0)
        hi = np.max([b[1] for b in boxes], axis=0)
        (x0, x1), (y0, y1) = self.vb.viewRange()
        w, h = max(self.vb.width(), 1.0), max(self.vb.height(), 1.0)
        # the aspect is locked (a unit on x is a unit on y): the scale is units per pixel
        need = max((hi[0] - lo[0]) / w, (hi[1] - lo[1]) / h, 1e-9)
        have = max((x1 - x0) / w, (y1 - y0) / h, 1e-12)
        centre = (lo + hi) / 2
        inside = lo[0] >= x0 and hi[0] <= x1 and lo[1] >= y0 and hi[1] <= y1
        off_centre = abs(centre[0] - (x0 + x1) / 2) > 0.1 * (x1 - x0) or abs(centre[1] - (y0 + y1) / 2) > 0.1 * (y1 - y0)
        if inside and need > 0.7 * have and not off_centre and not self._snug:
            return
        units_per_px = (1.04 if self._snug else 1.2) * need
        self._snug = False
        # centred, with the plot's longer side taking the slack; left to the aspect lock, the
        # range would widen on one side only
        cx, cy = centre
        half_x, half_y = units_per_px * w / 2, units_per_px * h / 2
        self.vb.setRange(xRange=(cx - half_x, cx + half_x), yRange=(cy - half_y, cy + half_y), padding=0)

    def clear(self) -> None:
        self._xy = np.zeros((0, 2), dtype=np.float32)
        for item in self.scatters:
            _erase(item)
        self.set_marker(None)
        self.set_selected(None)
        self.set_paths(None, None)
        self.set_drawn(None, None)
        self.readout.setText(" ")

    # -- mouse -------------------------------------------------------------------------------
    def view_to_widget(self, x: float, y: float):
        """Where view point (x, y) is in the PlotWidget's viewport, for synthetic mouse events."""
        self.settle()
        return self.plot.mapFromScene(self.vb.mapViewToScene(QPointF(x, y)))

    def nearest_point(self, x: float, y: float, pixels: float = SNAP_PIXELS) -> int:
        """Index of the probe point within ``pixels`` screen pixels of (x, y), or -1."""
        if len(self._xy) == 0:
            return -1
        px, py = self.vb.viewPixelSize()
        if not (px > 0 and py > 0):
            return -1
        d2 = ((self._xy[:, 0] - x) / px) ** 2 + ((self._xy[:, 1] - y) / py) ** 2
        i = int(np.argmin(d2))
        return i if d2[i] <= pixels * pixels else -1

    def handle_scene_click(self, scene_pos) -> bool:
        """The click path: a scene position -> view coordinates -> ``clicked``. False when the
        position lies outside the plotting area (on an axis or the legend's margin)."""
        if not self.vb.sceneBoundingRect().contains(scene_pos):
            return False
        p = self.vb.mapSceneToView(scene_pos)
        x, y = float(p.x()), float(p.y())
        self.clicked.emit(x, y, self.nearest_point(x, y))
        return True

    def _on_scene_click(self, ev) -> None:
        if ev.button() != Qt.MouseButton.LeftButton or ev.double():
            return
        self.handle_scene_click(ev.scenePos())

    def _on_scene_move(self, args) -> None:
        pos = args[0]
        if not self.vb.sceneBoundingRect().contains(pos):
            return
        p = self.vb.mapSceneToView(pos)
        self.readout.setText(f"cursor  x = {p.x():+.2f}   y = {p.y():+.2f}")
        self.hovered.emit(float(p.x()), float(p.y()))


def _erase(item: pg.ScatterPlotItem) -> None:
    """``item.clear()`` that also erases the points from the screen.

    ScatterPlotItem.clear empties its bounding rectangle without telling the scene first, so the
    scene repaints only the new, empty rectangle and the old points stay on screen, half-erased
    wherever something else happens to be redrawn.
    """
    if len(item.data) == 0:
        return
    item.prepareGeometryChange()
    item.clear()
    item.informViewBoundsChanged()


def _move_points(item: pg.ScatterPlotItem, x: np.ndarray, y: np.ndarray) -> None:
    """``item.setData(x=x, y=y)`` for a scatter whose points only move.

    setData rebuilds the record array and looks every point's style up again, a Python loop
    over the points. When the count is unchanged the styles are too, so
    only the coordinates are written, followed by the same invalidation setData performs.
    """
    data = item.data
    if len(data) != len(x) or len(x) == 0:
        item.setData(x=x, y=y)
        return
    data["x"] = x
    data["y"] = y
    item.prepareGeometryChange()
    item.informViewBoundsChanged()
    item.bounds = [None, None]
    item.invalidate()
    item.sigPlotChanged.emit(item)
