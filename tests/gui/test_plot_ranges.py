"""The plots' grid and the ranges that follow the data in steps while a model trains."""

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QApplication

from vae_studio.core.history import History
from vae_studio.gui.widgets.smoothing import Smoother
from vae_studio.gui.style import configure_plots
from vae_studio.gui.widgets.latent_map import LatentMapPlot
from vae_studio.gui.widgets.loss_plot import LossPlot
from vae_studio.gui.widgets.plot_parts import add_grid


def _shown(qtbot, make, w=600, h=400):
    configure_plots()  # the window's colours, as the app sets them before building any plot
    widget = make()
    qtbot.addWidget(widget)
    widget.resize(w, h)
    widget.show()
    QApplication.processEvents()
    return widget


def test_grid_lines_are_drawn_at_the_axis_ticks(qtbot):
    plot = _shown(qtbot, pg.PlotWidget)
    item = plot.getPlotItem()
    item.hideAxis("left")
    add_grid(item, x=True, y=False)
    item.setRange(xRange=(0, 10), yRange=(0, 1), padding=0)
    QApplication.processEvents()
    axis = item.getAxis("bottom")
    major_spacing, majors = axis.tickValues(0, 10, item.getViewBox().width())[0]
    image = plot.grab().toImage()
    background = image.pixelColor(2, 2)

    def column_differs(x_view: float) -> bool:
        p = plot.mapFromScene(item.getViewBox().mapViewToScene(pg.Point(x_view, 0.5)))
        # a hairline lands on one of the two pixels next to the exact position
        return any(image.pixelColor(p.x() + dx, p.y()) != background for dx in (-1, 0, 1))

    inner = [v for v in majors if 0 < v < 10]
    assert inner, "no tick inside the range"
    assert all(column_differs(v) for v in inner)  # a line on every major tick
    # and none halfway between two neighbouring major ticks (any minor tick lies elsewhere)
    assert not column_differs(inner[0] + major_spacing * 0.37)


def _history(steps: int, start: float = 550.0) -> History:
    h = History()
    for s in range(1, steps + 1, 4):
        loss = 150 + (start - 150) * np.exp(-s / 60)
        h.add_step(s, s / 36, 0.9 * loss, 0.1 * loss, 1.0)
    return h


def test_loss_view_grows_in_steps_and_stops_at_the_planned_end(qtbot):
    plot = _shown(qtbot, LossPlot, 700, 300)
    vb = plot.plot.getViewBox()
    changes = []
    vb.sigRangeChanged.connect(lambda *_: changes.append(vb.viewRange()[0][1]))
    for n in range(40, 721, 40):  # a report every 40 steps, to a planned end of 720
        plot.refresh(_history(n), planned_steps=720)
    (x0, x1), (y0, y1) = vb.viewRange()
    assert x1 <= 1.02 * 720 + 1e-6  # never past the planned end
    assert x1 >= 717  # the data is in view
    assert len(changes) < 18 / 2  # 18 refreshes: the range moved at most every other one
    # all of the smoothed curves are in view
    for key in ("neg_elbo", "recon", "kl"):
        y = Smoother().arrays(_history(720))[key]
        assert y0 <= y.min() and y.max() <= y1


def test_latent_map_keeps_its_range_while_points_jiggle_and_follows_when_they_leave(qtbot):
    m = _shown(qtbot, LatentMapPlot, 500, 500)
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, 400)
    circle = np.c_[np.cos(np.linspace(0, 2 * np.pi, 50)), np.sin(np.linspace(0, 2 * np.pi, 50))]
    m.set_prior_contours([k * circle for k in (1, 2, 3)])
    xy = rng.normal(0, 1.5, (400, 2)).astype(np.float32)
    m.set_points(xy, labels)
    first = m.visible_range()
    for _ in range(5):  # small moves, as between two snapshots
        m.set_points(xy + rng.normal(0, 0.05, xy.shape).astype(np.float32), labels)
        assert m.visible_range() == first
    moved = xy + np.float32([8.0, 0.0])  # the whole cloud leaves to the right
    m.set_points(moved, labels)
    (x0, x1), (y0, y1) = m.visible_range()
    assert x0 <= moved[:, 0].min() and moved[:, 0].max() <= x1
    assert y0 <= moved[:, 1].min() and moved[:, 1].max() <= y1
    assert x0 <= -3 and y0 <= -3 and 3 <= y1  # the prior's circles stay in view too
    # centred on what it shows, not widened on one side
    centre = (min(moved[:, 0].min(), -3) + max(moved[:, 0].max(), 3)) / 2
    assert abs((x0 + x1) / 2 - centre) < 0.05 * (x1 - x0)


def test_latent_map_stops_following_after_a_pan_by_hand(qtbot):
    m = _shown(qtbot, LatentMapPlot, 500, 500)
    labels = np.zeros(50, dtype=int)
    xy = np.random.default_rng(1).normal(0, 1, (50, 2)).astype(np.float32)
    m.set_points(xy, labels)
    m.vb.translateBy(x=5.0)  # what a drag does; pyqtgraph reports it as a manual change
    m.vb.sigRangeChangedManually.emit(m.vb.state["mouseEnabled"])
    panned = m.visible_range()
    m.set_points(xy + 10.0, labels)
    assert m.visible_range() == panned
    m.auto_range()
    (x0, x1), _ = m.visible_range()
    assert x0 <= (xy[:, 0] + 10).min() and (xy[:, 0] + 10).max() <= x1
