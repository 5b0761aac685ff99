"""Faults a person or the machine can cause: each gives a clear message in the window, the app
keeps working, and nothing already saved is lost or overwritten with a broken file."""

from pathlib import Path

import numpy as np
import pytest

import torch
from PySide6.QtCore import Qt

from vae_studio.core.checkpoint import SCHEMA_VERSION
from vae_studio.core.idx import write_idx
from vae_studio.gui.session import RunState
from window_helpers import train_to_end  # noqa: E402 - tests/gui is on the path

WAIT_MS = 30_000


def click(qtbot, button):
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def expect_error(qtbot, w, action, *needles):
    with qtbot.waitSignal(w.session.error, timeout=WAIT_MS) as blocker:
        action()
    message = blocker.args[0]
    for needle in needles:
        assert needle in message, message
    qtbot.waitUntil(lambda: w.banner.isVisible(), timeout=WAIT_MS)
    assert "Traceback" not in w.banner.text()
    return message


def still_works(qtbot, w, fast):
    """The window can still train a fresh model to the end after the fault."""
    if w.session.has_model:
        click(qtbot, w.controls.reset_button)
    w.controls.set_settings(fast.replace(dataset="digits", epochs=1))
    train_to_end(qtbot, w)
    assert w.session.current.finish_reason == "completed"


@pytest.fixture
def saved_run(qtbot, make_window, fast, tmp_path):
    w = make_window(fast.replace(epochs=1))
    train_to_end(qtbot, w)
    path = tmp_path / "good.pt"
    with qtbot.waitSignal(w.session.saved, timeout=WAIT_MS):
        w.save_run(str(path))
    return path


def test_out_of_memory_inside_the_worker(qtbot, make_window, fast, monkeypatch):
    from vae_studio.core import models

    calls = {"n": 0}
    real = models.VAE.forward

    def flaky(self, *a, **k):
        calls["n"] += 1
        if calls["n"] == 30:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")
        return real(self, *a, **k)

    monkeypatch.setattr(models.VAE, "forward", flaky)
    w = make_window(fast.replace(epochs=50), isolation="thread")
    expect_error(qtbot, w, lambda: click(qtbot, w.controls.train_button), "ran out of memory", "smaller batch size")
    qtbot.waitUntil(lambda: not w.session.busy, timeout=WAIT_MS)
    assert w.session.state.settled  # the restored weights stay usable
    monkeypatch.setattr(models.VAE, "forward", real)
    still_works(qtbot, w, fast)


def _idx_folder(folder: Path, n=300):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    write_idx(folder / "train-images-idx3-ubyte", rng.integers(0, 256, (n, 28, 28), dtype=np.uint8))
    write_idx(folder / "train-labels-idx1-ubyte", rng.integers(0, 10, n, dtype=np.uint8))
    return folder


def test_a_dataset_that_disappears_between_runs(qtbot, make_window, fast, tmp_path):
    folder = _idx_folder(tmp_path / "idx")
    w = make_window(fast.replace(dataset=str(folder), epochs=1))
    train_to_end(qtbot, w)
    assert w.session.current.finish_reason == "completed"
    click(qtbot, w.controls.reset_button)
    still_works(qtbot, w, fast)  # the window now holds the digits, not the folder
    click(qtbot, w.controls.reset_button)
    for f in folder.iterdir():
        f.unlink()
    w.controls.set_settings(fast.replace(dataset=str(folder), epochs=1))
    expect_error(qtbot, w, lambda: click(qtbot, w.controls.train_button), str(folder), "holds no images")
    qtbot.waitUntil(lambda: not w.session.busy, timeout=WAIT_MS)
    still_works(qtbot, w, fast)


@pytest.mark.parametrize("damage", ["magic", "size"])
def test_idx_files_with_a_wrong_magic_number_or_size(qtbot, make_window, fast, tmp_path, damage):
    folder = _idx_folder(tmp_path / "idx")
    img = folder / "train-images-idx3-ubyte"
    data = img.read_bytes()
    img.write_bytes(b"\x00\x00\x08\x07" + data[4:] if damage == "magic" else data[:-1000])
    w = make_window(fast.replace(dataset=str(folder), epochs=1))
    needle = "magic number" if damage == "magic" else "truncated"
    expect_error(qtbot, w, lambda: click(qtbot, w.controls.train_button), "train-images-idx3-ubyte", needle)
    qtbot.waitUntil(lambda: not w.session.busy, timeout=WAIT_MS)
    still_works(qtbot, w, fast)


