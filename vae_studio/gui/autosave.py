"""Autosave: the live run is written to a per-user folder while it trains, so a crash or a
killed process loses at most a few seconds of work.

Each running window owns one file, ``run-<pid>.pt``, written by the worker thread between two
trainer messages (the trainer is suspended there, never mid-step) with the same atomic save as
Save run. A window that closes normally deletes its file; a file whose process is gone was left
by a crash, and the next launch offers to restore it.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QStandardPaths

INTERVAL_S = float(os.environ.get("VAE_STUDIO_AUTOSAVE_SECONDS", 30.0))
_NAME = re.compile(r"^run-(\d+)\.pt$")


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


def find_orphans(folder: Path | None = None) -> list[Orphan]:
    """Autosaves left by processes that no longer run, newest first."""
    folder = folder or autosave_dir()
    if not folder.is_dir():
        return []
    found = []
    for p in folder.iterdir():
        m = _NAME.match(p.name)
        if m and int(m.group(1)) != os.getpid() and not _alive(int(m.group(1))):
            try:
                found.append(Orphan(p, p.stat().st_mtime))
            except OSError:
                continue
    return sorted(found, key=lambda o: o.modified, reverse=True)


class Autosaver:
    """Decides when the worker thread writes the live run; the writing itself is ``save``."""

    def __init__(self, path: Path | None = None, interval_s: float = INTERVAL_S):
        self.path = path or own_path()
        self.interval_s = interval_s
        self._last = time.monotonic()

    def due(self) -> bool:
        return time.monotonic() - self._last >= self.interval_s

    def save(self, trainer) -> None:
        from ..core.checkpoint import save_checkpoint

        bundle = trainer.bundle(autosaved=True)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        save_checkpoint(self.path, bundle)
        self._last = time.monotonic()

    def discard(self) -> None:
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass
