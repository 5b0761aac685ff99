"""Write files so that a reader never sees a half-written one, and nothing else is replaced.

The data goes to a temporary file in the same folder, is flushed to disk, and then replaces the
target in one rename. If anything fails (a full disk, a read-only folder, an exception while
serialising) the target keeps its old contents and the temporary file is removed.

A rename replaces whatever has the target's name, so what it must not replace is resolved first:
a symbolic link is followed and its target replaced (the link stays a link); a FIFO or a device
(``/dev/null``, a named pipe a reader waits on) is written through, since there is nothing
there a half-written file could spoil; a folder is refused.

A process killed between creating its temporary file and the rename leaves the file behind.
The next write to the same target removes such leftovers: only files of this module's own
naming for that target, older than a minute, whose process is gone (or that are a day old).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import os
import re
import stat
import tempfile
import time
from pathlib import Path
from typing import IO, Iterator

from .errors import OutputError

STALE_AFTER_S = 60.0  # a live save rewrites its temporary file far more often than this
ABANDONED_AFTER_S = 24 * 3600.0  # whatever its pid says (pids are reused), a day-old one is dead
_STEM_MAX = 120  # bytes of the target's name kept in a temporary name; the rest becomes a hash


def resolve_target(path: str | os.PathLike) -> Path:
    """The file a write to ``path`` lands in: the end of a chain of symbolic links, if it is one."""
    path = Path(path)
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def _stem(name: str) -> str:
    # a long name keeps its start and gains a hash, so the temporary name fits wherever the
    # target's own name does
    if len(name.encode()) <= _STEM_MAX:
        return name
    return name[: _STEM_MAX // 2] + "~" + hashlib.sha1(name.encode()).hexdigest()[:12]


def _prefix(name: str) -> str:
    return f".{_stem(name)}.{os.getpid()}."


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def remove_stale(path: str | os.PathLike) -> list[Path]:
    """Remove temporary files that killed writes of ``path`` left behind; the ones removed."""
    path = Path(path)
    ours = re.compile(r"^\." + re.escape(_stem(path.name)) + r"\.(\d+)\.[A-Za-z0-9_]+\.tmp$")
    # written before temporary names carried a pid: age alone decides
    legacy = re.compile(r"^\." + re.escape(path.name) + r"\.[a-z0-9_]{8}\.tmp$")
    removed = []
    now = time.time()
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return removed
    for entry in entries:
        m = ours.match(entry.name)
        if not m and not legacy.match(entry.name):
            continue
        try:
            st = entry.stat(follow_symlinks=False)
            if not stat.S_ISREG(st.st_mode):
                continue
            age = now - st.st_mtime
            if age < STALE_AFTER_S:
                continue
            pid = int(m.group(1)) if m else None
            if pid is not None and pid != os.getpid() and _alive(pid) and age < ABANDONED_AFTER_S:
                continue
            if pid == os.getpid() and age < ABANDONED_AFTER_S:
                continue  # another thread of this process may still be writing it
            if pid is None and age < 10 * STALE_AFTER_S:
                continue
            os.unlink(entry.path)
            removed.append(Path(entry.path))
        except OSError:
            continue
    return removed


def _name_max(folder: Path) -> int:
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):
        return 255


def check_writable(path: str | os.PathLike, what: str = "") -> Path:
    """Make sure ``atomic_write(path)`` can succeed, before any work that would be lost if not.

    Creates and removes a probe file of the temporary file's own name length in the folder (what
    a read-only folder, a full inode table or a too-long name refuse). Returns the file a write
    lands in; raises :class:`OutputError` with one line naming the problem. ``what``: how the
    message names the path, e.g. "--out".
    """
    given = Path(path)
    label = f"{what} {given}" if what else str(given)
    try:
        folder = given.parent
        if folder.is_dir():
            limit = _name_max(folder)
            if len(given.name.encode()) > limit:
                raise OutputError(f"cannot write {label}: the file name is {len(given.name.encode())} bytes long; "
                                  f"this file system allows {limit}")
        target = resolve_target(given)
        if target.is_dir():
            raise OutputError(f"{label} is a folder; give a file name such as {given / 'run.pt'}")
        folder = target.parent
        if not folder.is_dir():
            raise OutputError(f"cannot write {label}: the folder {folder} does not exist; give a file name in an existing folder")
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:  # a name too long for the file system, a loop of links, no access
        raise OutputError(f"cannot write {label}: {exc.strerror or exc}") from None
    if mode is not None and not stat.S_ISREG(mode):
        if stat.S_ISSOCK(mode):
            raise OutputError(f"cannot write {label}: it is a socket, not a file")
        if not os.access(target, os.W_OK):
            raise OutputError(f"cannot write {label}: permission denied")
        return target  # a FIFO or a device: written through, nothing to probe
    try:
        fd, probe = tempfile.mkstemp(dir=folder, prefix=_prefix(target.name), suffix=".tmp")
    except OSError as exc:
        reason = exc.strerror or str(exc)
        if exc.errno == errno.ENAMETOOLONG:
            reason = "the file name is too long for this file system"
        raise OutputError(f"cannot write {label}: {reason} (in {folder})") from None
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(probe)
    return target


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb") -> Iterator[IO]:
    path = resolve_target(path)
    try:
        st_mode = os.stat(path).st_mode
    except FileNotFoundError:
        st_mode = None
    if st_mode is not None and stat.S_ISDIR(st_mode):
        raise IsADirectoryError(errno.EISDIR, "Is a directory", str(path))
    if st_mode is not None and not stat.S_ISREG(st_mode):
        # a FIFO or a device: collect the bytes first, so a failure while serialising writes
        # nothing, then write them through; there is no file here a rename could keep whole
        buf: IO = io.BytesIO() if "b" in mode else io.StringIO()
        yield buf
        with open(path, mode) as f:
            f.write(buf.getvalue())
        return
    remove_stale(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=_prefix(path.name), suffix=".tmp")
    try:
        # mkstemp makes the file private; give it the permissions a normal save would
        os.fchmod(fd, st_mode & 0o777 if st_mode is not None else 0o644)
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
