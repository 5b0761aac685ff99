"""A folder of colour pictures trained end to end in the window: progress while it loads, colour in
the explorer and its grids, the draw pad set aside; a flat folder trains unlabelled."""

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from image_folders import CLASSES, make_image_folder  # noqa: E402 - tests/ is on the path
from window_helpers import train_to_end  # noqa: E402 - tests/gui is on the path

from vae_studio.gui.run_record import RunState
from vae_studio.gui.widgets.explorer.draw_tab import COLOUR_CAPTION

WAIT_MS = 60_000


def test_a_colour_folder_trains_end_to_end_and_shows_in_colour(qtbot, make_window, fast, tmp_path):
    folder = make_image_folder(tmp_path / "shapes", per_class=70)
    w = make_window(fast.replace(dataset=str(folder), epochs=2))
    assert w.controls.dataset.currentData() == str(folder)
    seen = []
    w.session.current_changed.connect(
        lambda run: run is not None and run.changed.connect(lambda _a, r=run: seen.append(r.loading)))
    train_to_end(qtbot, w)
    run = w.session.current
    assert run.state == RunState.TRAINED and w.session.dataset.image_shape == (3, 32, 32)
    loading = [p for p in seen if p is not None]
    assert loading and loading[-1].done == loading[-1].total == 210  # the status bar's "Reading images" count
    assert run.loading is None and run.settings.image_size == "auto"
    assert w.session.current.trainer.model_cfg.image_shape == (3, 32, 32)

    ex = w.explorer
    qtbot.waitUntil(lambda: ex.state.model is not None, timeout=WAIT_MS)
    assert [label.text for _, label in ex.map.legend.items] == list(CLASSES)
    ex.state.set_z(np.zeros(ex.state.latent_dim))
    qtbot.waitUntil(lambda: ex.decode_tab.decoded_image() is not None, timeout=WAIT_MS)
    assert ex.decode_tab.decoded_image().shape == (32, 32, 3)  # shown as RGB
    x, y = ex.state.xy[0]
    ex.state.click(float(x), float(y), 0)
    qtbot.waitUntil(lambda: ex.decode_tab.original_view.image() is not None, timeout=WAIT_MS)
    original = ex.decode_tab.original_view.image()
    assert original.shape == (32, 32, 3)
    assert np.allclose(original, np.moveaxis(w.session.dataset.test.images[ex.state.snapshot.probe_index[0]].numpy(), 0, -1) / 255)

    g = ex.generation
    ex.tabs.setCurrentWidget(g)
    page = g.prior
    g.show_page(page)
    qtbot.waitUntil(lambda: page.images is not None, timeout=WAIT_MS)
    assert page.images.shape[1:] == (3, 32, 32) and page.view.image().shape[-1] == 3
    out = tmp_path / "prior.png"
    page.export_png(str(out))
    png = QImage(str(out))
    assert not png.isGrayscale() and png.width() == page.grid.shape[-1]

    draw = ex.draw_tab
    assert not draw.pad.isEnabled() and draw.caption.text() == COLOUR_CAPTION


def test_a_flat_folder_trains_unlabelled_and_refuses_the_conditional_variant(qtbot, make_window, fast, tmp_path):
    folder = make_image_folder(tmp_path / "flat", per_class=30, flat=True)
    w = make_window(fast.replace(dataset=str(folder), epochs=1, variant="conditional"))
    with qtbot.waitSignal(w.session.error, timeout=WAIT_MS) as refused:
        w.train()
    assert "conditional variant needs class labels" in refused.args[0]
    qtbot.waitUntil(lambda: not w.session.busy, timeout=WAIT_MS)
    w.controls.set_settings(w.controls.settings().replace(variant="vanilla"))
    train_to_end(qtbot, w)
    assert w.session.current.state == RunState.TRAINED and not w.session.dataset.labelled
    ex = w.explorer
    qtbot.waitUntil(lambda: ex.state.model is not None, timeout=WAIT_MS)
    assert ex.map.legend.items == [] and ex.state.class_names == ()


def test_a_conditional_colour_run_sweeps_labels_and_transfers_style_in_colour(qtbot, make_window, fast, tmp_path):
    folder = make_image_folder(tmp_path / "shapes", per_class=40)
    w = make_window(fast.replace(dataset=str(folder), epochs=1, variant="conditional"))
    train_to_end(qtbot, w)
    assert [w.controls.class_combo.itemText(i) for i in range(w.controls.class_combo.count())] == list(CLASSES)
    g = w.explorer.generation
    qtbot.mouseClick(w.controls.sweep_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: g.label_sweep.images is not None, timeout=WAIT_MS)
    assert g.label_sweep.images.shape == (3, 3, 32, 32)
    qtbot.mouseClick(w.controls.transfer_button, Qt.MouseButton.LeftButton)
    st = g.style_transfer
    qtbot.waitUntil(lambda: st.images is not None, timeout=WAIT_MS)
    assert st.images.shape == (st.rows.value() * 4, 3, 32, 32)  # the input picture, then the three classes
    expected, _ = w.explorer.probe_examples([st.first.value() - 1])
    np.testing.assert_allclose(st.images[0], expected[0])
    assert st.view.image().shape[-1] == 3


def test_a_beta_run_on_a_flat_folder_trains_the_classic_model_and_is_named_so(qtbot, make_window, fast, tmp_path):
    folder = make_image_folder(tmp_path / "flat", per_class=30, flat=True)
    w = make_window(fast.replace(dataset=str(folder), epochs=1, variant="beta", beta=4.0))
    assert w.controls.settings().beta_label  # the β panel's default: the label, where there is one
    train_to_end(qtbot, w)
    run = w.session.current
    assert run.state == RunState.TRAINED and not run.settings.beta_label and "without labels" in run.label
    qtbot.waitUntil(lambda: w.explorer.state.model is not None, timeout=WAIT_MS)
    assert not w.explorer.state.model.conditional and not w.explorer.label_combo.isVisible()
