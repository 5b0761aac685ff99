"""The latent explorer driven with real mouse events: clicks decode, sliders, PCA, grids, drawing."""

import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QImage, QMouseEvent
from PySide6.QtWidgets import QApplication

from vae_studio.core import ModelConfig, Snapshot, load_dataset
from vae_studio.core import decoding
from vae_studio.gui.widgets.explorer import LatentExplorer

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
from instruments.explorer_measure import measure_explorer  # noqa: E402
from window_helpers import final_snapshot  # noqa: E402 - tests/gui is on the path

WAIT_MS = 5000


@pytest.fixture(scope="module")
def data():
    return load_dataset("digits")


@pytest.fixture(scope="module")
def snap2(data):
    """A small vanilla VAE with a 2-D latent space, trained a few epochs."""
    return final_snapshot(ModelConfig(latent_dim=2, hidden=(64,)), 3, data)


@pytest.fixture(scope="module")
def snap4(data):
    """A conditional VAE with a 4-D latent space, for the PCA view and class labels."""
    return final_snapshot(ModelConfig(variant="conditional", latent_dim=4, hidden=(32,)), 1, data)


@pytest.fixture
def make_explorer(qtbot, data):
    def make(snapshot):
        w = LatentExplorer()
        qtbot.addWidget(w)
        w.resize(1200, 720)
        w.set_class_names(data.class_names)
        w.set_probe_split(data.test)
        w.show()
        qtbot.waitExposed(w)
        w.set_snapshot(snapshot)
        return w

    return make


def settle(w):
    """Let pending layout changes (which move the aspect-locked map's range) land first."""
    QApplication.processEvents()
    w.map.settle()


