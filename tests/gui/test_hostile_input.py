"""Input from outside the window — a settings file, run files, a job that breaks — never wedges it."""

import json
import math

import pytest
import torch
from PySide6.QtCore import QSettings, Qt

from vae_studio.core.checkpoint import load_checkpoint
from vae_studio.core.settings import SCHEMA
from vae_studio.gui import MainWindow
from vae_studio.gui.run_record import RunState
from window_helpers import train_to_end  # noqa: E402 - tests/gui is on the path

WAIT_MS = 30_000


def test_a_runtime_error_in_the_job_returns_the_window_to_idle_with_a_message(qtbot, make_window, fast, monkeypatch):
    def broken(*a, **k):
        raise RuntimeError("something nobody foresaw")

    monkeypatch.setattr("vae_studio.gui.training_job.load_dataset", broken)
    w = make_window(fast, isolation="thread")
    with qtbot.waitSignal(w.session.internal_error, timeout=WAIT_MS):
        qtbot.mouseClick(w.controls.train_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not w.session.busy, timeout=WAIT_MS)
    assert w.session.state == RunState.NEW and w.controls.train_button.isEnabled()
    text = w.banner.text()
    assert "something nobody foresaw" in text and "Traceback" not in text and len(text.splitlines()) == 1
    assert w.banner.details_path is not None and "Traceback" in w.banner.details_path.read_text()
    monkeypatch.undo()
    train_to_end(qtbot, w)  # and the next run trains
    assert w.session.current.finish_reason == "completed"


@pytest.mark.parametrize("value", [10**12, -5, math.inf, "abc", None, [1, 2]])
def test_a_hostile_settings_file_opens_the_window_with_a_note(qtbot, tmp_path, value):
    store = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    values = {name: value for name in SCHEMA}
    store.setValue("run/settings", json.dumps(values, allow_nan=True))
    store.sync()
    w = MainWindow(settings=store)
    qtbot.addWidget(w)
    s = w.controls.settings()
    for name, spec in SCHEMA.items():
        v = getattr(s, name)
        if spec.lo is not None and isinstance(v, (int, float)):
            assert spec.lo <= v <= spec.hi, name
    assert w.banner.isVisibleTo(w) and "adjusted" in w.banner.label.text()
    w.session.shutdown()


def _tampered(bundle: dict):
    """One change at a time to the parts a window reads: configs, history, step, epoch."""
    cases = []
    for key in ("step", "epoch"):
        for bad in ("x", -1, 10**18, float("nan"), None, [1]):
            cases.append((f"{key}={bad!r}", {key: bad}))
    for bad in ("x", {"step": "a"}, {"step": [1, 2], "recon": [1.0]}, {"recon": [float("nan")] * 3}, None, [1]):
        cases.append((f"history={bad!r}", {"history": bad}))
    for cfg in ("model_config", "train_config"):
        for field, bad in (("latent_dim", "2"), ("epochs", 10**9), ("lr", -1.0), ("beta", float("inf")),
                           ("hidden", ["a"]), ("batch_size", 0), ("seed", 2**70), ("kl_schedule", 5)):
            if field in bundle[cfg]:
                cases.append((f"{cfg}.{field}={bad!r}", {cfg: {**bundle[cfg], field: bad}}))
    return cases


def test_every_tampered_run_file_opens_or_says_why_and_leaves_no_phantom(qtbot, make_window, fast, tmp_path):
    w = make_window(fast.replace(epochs=1))
    train_to_end(qtbot, w)
    good = tmp_path / "good.pt"
    with qtbot.waitSignal(w.session.saved, timeout=WAIT_MS):
        w.save_run(str(good))
    raw = torch.load(good, weights_only=True)
    errors = []
    w.session.error.connect(errors.append)
    for i, (what, change) in enumerate(_tampered(raw)):
        path = tmp_path / f"t{i}.pt"
        torch.save({**raw, **change}, path)
        runs_before, errors_before = len(w.session.runs), len(errors)
        opened = w.open_run(str(path))
        w.redraw()
        if opened:
            assert len(w.session.runs) == runs_before + 1, what
            run = w.session.current
            assert run.state == RunState.OPENED and run.step >= 0 and math.isfinite(run.epoch), what
        else:
            assert len(w.session.runs) == runs_before, what  # no phantom run
            assert len(errors) == errors_before + 1 and "Traceback" not in errors[-1], what
    # plain text and other files that are not runs at all
    for i, content in enumerate((b"hello, world\n", b"PK\x03\x04 not a zip", b"\x80\x02}q\x00.", b"")):
        path = tmp_path / f"text{i}.pt"
        path.write_bytes(content)
        assert not w.open_run(str(path))
    # the window still works: it trains a new model
    w.reset()
    train_to_end(qtbot, w)
    assert w.session.current.finish_reason == "completed"
    assert load_checkpoint(good)["step"] > 0
