"""The window as a whole: entry point, live β, shortcuts, closing while data loads."""

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QApplication

from vae_studio.core.config import auto_epochs
from vae_studio.core.settings import RunSettings
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
    c.variant.set_value("beta")
    assert c.beta.isEnabled() and c.beta.value() == 4.0


def test_actions_carry_the_shortcuts_and_buttons_show_them(window):
    c = window.controls
    for key, b in (("train", c.train_button), ("pause", c.pause_button), ("stop", c.stop_button), ("reset", c.reset_button)):
        keys = c.actions[key].shortcut()
        assert not keys.isEmpty(), key
        assert keys.toString(QKeySequence.SequenceFormat.NativeText) in b.toolTip()


def _press(qtbot, w, key, modifier=Qt.KeyboardModifier.ControlModifier):
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow, timeout=5000)
    qtbot.keyClick(w.controls, key, modifier)


def test_shortcuts_work_again_and_again(qtbot, make_window, fast):
    """Ctrl+P pauses, pauses again after a resume; Ctrl+Return trains, then continues a trained run."""
    w = make_window(fast.replace(epochs=200))
    _press(qtbot, w, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: w.session.state == RunState.TRAINING and w.session.current.step > 0, timeout=WAIT_MS)
    _press(qtbot, w, Qt.Key.Key_P)
    qtbot.waitUntil(lambda: w.session.state == RunState.PAUSED, timeout=WAIT_MS)
    assert w.controls.pause_button.text() == "Resume"
    _press(qtbot, w, Qt.Key.Key_P)
    qtbot.waitUntil(lambda: w.session.state == RunState.TRAINING, timeout=WAIT_MS)
    _press(qtbot, w, Qt.Key.Key_P)
    qtbot.waitUntil(lambda: w.session.state == RunState.PAUSED, timeout=WAIT_MS)
    _press(qtbot, w, Qt.Key.Key_Period)  # stop
    qtbot.waitUntil(lambda: w.session.state.settled, timeout=WAIT_MS)
    assert w.session.current.state == RunState.STOPPED
    assert w.controls.train_button.text() == "Continue"
    step = w.session.current.step
    _press(qtbot, w, Qt.Key.Key_Return)  # a second Ctrl+Return: Continue
    qtbot.waitUntil(lambda: w.session.state == RunState.TRAINING and w.session.current.step > step, timeout=WAIT_MS)
    _press(qtbot, w, Qt.Key.Key_Period)
    qtbot.waitUntil(lambda: w.session.state.settled, timeout=WAIT_MS)
    menu_text = {a.text(): a.shortcut().toString() for a in w.menuBar().actions()[1].menu().actions()}
    assert all(menu_text.values()) and "Continue" in menu_text


def test_train_shortcut_starts_training(qtbot, make_window, fast):
    w = make_window(fast.replace(epochs=1))
    _press(qtbot, w, Qt.Key.Key_Return)
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


def test_training_menu_shares_the_panel_actions(qtbot, make_window, fast):
    w = make_window(fast.replace(epochs=1))
    menu = w.menuBar().actions()[1].menu().actions()
    assert menu == list(w.controls.actions.values())  # the same QActions: one shortcut, one state
    train, pause = menu[0], menu[1]
    assert train.isEnabled() and not pause.isEnabled()
    train.trigger()
    qtbot.waitUntil(lambda: w.session.state.settled, timeout=WAIT_MS)
    assert train.text() == "Continue" and w.controls.train_button.text() == "Continue"


def test_garbage_is_collected_on_the_gui_thread_only(window, qtbot):
    """A worker thread that allocates must never be the one that destroys a closed window's Qt objects."""
    import gc

    assert not gc.isenabled()  # automatic collection (in any thread) is off ...
    before = gc.get_count()[0]
    junk = [[] for _ in range(5000)]
    for a in junk:
        a.append(a)  # cycles only a collection frees
    del junk
    qtbot.waitUntil(lambda: gc.get_count()[0] < before + 1000, timeout=10_000)  # ... a GUI-thread timer collects


def test_the_beta_panel_starts_with_ten_latent_dimensions_and_n01_unless_others_were_chosen(window):
    from vae_studio.core.settings import BETA_VARIANT_LATENT, RunSettings

    c = window.controls
    d = RunSettings()
    c.set_settings(c.settings().replace(variant="vanilla", latent_dim=d.latent_dim, beta=1.0, prior=d.prior))
    c.variant.set_value("beta")
    s = c.settings()
    assert (s.latent_dim, s.beta, s.prior) == (BETA_VARIANT_LATENT, 4.0, "standard")
    assert not c.prior_components.isEnabled() and c.free_bits.isEnabled()  # N(0, I): no components, free bits
    c.set_settings(c.settings().replace(variant="vanilla", latent_dim=6, beta=1.0, prior="mixture", prior_components=50))
    assert c.prior_components.isEnabled() and not c.free_bits.isEnabled()
    c.variant.set_value("beta")
    assert (c.settings().latent_dim, c.settings().beta) == (6, 4.0)  # a size the person chose stays
    # each variant its own prior: back to vanilla is the mixture again, conditional is N(0, I)
    c.variant.set_value("vanilla")
    assert c.settings().prior == "mixture"
    c.variant.set_value("conditional")
    assert c.settings().prior == "standard"
    # a prior the person chose stays: N(0, I) on the vanilla panel is kept through β and back
    c.variant.set_value("vanilla")
    c.set_settings(c.settings().replace(prior="standard"))
    c.variant.set_value("beta")
    c.variant.set_value("vanilla")
    assert c.settings().prior == "standard"


def test_each_built_in_dataset_starts_with_its_own_epoch_count_and_a_typed_one_stays(make_window):
    c = make_window(RunSettings()).controls
    assert c.settings().epochs == auto_epochs(4500) == 89  # what `vae-studio train` picks on the digits

    def choose(source):
        i = c.dataset.findData(source)
        c.dataset.setCurrentIndex(i)
        c.dataset.activated.emit(i)  # as a person's choice arrives

    choose("mnist")
    assert c.settings().epochs == auto_epochs(60_000) == 10
    choose("digits")
    assert c.settings().epochs == 89
    c.epochs.setValue(30)  # typed: it stays whatever set is chosen
    choose("fashion-mnist")
    assert c.settings().epochs == 30
    c.set_settings(RunSettings(dataset="cifar10", epochs=auto_epochs(50_000)))
    choose("digits")  # a count the form would have chosen itself follows the set again
    assert c.settings().epochs == 89
