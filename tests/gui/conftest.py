"""GUI tests run offscreen, with settings in a temporary folder, and close every window they open."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# autosaves of the test windows go to a throwaway folder, never the person's own
os.environ.setdefault("VAE_STUDIO_AUTOSAVE_DIR", __import__("tempfile").mkdtemp(prefix="vae-studio-autosave-"))

import pytest  # noqa: E402
from PySide6.QtCore import QSettings  # noqa: E402

from vae_studio.gui import MainWindow  # noqa: E402
from vae_studio.gui.session import RunSettings, Session  # noqa: E402

# small and fast: the built-in digits, a tiny MLP, 2-D latent space
FAST = RunSettings(dataset="digits", hidden=(32,), latent_dim=2, epochs=3, batch_size=128, lr=2e-3, seed=0, device="cpu")


@pytest.fixture(scope="session", autouse=True)
def gc_on_the_gui_thread(qapp):
    """As the window does: cyclic garbage with Qt objects in it is collected on the GUI thread only."""
    from vae_studio.gui.gc_on_gui_thread import collect_on_gui_thread

    collect_on_gui_thread()


@pytest.fixture
def fast():
    return FAST


@pytest.fixture
def settings_store(tmp_path):
    # never touch the person's own settings: an INI file in the test's temporary folder
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "settings"))
    store = QSettings(str(tmp_path / "settings" / "vae-studio-test.ini"), QSettings.Format.IniFormat)
    yield store


@pytest.fixture
def make_window(qtbot, settings_store):
    windows = []

    def make(settings: RunSettings = FAST, store=None, isolation: str | None = None):
        """``isolation="thread"``: train in a thread of the test process, where a monkeypatched
        core function (a fault injected on purpose) is what the trainer calls."""
        session = Session(isolation=isolation) if isolation else None
        w = MainWindow(settings=store or settings_store, session=session)
        qtbot.addWidget(w)
        w.controls.set_settings(settings)
        w.show()
        windows.append(w)
        return w

    yield make
    for w in windows:
        w.session.shutdown(5.0)
        assert not w.session.busy or w.session.job.done.is_set()
        w.close()


@pytest.fixture
def window(make_window):
    return make_window()
