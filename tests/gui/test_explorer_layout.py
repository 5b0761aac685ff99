"""The explorer at the size it gets in a 1280 x 800 window: what is on screen, where, and what
a reset or a variant switch leaves behind."""

import itertools
import math

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QToolButton

from vae_studio.core import ModelConfig, load_dataset
from vae_studio.gui.widgets.explorer import LatentExplorer
from vae_studio.gui.widgets.explorer.grid_view import GridView
from window_helpers import final_snapshot  # noqa: E402 - tests/gui is on the path

# the explorer's size in a 1280 x 800 main window, measured there (controls on the left, loss
# plots below)
EXPLORER_IN_1280x800 = (960, 452)
WAIT_MS = 5000


@pytest.fixture(scope="module")
def data():
    return load_dataset("digits")


@pytest.fixture(scope="module")
def snap2(data):
    return final_snapshot(ModelConfig(latent_dim=2, hidden=(64,)), 2, data)


@pytest.fixture(scope="module")
def snap10(data):
    return final_snapshot(ModelConfig(latent_dim=10, hidden=(32,)), 1, data)


@pytest.fixture(scope="module")
def snap_cond(data):
    return final_snapshot(ModelConfig(variant="conditional", latent_dim=2, hidden=(32,)), 1, data)


@pytest.fixture
def explorer(qtbot, data):
    def make(snapshot=None):
        w = LatentExplorer()
        qtbot.addWidget(w)
        w.resize(*EXPLORER_IN_1280x800)
        w.set_class_names(data.class_names)
        w.set_probe_split(data.test)
        w.show()
        qtbot.waitExposed(w)
        if snapshot is not None:
            w.set_snapshot(snapshot)
        QApplication.processEvents()
        return w

    return make


def show_page(qtbot, w, page):
    w.tabs.setCurrentWidget(w.generation)
    w.generation.show_page(page)
    qtbot.waitUntil(lambda: page.isVisible() and page.images is not None, timeout=WAIT_MS)
    QApplication.processEvents()


def assert_names_beside_their_cells(view, columns=True, rows=True):
    """Each column name just above its column, each row name just left of its row, none overlapping."""
    col_names, row_names = view.column_name_rects(), view.row_name_rects()
    first = view.cell_rect(0, 0)
    if columns:
        assert col_names
    for c, _, r in col_names:
        cell = view.cell_rect(0, c)
        assert cell.left() <= r.center().x() <= cell.right(), (c, r, cell)
        assert first.top() - 10 <= r.bottom() <= first.top(), (c, r, first)
    if rows:
        assert row_names
    for i, _, r in row_names:
        cell = view.cell_rect(i, 0)
        assert cell.top() <= r.center().y() <= cell.bottom(), (i, r, cell)
        assert first.left() - 10 <= r.right() <= first.left(), (i, r, first)
    for (_, ta, a), (_, tb, b) in itertools.combinations(col_names + row_names, 2):
        assert not a.intersects(b), f"{ta!r} overlaps {tb!r}"
    for _, _, r in col_names + row_names:
        assert view.rect().toRectF().contains(r)


def test_every_generate_page_is_one_click_away_without_scroll_arrows(qtbot, explorer, snap_cond):
    w = explorer(snap_cond)
    w.tabs.setCurrentWidget(w.generation)
    g = w.generation
    qtbot.waitUntil(g.selector.isVisible, timeout=WAIT_MS)
    bar = w.tabs.tabBar()
    assert not [b for b in bar.findChildren(QToolButton) if b.isVisible()], "the tab bar scrolls"
    assert len(g.buttons) == 6
    for page, button in g.buttons.items():
        assert button.isVisible(), page.title
        assert g.selector.rect().contains(button.geometry()), f"{page.title} is cut off"
    assert len({b.geometry().top() for b in g.buttons.values()}) <= 2


def test_traversal_names_sit_beside_their_rows_at_ten_dimensions(qtbot, explorer, snap10):
    w = explorer(snap10)
    page = w.generation.traversal
    page.active_only.setChecked(False)
    show_page(qtbot, w, page)
    view = page.view
    assert len(page.images) == 10 * 9
    assert view.cell_rect(0, 0).height() >= 18
    assert_names_beside_their_cells(view)
    assert len(view.row_name_rects()) == 10  # every dimension named
    assert view.rect().toRectF().contains(view.cell_rect(9, 8))


def test_label_sweep_style_transfer_and_interpolation_names_line_up(qtbot, explorer, snap_cond):
    w = explorer(snap_cond)
    g = w.generation
    show_page(qtbot, w, g.label_sweep)
    assert len(g.label_sweep.view.column_name_rects()) == 10  # every class named
    assert_names_beside_their_cells(g.label_sweep.view)
    show_page(qtbot, w, g.style_transfer)
    assert_names_beside_their_cells(g.style_transfer.view)
    show_page(qtbot, w, g.interpolation)
    assert [t for _, t, _ in g.interpolation.view.column_name_rects()] == ["A", "B"]
    assert_names_beside_their_cells(g.interpolation.view)


