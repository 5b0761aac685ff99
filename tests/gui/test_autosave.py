"""Autosave: the live run reaches disk while it trains; after the process is killed, the next
launch offers it back."""

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from vae_studio.gui.run_record import SETTLED
import torch

from vae_studio.core import load_checkpoint

pytestmark = pytest.mark.slow

APP = textwrap.dedent("""
    import os, sys, tempfile
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication
    from vae_studio.gui import MainWindow
    from vae_studio.gui.session import RunSettings
    app = QApplication([])
    w = MainWindow(settings=QSettings(os.path.join(tempfile.mkdtemp(), "s.ini"), QSettings.Format.IniFormat))
    w.controls.set_settings(RunSettings(hidden=(32,), latent_dim=2, epochs=100000, device="cpu"))
    w.show()
    w.train()
    print("training", flush=True)
    app.exec()
""")


def test_killed_mid_training_the_next_launch_offers_the_run(qtbot, make_window, tmp_path, monkeypatch):
    folder = tmp_path / "autosave"
    env = {**os.environ, "VAE_STUDIO_AUTOSAVE_DIR": str(folder), "VAE_STUDIO_AUTOSAVE_SECONDS": "0.5"}
    proc = subprocess.Popen([sys.executable, "-c", APP], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        own = folder / f"run-{proc.pid}.pt"
        saved_steps = []
        # wait for two autosaves, so the file is known to be rewritten while training goes on
        def two_saves() -> bool:
            if own.exists():
                saved_steps.append(load_checkpoint(own)["step"])  # the file is always whole
            return len(set(saved_steps)) >= 2 or proc.poll() is not None

        qtbot.waitUntil(two_saves, timeout=60_000)
        assert len(set(saved_steps)) >= 2, (saved_steps, proc.poll(), proc.stderr.read() if proc.poll() is not None else "")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    assert own.exists()
    kept = load_checkpoint(own)  # a complete, valid file: saves are atomic
    assert kept["step"] > 0

    monkeypatch.setenv("VAE_STUDIO_AUTOSAVE_DIR", str(folder))
    w = make_window()
    assert w.banner.isVisible() and "did not close normally" in w.banner.text()
    assert w.banner.action_button.isVisible() and w.banner.action_button.text() == "Restore"
    w.banner.action_button.click()
    assert w.session.state.settled and w.session.live_step == kept["step"]
    assert not own.exists()  # offered once, restored once
    weights = w.session.current.weights()[1]
    assert all(torch.equal(weights[k], kept["model_state"][k]) for k in kept["model_state"])


def test_a_clean_close_leaves_no_autosave(qtbot, make_window, fast, tmp_path, monkeypatch):
    monkeypatch.setenv("VAE_STUDIO_AUTOSAVE_DIR", str(tmp_path / "a"))
    monkeypatch.setattr("vae_studio.gui.autosave.INTERVAL_S", 0.0)
    w = make_window(fast.replace(epochs=2))
    with qtbot.waitSignal(w.session.state_changed, timeout=30_000, check_params_cb=lambda s: s in SETTLED):
        w.train()
    own = tmp_path / "a" / f"run-{os.getpid()}.pt"
    assert own.exists() and load_checkpoint(own)["step"] == w.session.live_step
    w.close()
    assert not own.exists()
