"""Atomic writes replace only a regular file, follow links, and clean up after killed writers."""

import os
import stat
import subprocess
import sys
import threading
import time

import pytest

from vae_studio.core.atomic import atomic_write, check_writable, remove_stale
from vae_studio.core.errors import OutputError


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def _read_fifo(fifo, sink):
    with open(fifo, "rb") as f:
        sink.append(f.read())


def test_a_fifo_is_written_through_and_stays_a_fifo(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=_read_fifo, args=(fifo, got), daemon=True)
    reader.start()
    with atomic_write(fifo) as f:
        f.write(b"hello through the pipe")
    reader.join(30)
    assert got == [b"hello through the pipe"]
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert check_writable(fifo) == fifo  # no probe, no blocking open
    assert [p.name for p in tmp_path.iterdir()] == ["pipe"]


def test_a_character_device_is_written_through(tmp_path):
    dev = tmp_path / "null"
    try:
        os.mknod(dev, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except (PermissionError, OSError) as exc:
        pytest.skip(f"cannot make a device node here ({exc})")
    with atomic_write(dev) as f:
        f.write(b"discarded")
    assert stat.S_ISCHR(os.stat(dev).st_mode)


def test_a_symlink_is_followed_and_its_target_replaced(tmp_path):
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "run.pt"
    target.write_bytes(b"old")
    link = tmp_path / "link.pt"
    link.symlink_to(target)
    with atomic_write(link) as f:
        f.write(b"new")
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_bytes() == b"new"
    dangling = tmp_path / "dangling.pt"
    dangling.symlink_to(tmp_path / "real" / "later.pt")
    with atomic_write(dangling) as f:
        f.write(b"made")
    assert dangling.is_symlink() and (tmp_path / "real" / "later.pt").read_bytes() == b"made"


def test_a_folder_is_refused(tmp_path):
    with pytest.raises(IsADirectoryError):
        with atomic_write(tmp_path) as f:
            f.write(b"x")
    with pytest.raises(OutputError, match="is a folder"):
        check_writable(tmp_path, "--out")


def test_stale_temporary_files_of_killed_writers_are_removed(tmp_path):
    target = tmp_path / "run.pt"
    old = time.time() - 3600
    dead, live = _dead_pid(), os.getppid()
    stale = tmp_path / f".run.pt.{dead}.abcd1234.tmp"
    fresh = tmp_path / f".run.pt.{dead}.efgh5678.tmp"  # perhaps a write on another machine, just begun
    busy = tmp_path / f".run.pt.{live}.ijkl9012.tmp"  # its writer still runs
    other = tmp_path / f".other.pt.{dead}.mnop3456.tmp"  # not this target's
    legacy = tmp_path / ".run.pt.qrst7890.tmp"  # named before temporary files carried a pid
    for p in (stale, fresh, busy, other, legacy):
        p.write_bytes(b"partial")
    for p in (stale, busy, other, legacy):
        os.utime(p, (old, old))
    with atomic_write(target) as f:
        f.write(b"data")
    left = {p.name for p in tmp_path.iterdir()}
    assert left == {"run.pt", fresh.name, busy.name, other.name}
    assert remove_stale(target) == []


def test_names_too_long_for_a_temporary_suffix_still_write(tmp_path):
    long = tmp_path / ("n" * 240 + ".pt")  # fits, but not with ".<pid>.<random>.tmp" added
    assert check_writable(long) == long
    with atomic_write(long) as f:
        f.write(b"ok")
    assert long.read_bytes() == b"ok"
    with pytest.raises(OutputError, match="file name is 303 bytes long"):
        check_writable(tmp_path / ("n" * 300 + ".pt"), "--out")


def test_check_writable_refuses_a_missing_folder_and_a_folder_it_cannot_write(tmp_path, monkeypatch):
    with pytest.raises(OutputError, match="does not exist"):
        check_writable(tmp_path / "no" / "run.pt")
    import tempfile

    def denied(*a, **k):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", denied)  # what a read-only folder does, even for root
    with pytest.raises(OutputError, match="Permission denied"):
        check_writable(tmp_path / "run.pt", "--out")
    assert list(tmp_path.iterdir()) == []


def test_saving_to_a_path_too_long_is_a_checkpoint_error(tmp_path):
    from vae_studio.core import CheckpointError, save_checkpoint

    with pytest.raises(CheckpointError, match="cannot save"):
        save_checkpoint(tmp_path / ("d/" * 3000 + "x.pt"), {"format": "x"})
