"""Save, open, export, and settings that persist between launches."""

import csv

import numpy as np
import torch
from PySide6.QtCore import Qt

from vae_studio.gui import MainWindow
from vae_studio.gui.session import RunState
from window_helpers import train_to_end  # noqa: E402 - tests/gui is on the path

WAIT_MS = 30_000


def test_save_then_open_restores_curves_and_weights_and_continues(qtbot, make_window, fast, tmp_path):
    a = make_window(fast.replace(epochs=2, seed=3))
    train_to_end(qtbot, a)
    path = tmp_path / "run.pt"
    with qtbot.waitSignal(a.session.saved, timeout=WAIT_MS):
        a.save_run(str(path))
    trained = a.session.current.trainer.bundle()["model_state"]
    curves_a = a.loss_plot.curve_data()

    b = make_window(fast.replace(hidden=(8,), latent_dim=5, epochs=9))  # settings the file will replace
    assert b.open_run(str(path))
    b.redraw()
    assert b.session.state.settled
    assert b.controls.settings().hidden == (32,) and b.controls.settings().latent_dim == 2
    assert b.controls.settings().seed == 3
    assert not b.controls.hidden.isEnabled(), "the model's shape comes from the file"
    curves_b = b.loss_plot.curve_data()
    assert curves_a.keys() == curves_b.keys()
    for key in curves_a:
        np.testing.assert_allclose(curves_b[key][0], curves_a[key][0], err_msg=key)
        np.testing.assert_allclose(curves_b[key][1], curves_a[key][1], err_msg=key)
    assert len(curves_b["val:neg_elbo"][0]) == 2
    opened = b.session.opened_weights()
    assert opened.keys() == trained.keys()
    for k in trained:
        assert torch.equal(opened[k], trained[k]), k

    # Continue trains the opened model further, appending to its curves
    step = b.session.live_step
    b.controls.epochs.setValue(3)
    train_to_end(qtbot, b)
    assert b.session.completed_epochs == 3 and b.session.live_step > step
    assert len(b.loss_plot.curve_data()["val:neg_elbo"][0]) == 3


def test_save_while_training_and_while_paused(qtbot, make_window, fast, tmp_path):
    w = make_window(fast.replace(epochs=500))
    qtbot.mouseClick(w.controls.train_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(w.session.current.history) >= 2, timeout=WAIT_MS)
    running = tmp_path / "running.pt"
    with qtbot.waitSignal(w.session.saved, timeout=WAIT_MS):
        w.save_run(str(running))
    assert w.session.state == RunState.TRAINING

    qtbot.mouseClick(w.controls.pause_button, Qt.MouseButton.LeftButton)
    paused = tmp_path / "paused.pt"
    with qtbot.waitSignal(w.session.saved, timeout=WAIT_MS):
        w.save_run(str(paused))
    # the save let the trainer reach one message boundary; then it is held again
    qtbot.waitUntil(lambda: w.session.job.trainer.paused, timeout=WAIT_MS)
    assert w.session.state == RunState.PAUSED
    w.session.stop()
    qtbot.waitUntil(lambda: not w.session.busy, timeout=WAIT_MS)

    c = make_window()
    assert c.open_run(str(paused)) and c.session.live_step > 0
    assert c.open_run(str(running))


def test_open_a_bad_file_is_a_message(qtbot, window, tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with qtbot.waitSignal(window.session.error, timeout=2000):
        assert not window.open_run(str(bad))
    assert "corrupt" in window.banner.text() or "not" in window.banner.text()
    assert window.session.state == RunState.NEW


def test_export_history_csv_and_plot_png(qtbot, make_window, fast, tmp_path):
    w = make_window(fast.replace(epochs=1))
    train_to_end(qtbot, w)
    out = tmp_path / "history.csv"
    w.export_history(str(out))
    rows = list(csv.DictReader(out.open()))
    assert len(rows) >= len(w.session.current.history)  # plus held-out rows at steps of their own
    assert set(rows[0]) >= {"step", "epoch", "neg_elbo", "recon", "kl", "kl_weight", "val_neg_elbo"}
    assert sum(1 for r in rows if r["val_neg_elbo"]) == 1
    assert float(rows[-1]["neg_elbo"]) == float(rows[-1]["recon"]) + float(rows[-1]["kl"])
    png = tmp_path / "plot.png"
    assert w.export_plot(str(png))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_settings_and_geometry_persist(qtbot, settings_store, fast):
    w = MainWindow(settings=settings_store)
    qtbot.addWidget(w)
    w.controls.set_settings(fast.replace(epochs=7, hidden=(64, 32), variant="beta", beta=2.5))
    w.resize(701, 555)  # inside the offscreen screen, which restoreGeometry clamps to
    w.loss_plot.log_scale.setChecked(True)
    w.close()

    again = MainWindow(settings=settings_store)
    qtbot.addWidget(again)
    s = again.controls.settings()
    assert (s.epochs, s.hidden, s.variant, s.beta) == (7, (64, 32), "beta", 2.5)
    assert again.loss_plot.log_scale.isChecked()
    assert again.size().width() == 701


def test_every_setting_has_a_tooltip(window):
    c = window.controls
    for name in ("dataset", "variant", "arch", "likelihood", "latent_dim", "hidden", "epochs", "batch_size", "lr",
                 "beta", "kl_schedule", "warmup_epochs", "free_bits", "seed", "device", "train_button",
                 "pause_button", "stop_button", "reset_button"):
        tip = getattr(c, name).toolTip()
        assert len(tip) > 20, name
    assert c.device_label.text().startswith(("CPU", "CUDA"))
    assert window.status.device_label.text().startswith(("CPU", "CUDA"))
