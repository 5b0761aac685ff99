"""Autosave: the live run is written to a per-user folder while it trains, so a crash or a
killed process loses at most a few seconds of work.

Each running window owns one file, ``run-<pid>.pt``, written by the worker thread between two
trainer messages (the trainer is suspended there, never mid-step) with the same atomic save as
Save run. A window that closes normally deletes its file; a file whose process is gone was left
by a crash, and the next launch offers to restore it.

Autosave is a safety net, never a reason to lose the run it protects: a folder that cannot be
written (read-only, full, a file in its place) raises :class:`AutosaveError` once, for the window
to report, and training goes on; the failures after it pass in silence until a save works again.
An autosave that cannot be loaded (cut short by a full disk, damaged) is set aside instead of
being offered, so it never hides an older good one.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QStandardPaths

from ..core.errors import CheckpointError

INTERVAL_S = float(os.environ.get("VAE_STUDIO_AUTOSAVE_SECONDS", 30.0))
_NAME = re.compile(r"^run-(\d+)\.pt$")
UNREADABLE_SUFFIX = ".unreadable"
UNREADABLE_KEEP_S = 30 * 24 * 3600  # set-aside autosaves are kept a month for a person to look at


class AutosaveError(CheckpointError):
    """The live run could not be autosaved; training goes on (raised once per spell of failures)."""


def autosave_dir() -> Path:
    override = os.environ.get("VAE_STUDIO_AUTOSAVE_DIR")
    if override:
        return Path(override)
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base or Path.home() / ".local" / "share" / "vae-studio") / "autosave"


def own_path(folder: Path | None = None) -> Path:
    return (folder or autosave_dir()) / f"run-{os.getpid()}.pt"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


@dataclass(frozen=True)
class Orphan:
    path: Path
    modified: float

    def describe(self) -> str:
        return time.strftime("%Y-%m-%d %H:%M", time.localtime(self.modified))


def find_orphans(folder: Path | None = None, check: bool = True) -> list[Orphan]:
    """Autosaves left by processes that no longer run, newest first.

    With ``check`` the first one is the newest that loads: newer ones that do not are renamed
    ``*.pt.unreadable`` (kept for a while, never offered) and left out of the list.
    """
    folder = folder or autosave_dir()
    try:
        entries = list(folder.iterdir()) if folder.is_dir() else []
    except OSError:
        return []
    found = []
    for p in entries:
        m = _NAME.match(p.name)
        if m and int(m.group(1)) != os.getpid() and not _alive(int(m.group(1))):
            try:
                found.append(Orphan(p, p.stat().st_mtime))
            except OSError:
                continue
        elif p.name.endswith(UNREADABLE_SUFFIX):
            _forget_if_old(p)
    found.sort(key=lambda o: o.modified, reverse=True)
    if not check:
        return found
    for i, orphan in enumerate(found):
        if loadable(orphan.path):
            return found[i:]
        _set_aside(orphan.path)
    return []


def loadable(path: Path) -> bool:
    from ..core.checkpoint import load_checkpoint

    try:
        load_checkpoint(path)
    except CheckpointError:
        return False
    return True


def _set_aside(path: Path) -> None:
    try:
        os.replace(path, path.with_name(path.name + UNREADABLE_SUFFIX))
    except OSError:  # a read-only folder: it is left out of the list all the same
        pass


def _forget_if_old(path: Path) -> None:
    try:
        if time.time() - path.stat().st_mtime > UNREADABLE_KEEP_S:
            path.unlink()
    except OSError:
        pass


class Autosaver:
    """Decides when the worker thread writes the live run; the writing itself is ``save``."""

    def __init__(self, path: Path | None = None, interval_s: float | None = None):
        self.path = path or own_path()
        self.interval_s = INTERVAL_S if interval_s is None else interval_s
        self._last = time.monotonic()
        self.failing = False  # the last save failed (and was reported, when it was the first)
        self.last_error: str | None = None

    def due(self) -> bool:
        return time.monotonic() - self._last >= self.interval_s

    def save(self, trainer) -> None:
        """Write the live run.

        Raises :class:`AutosaveError` for the first failure of a spell only (report it, keep
        training); later failures return quietly, and a save that works ends the spell. Errors
        of the run itself (``trainer.bundle()``) are not autosave's and propagate as they are.
        """
        from ..core.checkpoint import save_checkpoint

        bundle = trainer.bundle(autosaved=True)
        self._last = time.monotonic()  # after a failure, try again one interval later, not at once
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            save_checkpoint(self.path, bundle)
        except Exception as exc:  # noqa: BLE001 - whatever stops the autosave must not stop training
            reason = getattr(exc, "strerror", None) or str(exc)
            first, self.failing, self.last_error = not self.failing, True, reason
            if first:
                raise AutosaveError(
                    f"the run cannot be autosaved to {self.path.parent} ({reason}); training goes on "
                    "without autosave (use Save run to keep it)"
                ) from None
            return
        self.failing, self.last_error = False, None

    def discard(self) -> None:
        try:
            self.path.unlink()
        except OSError:  # none was written (the folder may not even be one): nothing to remove
            pass


def offer_restore(window) -> None:
    """A run autosaved by a process that crashed or was killed: offer it back in the window's banner."""
    orphans = find_orphans()
    if not orphans:
        return
    latest = orphans[0]

    def restore() -> None:
        if window.open_run(str(latest.path)):
            for o in orphans:
                o.path.unlink(missing_ok=True)

    window.banner.show_message(
        f"VAE Studio did not close normally last time. A run autosaved at {latest.describe()} can be restored.",
        level="info", action=("Restore", restore),
    )