def test_saving_to_a_full_disk_keeps_the_old_file(qtbot, make_window, fast, saved_run, monkeypatch):
    before = saved_run.read_bytes()
    w = make_window(fast.replace(epochs=1, seed=9))
    train_to_end(qtbot, w)

    def full(obj, f, *a, **k):
        f.write(b"partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(torch, "save", full)
    expect_error(qtbot, w, lambda: w.save_run(str(saved_run)), "No space left on device", "nothing was overwritten")
    assert saved_run.read_bytes() == before
    assert [p.name for p in saved_run.parent.iterdir() if p.name.endswith(".tmp")] == []
    monkeypatch.undo()
    still_works(qtbot, w, fast)


def test_saving_into_a_missing_or_read_only_folder(qtbot, make_window, fast, tmp_path, monkeypatch):
    w = make_window(fast.replace(epochs=1))
    train_to_end(qtbot, w)
    expect_error(qtbot, w, lambda: w.save_run(str(tmp_path / "no" / "such" / "run.pt")), "does not exist")
    import tempfile

    def denied(*a, **k):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", denied)  # what a read-only folder does, even for root
    expect_error(qtbot, w, lambda: w.save_run(str(tmp_path / "run.pt")), "Permission denied")
    assert not (tmp_path / "run.pt").exists()


def test_opening_a_checkpoint_truncated_at_each_tenth(qtbot, make_window, fast, saved_run, tmp_path):
    data = saved_run.read_bytes()
    w = make_window(fast)
    for tenth in range(10):
        cut = tmp_path / f"cut{tenth}.pt"
        cut.write_bytes(data[: len(data) * tenth // 10])
        expect_error(qtbot, w, lambda: w.open_run(str(cut)), cut.name)
        assert w.session.state == RunState.NEW
    assert w.open_run(str(saved_run))  # a good file still opens afterwards
    assert saved_run.read_bytes() == data


class _Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


def test_opening_a_checkpoint_that_would_run_code(qtbot, make_window, fast, saved_run, tmp_path):
    marker = tmp_path / "code-ran"
    bundle = torch.load(saved_run, weights_only=True)
    bundle["history"]["step"] = _Payload(str(marker))
    evil = tmp_path / "evil.pt"
    torch.save(bundle, evil)
    w = make_window(fast)
    expect_error(qtbot, w, lambda: w.open_run(str(evil)), "refused", "could run code")
    assert not marker.exists()
    still_works(qtbot, w, fast)


def test_opening_a_checkpoint_from_a_future_version(qtbot, make_window, fast, saved_run, tmp_path):
    bundle = torch.load(saved_run, weights_only=True)
    future = tmp_path / "future.pt"
    torch.save({**bundle, "schema_version": SCHEMA_VERSION + 1}, future)
    w = make_window(fast)
    expect_error(qtbot, w, lambda: w.open_run(str(future)), "newer VAE Studio")
    assert w.session.state == RunState.NEW


def test_the_training_process_dying_is_a_message_and_the_app_trains_again(qtbot, make_window, fast):
    import os
    import signal

    w = make_window(fast.replace(epochs=1000))
    click(qtbot, w.controls.train_button)
    qtbot.waitUntil(lambda: w.session.current.snapshot is not None and w.session.live_step > 0, timeout=WAIT_MS)
    process = w.session.job.trainer._process
    expect_error(qtbot, w, lambda: os.kill(process.pid, signal.SIGKILL), "training process ended unexpectedly")
    qtbot.waitUntil(lambda: not w.session.busy, timeout=WAIT_MS)
    assert w.explorer.isEnabled() and w.session.current.snapshot is not None  # the last picture stays
    still_works(qtbot, w, fast)


def test_closing_with_a_training_process_that_does_not_answer(qtbot, make_window, fast):
    import os
    import signal

    w = make_window(fast.replace(epochs=1000))
    click(qtbot, w.controls.train_button)
    qtbot.waitUntil(lambda: w.session.live_step > 0, timeout=WAIT_MS)
    control = w.session.job
    process = control.trainer._process
    os.kill(process.pid, signal.SIGSTOP)  # frozen: it will not see the stop request
    try:
        assert w.session.shutdown(timeout=1.0), "shutdown must end a frozen training process"
        assert control.done.is_set() and not process.is_alive()
    finally:
        if process.is_alive():
            os.kill(process.pid, signal.SIGKILL)
