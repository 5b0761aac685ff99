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


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


@pytest.fixture
def good_bundle():
    from vae_studio.core import ModelConfig, TrainConfig, Trainer, load_dataset, make_bundle

    trainer = Trainer(ModelConfig(hidden=(8,), latent_dim=2), TrainConfig(epochs=1, device="cpu"), load_dataset("digits"))
    return make_bundle(trainer, autosaved=True)


def _orphans(folder, good_bundle, newest_damage):
    """An older good autosave and a newer damaged one, both of processes that are gone."""
    from vae_studio.core import save_checkpoint

    folder.mkdir(parents=True, exist_ok=True)
    old_pid, new_pid = _dead_pid(), _dead_pid()
    good, bad = folder / f"run-{old_pid}.pt", folder / f"run-{new_pid}.pt"
    save_checkpoint(good, good_bundle)
    data = good.read_bytes()
    bad.write_bytes(data[: len(data) // 2] if newest_damage == "truncated" else b"\0" * len(data))
    os.utime(good, (1_700_000_000, 1_700_000_000))
    os.utime(bad, (1_700_000_600, 1_700_000_600))
    return good, bad


@pytest.mark.parametrize("damage", ["truncated", "zeros"])
def test_a_damaged_newest_autosave_does_not_hide_an_older_good_one(tmp_path, good_bundle, damage):
    from vae_studio.gui.autosave import find_orphans

    good, bad = _orphans(tmp_path, good_bundle, damage)
    assert [o.path for o in find_orphans(tmp_path, check=False)] == [bad, good]
    assert [o.path for o in find_orphans(tmp_path)] == [good]
    assert not bad.exists() and bad.with_name(bad.name + ".unreadable").exists()  # set aside, not lost
    assert [o.path for o in find_orphans(tmp_path)] == [good]  # and never offered again


def test_only_damaged_autosaves_offer_nothing(tmp_path, good_bundle):
    from vae_studio.gui.autosave import find_orphans

    good, bad = _orphans(tmp_path, good_bundle, "truncated")
    good.write_bytes(good.read_bytes()[:100])
    assert find_orphans(tmp_path) == []


def test_the_window_offers_the_newest_autosave_that_loads(qtbot, make_window, tmp_path, monkeypatch, good_bundle):
    good, bad = _orphans(tmp_path / "a", good_bundle, "truncated")
    monkeypatch.setenv("VAE_STUDIO_AUTOSAVE_DIR", str(tmp_path / "a"))
    w = make_window()
    assert "can be restored" in w.banner.text()
    w.banner.action_button.click()
    assert w.session.state.settled
    assert not good.exists()


class _Trainer:
    def __init__(self, bundle):
        self._bundle = bundle

    def bundle(self, **extra):
        return {**self._bundle, **extra}


def test_an_unwritable_autosave_folder_is_reported_once(tmp_path, good_bundle):
    from vae_studio.gui.autosave import AutosaveError, Autosaver

    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the autosave folder should be")
    saver = Autosaver(blocker / "autosave" / "run-1.pt", interval_s=0)
    with pytest.raises(AutosaveError, match="training goes on"):
        saver.save(_Trainer(good_bundle))
    assert saver.failing
    saver.save(_Trainer(good_bundle))  # the same failure again: quiet
    saver.save(_Trainer(good_bundle))
    blocker.unlink()
    saver.save(_Trainer(good_bundle))  # the folder can be made now: the spell ends
    assert not saver.failing and load_checkpoint(blocker / "autosave" / "run-1.pt")["step"] == 0


def test_training_goes_on_when_the_autosave_folder_cannot_be_written(qtbot, make_window, fast, tmp_path, monkeypatch):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the autosave folder should be")
    monkeypatch.setenv("VAE_STUDIO_AUTOSAVE_DIR", str(blocker / "autosave"))
    monkeypatch.setattr("vae_studio.gui.autosave.INTERVAL_S", 0.0)
    w = make_window(fast.replace(epochs=3))
    errors, notes = [], []
    w.session.error.connect(errors.append)
    w.session.info.connect(notes.append)
    with qtbot.waitSignal(w.session.state_changed, timeout=60_000, check_params_cb=lambda s: s in SETTLED):
        w.train()
    assert w.session.current.finish_reason == "completed"
    assert not errors, errors  # a warning, not an error: training went on
    assert len([n for n in notes if "autosave" in n.lower()]) == 1, notes  # said once
