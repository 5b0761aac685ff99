"""The command line's contract under faults: bad input is one line and exit 2, never an internal
error; a failure during training still saves the last good weights; outputs are checked first."""

import contextlib
import io
import os
import signal
import stat
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from vae_studio.cli import main
from vae_studio.core import load_checkpoint
from vae_studio.core.idx import write_idx

REPO = Path(__file__).resolve().parents[2]
TINY = ["--epochs", "1", "--hidden", "8", "--latent-dim", "2"]


def run(argv):
    """main() in this process: (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = main(argv)
        except SystemExit as e:  # argparse
            rc = e.code
    return rc, out.getvalue(), err.getvalue()


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def idx_folder(folder: Path, n=64, classes=10, seed=0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    write_idx(folder / "train-images-idx3-ubyte", rng.integers(0, 256, (n, 28, 28), dtype=np.uint8))
    write_idx(folder / "train-labels-idx1-ubyte", (np.arange(n) % classes).astype(np.uint8))
    return folder


# -- outputs ---------------------------------------------------------------------------------------
@pytest.mark.timeout(120)
def test_out_onto_a_fifo_writes_through_and_keeps_the_fifo(tmp_path):
    fifo = tmp_path / "run.pt"
    os.mkfifo(fifo)
    got = []

    def read():
        with open(fifo, "rb") as f:
            got.append(f.read())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    rc, _, err = run(["train", *TINY, "--out", str(fifo)])
    reader.join(60)
    assert rc == 0, err
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert got and got[0][:2] == b"PK"  # the whole checkpoint came through the pipe
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.pt"]


@pytest.mark.parametrize("case", ["folder", "denied", "too-long", "missing-folder"])
def test_an_unwritable_out_fails_before_training(tmp_path, monkeypatch, case):
    out = tmp_path / "run.pt"
    if case == "folder":
        out.mkdir()
    elif case == "too-long":
        out = tmp_path / ("r" * 300 + ".pt")
    elif case == "missing-folder":
        out = tmp_path / "no" / "run.pt"
    else:
        import tempfile

        def denied(*a, **k):
            raise PermissionError(13, "Permission denied")

        monkeypatch.setattr(tempfile, "mkstemp", denied)  # a read-only folder, even for root
    loaded = []
    monkeypatch.setattr("vae_studio.core.load_dataset", lambda *a, **k: loaded.append(a) or None)
    rc, stdout, err = run(["train", *TINY, "--out", str(out)])
    assert rc == 2 and stdout == "" and not loaded  # before the data loaded, before any training
    assert "--out" in one_line(err)


def test_stale_temporary_files_are_removed_on_the_next_save(tmp_path):
    out = tmp_path / "run.pt"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".run.pt.{dead.pid}.abcdefgh.tmp"
    stale.write_bytes(b"a killed save")
    os.utime(stale, (0, 0))
    assert run(["train", *TINY, "--out", str(out)])[0] == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.pt"]


# -- datasets ----------------------------------------------------------------------------------------
def test_datasets_that_parse_but_cannot_train(tmp_path, monkeypatch):
    empty = idx_folder(tmp_path / "empty", n=0)
    rc, _, err = run(["train", *TINY, "--dataset", str(empty), "--out", str(tmp_path / "e.pt")])
    assert rc == 2 and "holds no images" in one_line(err)
    single = idx_folder(tmp_path / "single", n=1)
    rc, _, err = run(["train", *TINY, "--dataset", str(single), "--out", str(tmp_path / "s.pt")])
    assert rc == 2 and "at least 2 are needed" in one_line(err)
    # one image per class: nothing to stratify, one image is held out and the other nine train
    per_class = idx_folder(tmp_path / "per-class", n=10)
    rc, _, err = run(["train", *TINY, "--dataset", str(per_class), "--out", str(tmp_path / "p.pt")])
    assert rc == 0, err
    unreadable = idx_folder(tmp_path / "unreadable")
    real_iterdir = Path.iterdir

    def iterdir(self):
        if self == unreadable:
            raise PermissionError(13, "Permission denied", str(self))
        return real_iterdir(self)

    monkeypatch.setattr(Path, "iterdir", iterdir)  # what chmod 000 does, even for root
    rc, _, err = run(["train", *TINY, "--dataset", str(unreadable), "--out", str(tmp_path / "u.pt")])
    assert rc == 2 and "cannot read the dataset folder" in one_line(err)


def test_a_conditional_model_on_a_dataset_with_more_classes(tmp_path):
    three = idx_folder(tmp_path / "three", n=60, classes=3)
    out = tmp_path / "c.pt"
    assert run(["train", *TINY, "--variant", "conditional", "--dataset", str(three), "--out", str(out)])[0] == 0
    rc, _, err = run(["evaluate", str(out), "--dataset", "digits"])
    assert rc == 2 and "trained on 3 classes" in one_line(err)


def test_a_folder_dataset_is_stored_absolute_and_a_moved_one_is_named(tmp_path, monkeypatch):
    idx_folder(tmp_path / "work" / "idx")
    monkeypatch.chdir(tmp_path / "work")
    out = tmp_path / "run.pt"
    assert run(["train", *TINY, "--dataset", "idx", "--out", str(out)])[0] == 0
    assert load_checkpoint(out)["dataset"] == str(tmp_path / "work" / "idx")
    monkeypatch.chdir(tmp_path)
    assert run(["evaluate", str(out)])[0] == 0  # from another folder
    (tmp_path / "work" / "idx").rename(tmp_path / "work" / "moved")
    rc, _, err = run(["evaluate", str(out)])
    assert rc == 2 and "moved or deleted" in one_line(err) and "--dataset" in err


# -- failures during training -----------------------------------------------------------------------
@pytest.mark.parametrize("fault", ["cpu-oom", "bug"])
def test_an_error_mid_training_still_saves_the_last_good_weights(tmp_path, monkeypatch, fault):
    from vae_studio.core import models

    monkeypatch.setenv("VAE_STUDIO_LOG_DIR", str(tmp_path / "logs"))
    real, calls = models.VAE.forward, {"n": 0}

    def flaky(self, *a, **k):
        calls["n"] += 1
        if calls["n"] == 40:
            if fault == "cpu-oom":
                raise RuntimeError("[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: can't allocate memory: "
                                   "you tried to allocate 1073741824 bytes")
            raise ValueError("a bug nobody foresaw")
        return real(self, *a, **k)

    monkeypatch.setattr(models.VAE, "forward", flaky)
    out = tmp_path / "run.pt"
    rc, _, err = run(["train", "--epochs", "5", "--hidden", "8", "--batch-size", "64", "--out", str(out)])
    line = err.strip().splitlines()[-1]
    assert rc == 1 and "Traceback" not in err and "the last good weights were saved" in line
    assert ("ran out of memory" in line) if fault == "cpu-oom" else ("a bug nobody foresaw" in line and "details in" in line)
    saved = load_checkpoint(out)
    assert 0 < saved["step"] <= 39  # the steps counted; the weights are those of the last good step
    if fault == "bug":
        assert "ValueError: a bug nobody foresaw" in (tmp_path / "logs" / "errors.log").read_text()


@pytest.mark.parametrize("signame,terminal_gone", [("SIGTERM", False), ("SIGHUP", False), ("SIGHUP", True)])
def test_sigterm_and_sighup_finish_the_step_and_save(tmp_path, signame, terminal_gone):
    out = tmp_path / "run.pt"
    proc = subprocess.Popen(
        [sys.executable, "-m", "vae_studio", "train", "--epochs", "100000", "--hidden", "8", "--out", str(out)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stderr.readline().startswith("epoch "), "no epoch finished"  # it is training
        if terminal_gone:  # what closing the terminal does: its output has nowhere to go
            proc.stderr.close()
            proc.stdout.close()
            proc.send_signal(getattr(signal, signame))
            proc.wait(timeout=60)
            err = ""
        else:
            proc.send_signal(getattr(signal, signame))
            _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + getattr(signal, signame), err
    assert load_checkpoint(out)["step"] > 0


@pytest.mark.parametrize("command", [["train", "--epochs", "1"], ["evaluate", "x.pt"], []])
def test_a_missing_torch_is_one_line_not_two_tracebacks(command):
    code = f"import sys; sys.modules['torch'] = None; from vae_studio.cli import main; sys.exit(main({command!r}))"
    r = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60,
                       env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert r.returncode == 1
    line = one_line(r.stderr)
    assert "PyTorch could not be loaded" in line and "reinstall" in line


def test_an_unforeseen_error_is_one_line_naming_the_log(tmp_path, monkeypatch):
    monkeypatch.setenv("VAE_STUDIO_LOG_DIR", str(tmp_path))

    def broken(*a, **k):
        raise KeyError("surprise")

    monkeypatch.setattr("vae_studio.core.load_checkpoint", broken)
    rc, _, err = run(["evaluate", "x.pt"])
    assert rc == 1
    assert "internal error: KeyError" in one_line(err) and str(tmp_path / "errors.log") in err
    assert "Traceback" in (tmp_path / "errors.log").read_text()


@pytest.mark.parametrize("argv", [
    ["train", "--seed", str(2**64)], ["train", "--epochs", str(10**9)], ["train", "--batch-size", str(2**40)],
    ["train", "--latent-dim", "513"], ["train", "--lr", "1e300"], ["train", "--free-bits", "1e300"],
    ["train", "--hidden", "8192," * 65 + "8"], ["train", "--hidden", "9" * 5000],
    ["evaluate", "x.pt", "--iwae-samples", str(10**12)], ["evaluate", "x.pt", "--seed", str(2**64)],
    ["sample", "x.pt", "--out", "x.png", "--n", str(10**9)], ["sample", "x.pt", "--out", "x.png", "--seed", str(2**64)],
    ["sample", "x.pt", "--out", "x.png", "--label", str(2**64)],
])
def test_numbers_beyond_what_the_engine_holds_are_refused_by_name(argv):
    rc, stdout, err = run(argv)
    assert rc == 2 and stdout == ""
    assert argv[-2] in one_line(err) or "--hidden" in err


def test_a_png_grid_too_large_is_refused_before_decoding(tmp_path):
    out = tmp_path / "run.pt"
    assert run(["train", *TINY, "--out", str(out)])[0] == 0
    rc, _, err = run(["sample", str(out), "--out", str(tmp_path / "s.png"), "--n", "50000"])
    assert rc == 2 and ".npy" in one_line(err)
    assert run(["sample", str(out), "--out", str(tmp_path / "s.npy"), "--n", "5000"])[0] == 0
    assert np.load(tmp_path / "s.npy").shape == (5000, 28, 28)


@pytest.mark.parametrize("argv", [
    ["evaluate", "d/" * 3000 + "x.pt"], ["evaluate", "x" * 300 + ".pt"],
    ["train", "--out", "d/" * 3000 + "x.pt"], ["train", "--dataset", "d/" * 3000],
    ["sample", "x.pt", "--out", "d/" * 3000 + "x.png"],
])
def test_paths_too_long_for_the_file_system_are_one_line(argv):
    rc, _, err = run(argv)
    assert rc == 2 and "internal error" not in one_line(err)


def test_the_final_save_needs_no_memory_for_copies(tmp_path, monkeypatch):
    import vae_studio.core

    def no_memory(*a, **k):
        raise RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 1024 bytes")

    monkeypatch.setattr(vae_studio.core, "make_bundle", no_memory)
    out = tmp_path / "run.pt"
    rc, _, err = run(["train", *TINY, "--out", str(out)])
    assert rc == 0, err
    saved = load_checkpoint(out)
    assert saved["step"] > 0 and saved["optimizer_state"]["state"]


def test_a_model_too_large_for_the_free_memory_is_refused_before_it_is_built(tmp_path):
    rc, stdout, err = run(["train", "--hidden", ",".join(["8192"] * 64), "--out", str(tmp_path / "big.pt")])
    assert rc == 2 and "needs about" in one_line(err) and "free" in err
    assert not (tmp_path / "big.pt").exists()
