"""The explorer's Apply tab (denoising, inpainting, erasing with the mouse, the PSNR chart) and the
map's quality figure, driven through their controls."""

import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from vae_studio.core import ModelConfig, load_dataset
from vae_studio.core.corruption import psnr
from vae_studio.core.map_quality import knn_accuracy, pca_2d, pixels
from vae_studio.core.sampler import posterior_means
from vae_studio.gui.widgets.explorer import LatentExplorer
from vae_studio.gui.widgets.explorer.map_quality import REFERENCE_POINTS, _reference_index

sys.path.insert(0, str(Path(__file__).resolve().parent))
from window_helpers import final_snapshot  # noqa: E402

WAIT_MS = 60_000


@pytest.fixture(scope="module")
def data():
    return load_dataset("digits")


@pytest.fixture(scope="module")
def snap(data):
    return final_snapshot(ModelConfig(latent_dim=4, hidden=(64,)), 2, data)


@pytest.fixture
def explorer(qtbot, data, snap):
    w = LatentExplorer()
    qtbot.addWidget(w)
    w.resize(1200, 720)
    w.set_class_names(data.class_names)
    w.set_probe_split(data.test)
    w.set_train_split(data.train)
    w.show()
    qtbot.waitExposed(w)
    w.set_snapshot(snap)
    yield w
    assert w.wait(30.0)


def _choose(combo, key):
    combo.setCurrentIndex(combo.findData(key))


def test_noise_is_removed_both_ways_and_measured_against_the_clean_digit(qtbot, explorer, data, snap):
    tab = explorer.apply_tab
    explorer.tabs.setCurrentWidget(tab)
    assert tab.kind == "gaussian" and tab.method == "fit"
    clean = data.test.images[snap.probe_index[0], 0].numpy() / 255.0  # a grey digit is shown as (H, W)
    np.testing.assert_allclose(tab.clean_view.image(), clean, atol=1e-6)
    noisy = tab.corrupted_view.image()
    assert f"{psnr(clean[None], noisy[None])[0]:.1f} dB" in tab.corrupted_view.title.text()
    # the best-fit code comes from a worker thread
    qtbot.waitUntil(lambda: tab.result is not None and tab.result.method == "fit", timeout=WAIT_MS)
    r = tab.result
    np.testing.assert_array_equal(r.corrupted.images[0], noisy)
    assert f"{r.psnr_denoised[0]:.1f} dB" in tab.restored_view.title.text()
    assert f"{r.psnr_median[0]:.1f} dB" in tab.median_view.title.text()
    _choose(tab.method_combo, "encoder")
    r = tab.result
    assert r.method == "encoder" and r.steps is None  # noise has no place: one encode -> decode
    assert f"{r.psnr_denoised[0]:.1f} dB" in tab.restored_view.title.text()
    tab.new_button.click()
    assert not np.array_equal(tab.corrupted_view.image(), noisy)  # new noise
    tab.level_slider.setValue(0)
    assert "exact" in tab.corrupted_view.title.text()  # sigma 0 leaves the digit as it was
    _choose(tab.kind_combo, "saltpepper")
    assert tab.level == pytest.approx(0.2) and tab.result.steps is None
    # a click on a map point makes it the digit to corrupt
    explorer.decode_at(*explorer.map_xy()[7], index=7)
    assert tab.index_spin.value() == 7
    np.testing.assert_allclose(tab.clean_view.image(), data.test.images[snap.probe_index[7], 0].numpy() / 255.0, atol=1e-6)


def test_an_occluding_box_is_inpainted_pass_by_pass_with_the_known_pixels_kept(qtbot, explorer):
    tab = explorer.apply_tab
    explorer.tabs.setCurrentWidget(tab)
    _choose(tab.method_combo, "encoder")
    _choose(tab.kind_combo, "occlusion")
    r = tab.result
    assert r.steps.shape[0] == tab.iter_spin.value() + 1
    known = r.corrupted.known[0]
    assert 0 < known.sum() < known.size
    np.testing.assert_array_equal(r.denoised[0][known], r.clean[0][known])
    assert not np.array_equal(r.denoised[0][~known], r.corrupted.images[0][~known])  # the box is filled in
    assert tab.steps_view.image() is not None and "passes 0 to 10" in tab.steps_title.text()
    tab.iter_spin.setValue(3)
    assert tab.result.steps.shape[0] == 4
    # the chart: PSNR of the box's side over held-out digits, the median filter beside it
    qtbot.waitUntil(lambda: tab.chart.curve is not None and tab.chart.curve.kind == "occlusion", timeout=WAIT_MS)
    curve = tab.chart.curve
    assert len(curve.levels) == len(curve.denoised) == len(curve.median) >= 4
    assert tab.chart.curves["median"].getData()[1] is not None


