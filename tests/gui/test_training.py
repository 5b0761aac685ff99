"""Driving the real buttons: train, pause, resume, stop, errors, closing mid-run."""

import numpy as np
from PySide6.QtCore import QElapsedTimer, Qt

from vae_studio.gui.run_record import SETTLED
from vae_studio.gui.session import RunState

WAIT_MS = 30_000


def click(qtbot, button):
    assert button.isEnabled(), f"{button.text()} is disabled"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def points(window) -> int:
    x, _ = window.loss_plot.curve_data()["smooth:neg_elbo"]
    return len(x)


def held_still(window, ms: int):
    """True once the trainer's step count has not moved for ``ms``; records any move."""
    clock = QElapsedTimer()
    clock.start()
    start = window.session.live_step
    moves = []

    def check():
        if window.session.live_step != start:
            moves.append(window.session.live_step)
        return clock.hasExpired(ms)

    return check, moves, start


def settled(window, ms: int):
    """True once the step count has not moved for ``ms`` (the clock restarts on every move)."""
    clock = QElapsedTimer()
    clock.start()
    last = [window.session.live_step]

    def cond():
        if window.session.live_step != last[0]:
            last[0] = window.session.live_step
            clock.restart()
        return clock.hasExpired(ms)

    return cond


def test_train_pause_resume_stop(qtbot, make_window, fast):
    w = make_window(fast.replace(epochs=500))
    c = w.controls
    assert not c.pause_button.isEnabled() and not c.stop_button.isEnabled()
    click(qtbot, c.train_button)
    qtbot.waitUntil(lambda: points(w) >= 3, timeout=WAIT_MS)
    assert w.session.state == RunState.TRAINING
    # settings that shape the model or the run cannot change mid-run; β of a vanilla VAE neither
    assert not c.hidden.isEnabled() and not c.epochs.isEnabled() and not c.train_button.isEnabled()

    click(qtbot, c.pause_button)
    assert w.session.state == RunState.PAUSED and c.pause_button.text() == "Resume"
    # the step in flight may still finish (a few ms); after that the count must stay put
    qtbot.waitUntil(settled(w, 1500), timeout=15000)  # messages sent before the pause took effect may still be on their way
    check, moves, paused_step = held_still(w, 600)
    n_points = points(w)
    qtbot.waitUntil(check, timeout=5000)
    assert moves == [], f"steps ran while paused: {paused_step} -> {moves}"
    assert points(w) == n_points

    click(qtbot, c.pause_button)
    assert w.session.state == RunState.TRAINING and c.pause_button.text() == "Pause"
    qtbot.waitUntil(lambda: w.session.live_step > paused_step and points(w) > n_points, timeout=WAIT_MS)

    with qtbot.waitSignal(w.session.state_changed, timeout=WAIT_MS, check_params_cb=lambda s: s in SETTLED):
        click(qtbot, c.stop_button)
    assert not w.session.busy
    assert w.session.current.finish_reason == "stopped"
    assert c.train_button.isEnabled() and c.train_button.text() == "Continue"
    assert c.reset_button.isEnabled() and not c.hidden.isEnabled()

    click(qtbot, c.reset_button)
    assert w.session.state == RunState.NEW and points(w) == 0 and c.hidden.isEnabled()


def test_training_runs_to_completion_with_validation(qtbot, make_window, fast):
    w = make_window(fast.replace(epochs=3, kl_schedule="linear", warmup_epochs=2.0))
    with qtbot.waitSignal(w.session.state_changed, timeout=WAIT_MS, check_params_cb=lambda s: s in SETTLED):
        click(qtbot, w.controls.train_button)
    w.redraw()
    data = w.loss_plot.curve_data()
    assert len(data["val:neg_elbo"][0]) == 3  # one held-out point per epoch
    assert w.session.current.finish_reason == "completed"
    assert w.loss_plot.weight_plot.isVisible()
    weights = w.session.current.history.array("kl_weight")
    # a ramp over two of the three epochs: the weight rises and then holds at 1
    assert weights[0] < 1.0 and weights[-1] == 1.0 and (np.diff(weights) >= 0).all()
    assert w.status.progress.value() == 1000
    assert len(w.explorer.map_xy()) == len(w.session.dataset.test)  # the map shows the last snapshot


def test_non_finite_loss_shows_message_and_app_keeps_working(qtbot, make_window, fast, tmp_path):
    w = make_window(fast.replace(lr=1e6, epochs=5))
    with qtbot.waitSignal(w.session.error, timeout=WAIT_MS) as blocker:
        click(qtbot, w.controls.train_button)
    assert "non-finite" in blocker.args[0]
    qtbot.waitUntil(lambda: not w.session.busy, timeout=WAIT_MS)
    assert w.banner.isVisible() and "non-finite" in w.banner.text()
    assert "loss became non" in w.statusBar().currentMessage()
    assert w.session.state.settled and w.controls.train_button.isEnabled()
    # the last finite weights were restored: they can be saved (saving refuses NaN weights)
    path = tmp_path / "diverged.pt"
    with qtbot.waitSignal(w.session.saved, timeout=WAIT_MS):
        w.save_run(str(path))
    assert path.exists()
    # and the window still trains: a new model at a sane rate runs to the end
    click(qtbot, w.controls.reset_button)
    w.controls.lr.setValue(1e-3)
    w.controls.epochs.setValue(1)
    click(qtbot, w.controls.train_button)
    assert not w.banner.isVisible()
    qtbot.waitUntil(lambda: w.session.state.settled, timeout=WAIT_MS)
    assert w.session.current.finish_reason == "completed"


def test_close_during_training_joins_worker(qtbot, make_window, fast):
    w = make_window(fast.replace(epochs=1000))
    click(qtbot, w.controls.train_button)
    qtbot.waitUntil(lambda: points(w) >= 2, timeout=WAIT_MS)
    control = w.session.job
    clock = QElapsedTimer()
    clock.start()
    w.close()
    assert control.done.is_set(), "the training thread was still running after close()"
    assert clock.elapsed() < 5000
    assert control.trainer.stopping


def test_bad_settings_are_a_message_not_a_crash(qtbot, window):
    window.controls.kl_schedule.setCurrentIndex(window.controls.kl_schedule.findData("cyclical"))
    window.controls.warmup_epochs.setValue(0)
    with qtbot.waitSignal(window.session.error, timeout=2000):
        click(qtbot, window.controls.train_button)
    assert "cyclical" in window.banner.text()
    assert window.session.state == RunState.NEW
