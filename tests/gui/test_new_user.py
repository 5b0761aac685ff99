"""What a new user meets: readouts that follow the run shown, datasets in the window, help."""

import numpy as np
import pytest
from PySide6.QtCore import Qt

from vae_studio.gui.run_record import SETTLED, RunState
from vae_studio.gui.widgets.status_bar import EtaEstimate
from window_helpers import train_to_end  # noqa: E402 - tests/gui is on the path

WAIT_MS = 30_000


def test_readouts_follow_the_run_shown_open_load_back_and_stop(qtbot, make_window, fast, tmp_path):
    w = make_window(fast.replace(epochs=2))
    train_to_end(qtbot, w)
    first = w.session.current
    assert first.state == RunState.TRAINED and w.status.progress.value() == 1000
    assert f"Step {first.step:,}" in w.status.step_label.text()
    path = tmp_path / "a.pt"
    with qtbot.waitSignal(w.session.saved, timeout=WAIT_MS):
        w.save_run(str(path))
    # a second, longer run, stopped part-way
    w.reset()
    assert w.status.step_label.text() == "Step –" and w.status.progress.value() == 0
    w.controls.set_settings(fast.replace(epochs=400))
    qtbot.mouseClick(w.controls.train_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: w.session.current.step > 50, timeout=WAIT_MS)
    with qtbot.waitSignal(w.session.state_changed, timeout=WAIT_MS, check_params_cb=lambda s: s in SETTLED):
        qtbot.mouseClick(w.controls.stop_button, Qt.MouseButton.LeftButton)
    second = w.session.current
    w.redraw()
    assert second.state == RunState.STOPPED and w.status.state_label.text() == "Stopped"
    assert second.status_text() == f"Stopped at epoch {second.completed_epochs} of 400"
    assert w.status.progress.value() == int(1000 * second.epoch / 400) < 1000
    assert f"Step {second.step:,}" in w.status.step_label.text()
    # the Runs list says where each run is, from its own record
    w.bottom_tabs.setCurrentWidget(w.runs)
    w.redraw()
    lines = [w.runs.list.item(i).text() for i in range(w.runs.list.count())]
    assert f"step {first.step:,}" in lines[0] and "Trained, 2 epochs" in lines[0]
    assert f"step {second.step:,}" in lines[1] and "Stopped at epoch" in lines[1]
    # open the first run's file: every readout is the opened run's
    assert w.open_run(str(path))
    opened = w.session.current
    w.redraw()
    assert opened.step == first.step and f"Step {first.step:,}" in w.status.step_label.text()
    assert w.status.state_label.text() == "Opened" and w.status.progress.value() == 1000
    assert f"step {first.step:,}" in w.controls.run_label.text()
    # load the stopped run back from the list
    assert w.load_run(second.id)
    w.redraw()
    assert f"Step {second.step:,}" in w.status.step_label.text() and "Stopped at epoch" in w.controls.run_label.text()


def test_reset_gives_the_loss_plot_a_clean_axis(qtbot, make_window, fast):
    w = make_window(fast.replace(epochs=3))
    train_to_end(qtbot, w)
    (x0, x1), (y0, y1) = w.loss_plot.plot.getViewBox().viewRange()
    assert y0 >= 0 and x1 >= w.session.current.step  # losses are positive: no axis below 0
    w.reset()
    w.redraw()
    (x0, x1), _ = w.loss_plot.plot.getViewBox().viewRange()
    assert x1 <= 10
    w.controls.set_settings(fast.replace(epochs=1))
    train_to_end(qtbot, w)
    (x0, x1), (y0, _) = w.loss_plot.plot.getViewBox().viewRange()
    assert x1 <= 1.1 * w.session.current.step + 10 and y0 >= 0  # this run's range, not the last one's


def test_eta_is_smoothed_against_jumpy_rates():
    eta, shown = EtaEstimate(), []
    remaining = 100_000.0
    for rate in [20_000, 5_000, 25_000, 4_000, 22_000, 21_000, 6_000, 20_000] * 3:
        shown.append(eta.update(remaining / rate, rate))
        remaining -= 1000
    steps = np.abs(np.diff(shown[4:]))
    assert steps.max() < 0.5 * max(shown[4:])  # the raw ETA jumps by 5×; the shown one does not
    raw = [remaining / r for r in (20_000, 5_000)]
    assert max(raw) / min(raw) > 3


def test_offline_download_error_speaks_to_a_window_user(qtbot, make_window, fast, monkeypatch):
    import torchvision.datasets

    def offline(*a, **k):
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz: no network")

    monkeypatch.setattr(torchvision.datasets, "FashionMNIST", type("FashionMNIST", (), {"__init__": offline}))
    w = make_window(fast.replace(dataset="fashion-mnist"), isolation="thread")
    with qtbot.waitSignal(w.session.error, timeout=WAIT_MS) as blocker:
        qtbot.mouseClick(w.controls.train_button, Qt.MouseButton.LeftButton)
    text = blocker.args[0]
    assert "Folder of images" in text and "--data-dir" not in text and "--dataset" not in text
    qtbot.waitUntil(lambda: not w.session.busy, timeout=WAIT_MS)
    assert not w.session.runs  # a failed start leaves no run behind ...
    w.controls.set_settings(fast.replace(epochs=1))
    train_to_end(qtbot, w)
    assert w.session.current.name == "Run 1"  # ... and takes no run number


@pytest.mark.parametrize("listed", [True, False])
def test_idx_folder_classes_come_from_the_folder(qtbot, make_window, fast, fashion_dir, tmp_path, listed):
    import shutil

    folder = tmp_path / ("mine" if listed else "FashionMNIST") / "raw"
    folder.mkdir(parents=True)
    for f in fashion_dir.iterdir():
        if f.name.startswith("t10k"):  # the small split is enough: 10% of it is held out
            shutil.copy(f, folder / f.name)
    if listed:
        (folder / "classes.txt").write_text("\n".join(f"class {c}" for c in "ABCDEFGHIJ"))
    w = make_window(fast.replace(dataset=str(folder), epochs=1))
    item = w.controls.dataset.currentText()
    assert item.endswith("/raw") and item.startswith("…") and len(item) < 30  # the end of the path shows
    train_to_end(qtbot, w)
    names = [w.controls.class_combo.itemText(i) for i in range(w.controls.class_combo.count())]
    assert names[0] == ("class A" if listed else "T-shirt/top")


def test_help_explains_the_window_and_lists_shortcuts(window):
    window.guide_action.trigger()
    text = window.help_dialog.browser.toPlainText()
    for word in ("Encoder", "Latent space", "KL", "ELBO", "β"):
        assert word in text
    window.shortcuts_action.trigger()
    text = window.help_dialog.browser.toPlainText()
    assert "Ctrl+P" in text and "Pause" in text and "Ctrl+Return" in text.replace("Ctrl+Enter", "Ctrl+Return")