def click_view(qtbot, w, x, y):
    """A real left click on the map's viewport where view point (x, y) is; returns the view
    point the click actually lands on (widget pixels are whole numbers)."""
    settle(w)
    pos = w.map.view_to_widget(x, y)
    qtbot.mouseClick(w.map.plot.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    p = w.map.vb.mapSceneToView(w.map.plot.mapToScene(pos))
    return np.array([p.x(), p.y()])


def empty_spot(w):
    """A visible view point at least 25 pixels from every probe point."""
    settle(w)
    (x0, x1), (y0, y1) = w.map.visible_range()
    px, py = w.map.vb.viewPixelSize()
    pts = w.map.points()
    for fx in np.linspace(0.1, 0.9, 17):
        for fy in np.linspace(0.1, 0.9, 17):
            x, y = x0 + fx * (x1 - x0), y0 + fy * (y1 - y0)
            d = np.hypot((pts[:, 0] - x) / px, (pts[:, 1] - y) / py)
            if d.min() > 25:
                return x, y
    pytest.fail("no empty spot on the map")


def test_click_on_an_empty_spot_decodes_the_code_under_the_cursor(qtbot, make_explorer, snap2):
    w = make_explorer(snap2)
    w.set_view("dims", (0, 1))
    before = w.decoded_image().copy()
    x, y = empty_spot(w)
    xy = click_view(qtbot, w, x, y)
    qtbot.waitUntil(lambda: w.clicked_z() is not None, timeout=WAIT_MS)
    z = w.clicked_z()
    assert np.allclose(z, xy, atol=1e-9)  # a 2-D dims view: z is the point under the cursor
    px, py = w.map.vb.viewPixelSize()
    assert abs(z[0] - x) <= px and abs(z[1] - y) <= py
    expected = decoding.decode(w.model(), z)[0]
    assert np.allclose(w.decoded_image(), expected, atol=1e-6)
    assert not np.allclose(w.decoded_image(), before)
    assert np.allclose(w.map.marker_position(), xy, atol=1e-6)
    assert w.original_view.image() is None  # no point was hit


def test_click_on_a_point_shows_that_digit_beside_its_reconstruction(qtbot, make_explorer, snap2, data):
    w = make_explorer(snap2)
    w.set_view("dims", (0, 1))
    x, y = empty_spot(w)
    click_view(qtbot, w, x, y)
    before = w.decoded_image().copy()
    # a point in the middle of the map (clear of the legend and the edges) with no close
    # neighbours, so the click is unambiguously on it
    pts = w.map.points()
    px, py = w.map.vb.viewPixelSize()
    (x0, x1), (y0, y1) = w.map.visible_range()
    inner = (pts[:, 0] > x0 + 0.2 * (x1 - x0)) & (pts[:, 0] < x1 - 0.2 * (x1 - x0))
    inner &= (pts[:, 1] > y0 + 0.2 * (y1 - y0)) & (pts[:, 1] < y1 - 0.2 * (y1 - y0))
    d = np.hypot((pts[:, None, 0] - pts[None, :, 0]) / px, (pts[:, None, 1] - pts[None, :, 1]) / py)
    np.fill_diagonal(d, np.inf)
    i = int(np.argmax(np.where(inner, d.min(1), -1)))
    assert d[i].min() > 3, "no isolated point to click"
    xy = click_view(qtbot, w, *pts[i])
    qtbot.waitUntil(lambda: w.original_view.image() is not None, timeout=WAIT_MS)
    assert not np.allclose(w.decoded_image(), before)
    assert np.allclose(w.decoded_image(), decoding.decode(w.model(), xy)[0], atol=1e-6)
    original = data.test.images[snap2.probe_index[i]].numpy() / 255.0
    assert np.allclose(w.original_view.image(), original)
    assert np.allclose(w.recon_view.image(), decoding.decode(w.model(), snap2.probe_mu[i])[0], atol=1e-6)


def test_sliders_decode_live_and_move_the_marker(qtbot, make_explorer, snap2):
    w = make_explorer(snap2)
    w.set_view("dims", (0, 1))
    seen = []
    w.decoded.connect(seen.append)
    before = w.decoded_image().copy()
    w.sliders.slider_for(1).setValue(250)  # z2 = 2.5
    z = w.current_z()
    assert z[1] == pytest.approx(2.5)
    assert not np.allclose(w.decoded_image(), before)
    assert np.allclose(w.decoded_image(), decoding.decode(w.model(), z)[0], atol=1e-6)
    assert np.allclose(w.map.marker_position(), z, atol=1e-6)
    assert seen and np.allclose(seen[-1], w.decoded_image())
    qtbot.mouseClick(w.sliders.reset_button, Qt.MouseButton.LeftButton)
    assert np.all(w.current_z() == 0)
    qtbot.mouseClick(w.sliders.sample_button, Qt.MouseButton.LeftButton)
    assert np.any(w.current_z() != 0)


def test_pca_view_round_trips_and_decodes_with_the_chosen_class(qtbot, make_explorer, snap4):
    w = make_explorer(snap4)
    assert w.projection.mode == "pca"  # the default above two dimensions
    assert "variance" in w.variance_label.text()
    (x0, x1), (y0, y1) = w.map.visible_range()
    for fx, fy in ((0.3, 0.6), (0.7, 0.25)):
        xy = click_view(qtbot, w, x0 + fx * (x1 - x0), y0 + fy * (y1 - y0))
        qtbot.waitUntil(lambda: w.clicked_z() is not None, timeout=WAIT_MS)
        z = w.clicked_z()
        assert np.allclose(w.projection.to_view(z), xy, atol=1e-6)  # click -> z -> the same spot
        assert np.allclose(w.map.marker_position(), xy, atol=1e-5)
        off_plane = np.eye(4) - w.projection.matrix.T @ w.projection.matrix
        assert np.allclose(off_plane @ (z - w.projection.center), 0, atol=1e-9)  # the rest at the mean
        assert np.allclose(w.decoded_image(), decoding.decode(w.model(), z, label=0)[0], atol=1e-6)
    w.set_label(3)
    assert np.allclose(w.decoded_image(), decoding.decode(w.model(), z, label=3)[0], atol=1e-6)
    assert not np.allclose(w.decoded_image(), decoding.decode(w.model(), z, label=0)[0], atol=1e-3)
    assert w.label_combo.isVisible() and w.label_combo.currentData() == 3


def test_generation_views_have_the_requested_sizes_and_export(qtbot, make_explorer, snap2, tmp_path):
    w = make_explorer(snap2)
    w.tabs.setCurrentWidget(w.generation)
    g = w.generation
    g.tabs.setCurrentWidget(g.prior)
    qtbot.waitUntil(lambda: g.prior.images is not None, timeout=WAIT_MS)
    assert g.prior.images.shape == (64, 28, 28) and g.prior.grid.shape == (8 * 30 + 2,) * 2
    g.manifold.side.setValue(12)
    g.tabs.setCurrentWidget(g.manifold)
    qtbot.waitUntil(lambda: g.manifold.images is not None and len(g.manifold.images) == 144, timeout=WAIT_MS)
    g.traversal.active_only.setChecked(False)
    g.traversal.steps.setValue(7)
    g.tabs.setCurrentWidget(g.traversal)
    qtbot.waitUntil(lambda: g.traversal.images is not None and len(g.traversal.images) == 2 * 7, timeout=WAIT_MS)
    g.tabs.setCurrentWidget(g.interpolation)
    w.set_z(np.array([-1.5, 0.5]))
    g.interpolation.set_a.click()
    w.set_z(np.array([1.5, -0.5]))
    g.interpolation.set_b.click()
    g.interpolation.steps.setValue(6)
    assert g.interpolation.images.shape == (12, 28, 28)  # a linear and a spherical strip
    x, _ = w.map.path_linear.getData()
    assert len(x) == 6 and np.isclose(x[0], -1.5) and np.isclose(x[-1], 1.5)  # drawn on the map
    for page in g.pages():
        out = tmp_path / f"{page.file_stem}.png"
        page.export_png(out)
        img = QImage(str(out))
        assert (img.height(), img.width()) == page.grid.shape
    assert not list(tmp_path.glob(".*.tmp"))  # atomic writes leave no temporary files


def send_mouse(widget, kind, x, y, button=Qt.MouseButton.LeftButton):
    pos = QPointF(x, y)
    buttons = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseButtonRelease else button
    button = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseMove else button
    ev = QMouseEvent(kind, pos, widget.mapToGlobal(pos), button, buttons, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, ev)


def test_draw_pad_encodes_what_is_drawn(qtbot, make_explorer, snap2):
    w = make_explorer(snap2)
    w.tabs.setCurrentIndex(2)
    pad = w.pad
    assert pad.is_empty()
    # a vertical stroke down the pad's left third, drawn with the mouse
    send_mouse(pad, QEvent.Type.MouseButtonPress, 90, 40)
    for y in range(50, 250, 10):
        send_mouse(pad, QEvent.Type.MouseMove, 92, y)
    send_mouse(pad, QEvent.Type.MouseButtonRelease, 92, 240)
    qtbot.waitUntil(lambda: w.drawn_posterior() is not None, timeout=WAIT_MS)
    big = pad.image()
    assert big[40:240, 80:104].mean() > 0.5 and big[:, 150:].max() == 0  # ink where drawn only
    x28 = pad.image28()
    assert np.allclose(w.input_view.image(), x28)
    rows, cols = np.nonzero(x28 > 0.2)
    assert rows.max() - rows.min() >= 17  # a tall stroke, scaled to MNIST's 20-pixel box
    assert cols.max() - cols.min() <= 8  # and still a thin one
    mu, logvar = decoding.encode(w.model(), x28)
    assert np.allclose(w.drawn_posterior()[0], mu[0], atol=1e-6)
    mx, my = w.map.drawn_marker.getData()
    assert len(mx) == 1 and np.allclose([mx[0], my[0]], w.projection.to_view(mu[0]), atol=1e-5)
    ex, _ = w.map.drawn_ellipse.getData()
    assert len(ex) > 10
    assert "nats" in w.elbo_label.text()
    qtbot.mouseClick(w.clear_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: w.drawn_posterior() is None, timeout=WAIT_MS)
    assert len(w.map.drawn_marker.getData()[0]) == 0


def test_hover_shows_a_live_preview(qtbot, make_explorer, snap2):
    w = make_explorer(snap2)
    w.set_view("dims", (0, 1))
    assert w.hover_view.image() is None
    hovered = []
    # where the hovered view point is on screen at the moment the (rate-limited) preview runs
    w.map.hovered.connect(lambda x, y: hovered.append((x, y, w.map.view_to_widget(x, y))))
    settle(w)
    pos = w.map.view_to_widget(0.5, -0.5)
    send_mouse(w.map.plot.viewport(), QEvent.Type.MouseMove, pos.x(), pos.y(), Qt.MouseButton.NoButton)
    qtbot.waitUntil(lambda: w.hover_view.image() is not None, timeout=WAIT_MS)
    assert len(hovered) == 1
    x, y, at = hovered[0]
    assert (at - pos).manhattanLength() <= 1  # the preview is of the point under the pointer
    assert np.allclose(w.hover_view.image(), decoding.decode(w.model(), np.array([x, y]))[0], atol=1e-6)


def test_snapshots_update_the_same_items(qtbot, make_explorer, snap2):
    w = make_explorer(snap2)
    model = w.model()
    items = list(w.map.plot.getPlotItem().items)
    scatters = list(w.map.scatters)
    moved = Snapshot(**{**snap2.__dict__, "probe_mu": snap2.probe_mu + 0.5, "step": snap2.step + 1})
    w.set_snapshot(moved)
    assert w.model() is model  # same configuration: weights loaded into the same network
    assert list(w.map.plot.getPlotItem().items) == items and w.map.scatters == scatters
    assert np.allclose(np.sort(w.map.points()[:, 0]), np.sort(snap2.probe_mu[:, 0] + 0.5))
    assert f"{moved.step:,}" in w.info.text()
    w.clear()
    assert w.model() is None and len(w.map.points()) == 0 and w.decoded_image() is None


def test_measure_explorer_reports_its_figures(qtbot, snap2):
    figures = measure_explorer(snap2, n_points=1000, clicks=5, updates=3)
    assert figures["map_points"] == 1000
    for key in ("click_p50_ms", "click_p95_ms", "map_update_ms"):
        assert figures[key] > 0


def test_sample_prior_draws_from_a_learned_mixture(qtbot):
    import torch

    from vae_studio.core.prior import MixturePrior
    from vae_studio.gui.widgets.latent_sliders import LatentSliders

    sliders = LatentSliders()
    qtbot.addWidget(sliders)
    sliders.set_dimensions(2)
    prior = MixturePrior(2, 2)
    with torch.no_grad():
        prior.means.copy_(torch.tensor([[2.0, -2.0], [-2.0, 2.0]]))
        prior.log_var.fill_(-9.0)  # a spread of about 0.01: a draw sits on a mean
    sliders.prior = prior
    for _ in range(5):
        qtbot.mouseClick(sliders.sample_button, Qt.MouseButton.LeftButton)
        z = sliders.value()
        assert min(np.abs(z - m).max() for m in prior.means.detach().numpy()) < 0.1
