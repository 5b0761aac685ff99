"""The latent map as a view of the explorer's state: points, marker, paths, the drawing.

Clicks, hovers and the visible region go into the state; what the map draws comes out of it.
Before any model, it shows the prior's circles of a 2-D space at their true size, so the empty
map already has the scale the points will arrive in.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QWidget

from ....core import explorer_state as S
from ....core.projection import Projection
from ..latent_map import PRIOR_SIGMAS, LatentMapPlot

EMPTY_HALF_RANGE = 3.5  # what an empty map spans either side of 0: the 3-sigma circle and a margin


class StateMap(LatentMapPlot):
    def __init__(self, state: S.ExplorerState, parent: QWidget | None = None):
        super().__init__(parent)
        self.state = state
        self._density = []
        self.clicked.connect(state.click)
        self.hovered.connect(state.hover)
        self.vb.sigRangeChanged.connect(self._on_range)
        state.subscribe(self._on_state)
        self._show_empty()

    def _on_range(self, *_) -> None:
        (x0, x1), (y0, y1) = self.vb.viewRange()
        self.state.set_region((x0, x1), (y0, y1))

    def _show_empty(self) -> None:
        self.clear()
        for item in self._density:
            self.vb.removeItem(item)
        self._density = []
        self.set_prior_contours(Projection(2).prior_contours(PRIOR_SIGMAS))
        self.set_axis_labels("", "")
        r = EMPTY_HALF_RANGE
        self._contour_box = np.array([[-r, -r], [r, r]])  # what the range fits while there are no points
        self.auto_range()

    def _on_state(self, changed: frozenset) -> None:
        st = self.state
        p = st.projection
        if S.CLASSES in changed:
            self.set_class_names(st.class_names)
        if p is None:
            if changed & {S.MODEL, S.CONFIG}:
                self._show_empty()
            return
        if changed & {S.PROJECTION, S.POINTS, S.MODEL}:
            # first: the points' range takes them in
            self.set_prior_contours(p.prior_outlines(None if st.model is None else st.model.prior))
        if changed & {S.PROJECTION, S.POINTS}:
            if st.mu is not None:
                self.set_points(st.xy, st.labels)
            self.set_axis_labels(*p.axis_labels())
        if changed & {S.PROJECTION, S.POINTS, S.Z}:
            self.set_marker(None if st.z is None else p.to_view(st.z))
        if changed & {S.PROJECTION, S.POINTS, S.SELECTION}:
            i = st.selected
            self.set_selected(st.xy[i] if 0 <= i < len(st.xy) else None)
        if changed & {S.PROJECTION, S.POINTS, S.PATH, S.MODEL}:
            codes = st.path_codes()
            if codes is None:
                self.set_paths(None, None)
            else:
                self.set_paths(p.to_view(codes[0]), p.to_view(codes[1]))
        if changed & {S.PROJECTION, S.DRAWN}:
            if st.drawn is None:
                self.set_drawn(None, None)
            else:
                mu, logvar = st.drawn
                self.set_drawn(p.to_view(mu), p.ellipse(mu, logvar, k=1.0))
        if changed & {S.SAMPLER, S.PROJECTION, S.MODEL, S.REGION, S.LABEL} and (st.show_density or self._density):
            self._draw_density()
        if changed & {S.CONFIG, S.VIEW}:
            self.auto_range()
        # the new range now, not at the next paint: applied there, it costs a second paint
        if changed & {S.PROJECTION, S.POINTS}:
            self.settle()

    _density: list = []

    def _draw_density(self) -> None:
        """Contours of the fitted posterior where the map looks: the codes' own density, and the
        holes between its clusters that prior samples fall into."""
        for item in self._density:
            self.vb.removeItem(item)
        self._density = []
        grid = self.state.density_grid() if self.state.show_density else None
        if grid is None:
            return
        xs, ys, dens = grid
        top = float(dens.max())
        if not np.isfinite(top) or top <= 0:
            return
        import pyqtgraph as pg

        for level, alpha in ((0.05, 90), (0.25, 140), (0.6, 200)):  # fractions of the peak density
            item = pg.IsocurveItem(data=dens.T, level=level * top, pen=pg.mkPen((40, 40, 40, alpha), width=1.2))
            # the grid's cells to view coordinates: x along the first axis of data, y along the second
            sx = (xs[-1] - xs[0]) / (len(xs) - 1)
            sy = (ys[-1] - ys[0]) / (len(ys) - 1)
            item.setTransform(pg.QtGui.QTransform(sx, 0, 0, sy, xs[0], ys[0]))
            item.setZValue(-5)
            self.vb.addItem(item)
            self._density.append(item)

    def hovered_code(self) -> np.ndarray | None:
        return self.state.hover_z