def test_the_manifold_uses_the_room_it_has(qtbot, explorer, snap2):
    w = explorer(snap2)
    page = w.generation.manifold
    show_page(qtbot, w, page)
    cell = page.view.cell_rect(0, 0)
    assert cell.width() >= 20 and cell.height() >= 20
    pic = page.view.picture_rect()
    # the picture fills the view in its limiting direction
    assert pic.height() >= 0.95 * page.view.height() or pic.width() >= 0.95 * page.view.width()


def test_the_empty_map_shows_the_prior_at_its_true_size(explorer):
    w = explorer()
    (x0, x1), (y0, y1) = w.map.visible_range()
    assert x0 <= -3.5 and x1 >= 3.5 and y0 <= -3.5 and y1 >= 3.5
    assert max(x1 - x0, y1 - y0) < 12
    for k, label in zip((1, 2, 3), w.map.contour_labels):
        assert math.hypot(label.pos().x(), label.pos().y()) == pytest.approx(k, rel=0.05)


def on_screen(widget) -> QImage:
    """What the screen shows of ``widget``: the window's backing store, where an item that was
    not repainted keeps its old pixels (``widget.grab()`` would paint it afresh)."""
    at = widget.mapTo(widget.window(), QPoint(0, 0))
    shot = widget.screen().grabWindow(widget.window().winId(), at.x(), at.y(), widget.width(), widget.height())
    return shot.toImage().convertToFormat(QImage.Format.Format_RGB32)


def fresh(widget) -> QImage:
    return widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)


def test_clear_erases_everything_the_model_put_on_screen(qtbot, explorer, snap2, data):
    w = explorer(snap2)
    w.set_view("dims", (0, 1))
    i = int(np.argmax(np.linalg.norm(snap2.probe_mu, axis=1)))
    w.decode_at(*(float(v) for v in snap2.probe_mu[i]), i)
    w.generation.interpolation.set_endpoints(np.array([-1.0, 0.0]), np.array([1.0, 1.0]))
    w.pad.draw_polyline([(100, 60), (120, 220)])
    qtbot.waitUntil(lambda: w.drawn_posterior() is not None, timeout=WAIT_MS)
    assert w.original_view.title.text().startswith("Original (class")
    plot = w.map.plot.viewport()
    qtbot.waitUntil(lambda: on_screen(plot) == fresh(plot), timeout=WAIT_MS)  # painted

    w.clear()
    m = w.map
    for item in (*m.scatters, m.marker, m.selected, m.drawn_marker):
        assert len(item.data) == 0
    for item in (m.path_linear, m.path_slerp, m.drawn_ellipse):
        x, _ = item.getData()
        assert x is None or len(x) == 0
    assert not any(t.isVisible() for t in m.path_labels)
    qtbot.waitUntil(lambda: on_screen(plot) == fresh(plot), timeout=WAIT_MS)  # no half-erased points
    assert w.original_view.title.text() == "Original"
    for v in (w.decoded_view, w.hover_view, w.original_view, w.recon_view, w.drawn_recon_view):
        assert v.image() is None
    assert "draw something" in w.elbo_label.text()


def test_a_click_on_empty_space_drops_the_last_digits_heading(qtbot, explorer, snap2):
    w = explorer(snap2)
    w.set_view("dims", (0, 1))
    i = 0
    w.decode_at(*(float(v) for v in w.map_xy()[i]), i)
    name = w.class_names()[int(snap2.probe_labels[i])]
    assert w.original_view.title.text() == f"Original (class {name})"
    w.decode_at(50.0, 50.0, -1)  # far from every point
    assert w.original_view.title.text() == "Original"
    assert w.original_view.image() is None and w.recon_view.image() is None


def test_label_controls_follow_the_variant_at_once(qtbot, explorer, snap_cond):
    w = explorer(snap_cond)
    g = w.generation
    label_buttons = [g.buttons[g.label_sweep], g.buttons[g.style_transfer]]
    w.tabs.setCurrentWidget(g)
    assert w.label_combo.isVisible() and all(b.isVisible() for b in label_buttons)
    w.set_variant("beta")  # a conditional model is still shown: its controls stay
    assert w.label_combo.isVisible()
    w.clear()  # what the window does when the variant switch starts a new run
    assert not w.label_combo.isVisible() and not any(b.isVisible() for b in label_buttons)
    assert g.label_sweep not in g.pages()
    w.set_variant("conditional")  # before any training: the panel shows what Train will make
    assert w.label_combo.isVisible() and all(b.isVisible() for b in label_buttons)
    w.set_variant("vanilla")
    assert not w.label_combo.isVisible() and not any(b.isVisible() for b in label_buttons)
    qtbot.mouseClick(w.tabs.tabBar(), Qt.MouseButton.LeftButton, pos=w.tabs.tabBar().tabRect(0).center())
    assert w.tabs.currentIndex() == 0


def test_grid_names_thin_out_instead_of_overlapping(qtbot):
    view = GridView()
    qtbot.addWidget(view)
    view.resize(300, 160)
    view.show()
    steps = 21
    picture = np.zeros((2 + 2 * 30, 2 + steps * 30), dtype=np.float32)
    view.set_grid(picture, 2, steps, (28, 28), 2, ["linear", "slerp"], [f"{v:+.1f}" for v in np.linspace(-3, 3, steps)])
    shown = [c for c, _, _ in view.column_name_rects()]
    assert 2 < len(shown) < steps and shown[0] == 0
    assert_names_beside_their_cells(view)