def test_strokes_rubbed_out_with_the_mouse_are_filled_in(qtbot, explorer):
    tab = explorer.apply_tab
    explorer.tabs.setCurrentWidget(tab)
    _choose(tab.method_combo, "encoder")
    _choose(tab.kind_combo, "erase")
    assert tab.result.corrupted.known.all()  # nothing erased yet
    view = tab.corrupted_view
    port = view.view.viewport()

    def at(x, y):
        return view.view.mapFromScene(view.box.mapViewToScene(QPointF(x, y)))

    qtbot.mousePress(port, Qt.MouseButton.LeftButton, pos=at(8, 14))
    qtbot.mouseMove(port, at(14, 14))
    qtbot.mouseMove(port, at(20, 14))
    qtbot.mouseRelease(port, Qt.MouseButton.LeftButton, pos=at(20, 14))
    assert tab.mask[14, 8] and tab.mask[14, 14] and tab.mask[14, 20] and not tab.mask[2, 2]
    r = tab.result
    assert r.steps is not None
    known = r.corrupted.known[0]
    np.testing.assert_array_equal(known, ~tab.mask)
    np.testing.assert_array_equal(r.denoised[0][known], r.clean[0][known])
    _choose(tab.method_combo, "fit")  # the best-fit code draws the erased pixels too, keeping the rest
    qtbot.waitUntil(lambda: tab.result is not None and tab.result.method == "fit", timeout=WAIT_MS)
    np.testing.assert_array_equal(tab.result.denoised[0][known], r.clean[0][known])
    tab.new_button.click()  # "Restore strokes"
    assert tab.mask is None and tab.result.corrupted.known.all()


def test_the_draw_pad_digit_can_be_restored(qtbot, explorer):
    explorer.tabs.setCurrentWidget(explorer.draw_tab)
    explorer.pad.draw_polyline([(140, 40), (140, 240)])
    explorer.encode_drawing()
    tab = explorer.apply_tab
    explorer.tabs.setCurrentWidget(tab)
    _choose(tab.method_combo, "encoder")
    _choose(tab.source_combo, "drawing")
    np.testing.assert_allclose(tab.clean_view.image(), explorer.state.drawing)
    assert "your drawing" in tab.clean_view.title.text() and tab.result is not None


def test_map_quality_is_the_neighbour_vote_of_held_out_points_in_the_view_shown(qtbot, explorer, data, snap):
    q = explorer.map_quality
    qtbot.waitUntil(q.current, timeout=WAIT_MS)
    ref = data.train.subset(_reference_index(len(data.train)))
    assert len(ref) == min(REFERENCE_POINTS, len(data.train))
    probe_labels = data.test.labels[snap.probe_index].numpy()
    p = explorer.projection
    mu_ref = posterior_means(snap.build_model(), ref).astype(np.float64)
    view = lambda m: (m - p.center) @ p.matrix.T  # noqa: E731
    expected = knn_accuracy(view(mu_ref), ref.labels.numpy(), view(np.asarray(snap.probe_mu, np.float64)), probe_labels)
    assert q.latent == pytest.approx(expected)
    a, b = pca_2d(pixels(ref), pixels(data.test.subset(__import__("torch").as_tensor(snap.probe_index))))
    assert q.baselines["pca"] == pytest.approx(knn_accuracy(a, ref.labels.numpy(), b, probe_labels))
    assert f"{100 * q.latent:.0f}%" in q.text() and "pixel PCA" in q.text() and f"step {snap.step:,}" in q.text()
    # another view: the vote is taken again in the new plane, the pixel maps are kept
    before = q.latent, q.baselines
    explorer.view_combo.setCurrentIndex(explorer.view_combo.findData("dims"))
    assert not q.current()
    qtbot.waitUntil(q.current, timeout=WAIT_MS)
    p = explorer.projection
    assert p.mode == "dims"
    expected = knn_accuracy(view(mu_ref), ref.labels.numpy(), view(np.asarray(snap.probe_mu, np.float64)), probe_labels)
    assert q.latent == pytest.approx(expected) and q.baselines is before[1]
