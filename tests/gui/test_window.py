"""The window as a whole: entry point, live β, shortcuts, closing while data loads."""

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from vae_studio.gui import MainWindow, run_app
from vae_studio.gui.session import RunState

WAIT_MS = 30_000


def test_run_app_opens_the_window_and_exits_cleanly(qtbot, settings_store):
    seen = []

    def close_it():
        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
        seen.extend(w.windowTitle() for w in windows)
        for w in windows:
            w.close()

    QTimer.singleShot(200, close_it)
    assert run_app([]) == 0
    assert seen == ["VAE Studio"]
    assert not QApplication.windowIcon().isNull()


def test_beta_changes_while_training(qtbot, make_window, fast):
    w = make_window(fast.replace(variant="beta", beta=4.0, epochs=500))
    assert w.controls.beta.isEnabled()
    w.controls.train_button.click()
    qtbot.waitUntil(lambda: w.session.state == RunState.TRAINING and len(w.session.current.history) > 0, timeout=WAIT_MS)
    assert w.controls.beta.isEnabled(), "β is the one setting that may change mid-run"
    w.controls.beta.setValue(0.5)
    trainer = w.session.job.trainer
    assert trainer.beta == 0.5
    qtbot.waitUntil(lambda: w.session.current.progress is not None and w.session.current.progress.beta == 0.5, timeout=WAIT_MS)
    w.session.stop()
    qtbot.waitUntil(lambda: not w.session.busy, timeout=WAIT_MS)


def test_vanilla_beta_is_fixed_and_beta_variant_defaults_to_four(window):
    c = window.controls
    assert not c.beta.isEnabled()
    c.variant.setCurrentIndex(c.variant.findData("beta"))
    assert c.beta.isEnabled() and c.beta.value() == 4.0


def test_buttons_have_shortcuts(window):
    c = window.controls
    for b in (c.train_button, c.pause_button, c.stop_button, c.reset_button):
        assert not b.shortcut().isEmpty(), b.text()
        assert b.shortcut().toString() in b.toolTip() or "(" in b.toolTip()


def test_train_shortcut_starts_training(qtbot, make_window, fast):
    w = make_window(fast.replace(epochs=1))
    w.activateWindow()
    w.controls.train_button.animateClick()  # what a shortcut does: the same button
    qtbot.waitUntil(lambda: w.session.state.settled and len(w.session.current.history) > 0, timeout=WAIT_MS)


def test_close_right_after_train_does_not_hang(qtbot, make_window, fast):
    w = make_window(fast.replace(epochs=1000))
    w.controls.train_button.click()
    w.close()  # possibly still loading data: the job must notice the stop flag and end
    qtbot.waitUntil(lambda: not w.session.busy or w.session.job.done.is_set(), timeout=5000)


def test_layout_has_the_main_areas(window):
    assert window.explorer.map.isVisible() and window.explorer.decoded_view.isVisible()
    assert window.loss_plot.isVisible()
    assert window.status.progress.isVisible()
    labels = window.status.step_label.text(), window.status.rate_label.text(), window.status.eta_label.text()
    assert all(labels)
    assert window.session.state == RunState.NEW


def test_training_menu_follows_the_buttons(qtbot, make_window, fast):
    w = make_window(fast.replace(epochs=1))
    actions = {b.text(): a for b, a in w.menu_actions.items()}
    assert actions["Train"].isEnabled() and not actions["Pause"].isEnabled()
    assert actions["Train"].text().startswith("Train\t")
    actions["Train"].trigger()
    qtbot.waitUntil(lambda: w.session.state.settled, timeout=WAIT_MS)
    assert w.menu_actions[w.controls.train_button].text().startswith("Continue")
