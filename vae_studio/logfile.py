"""Where the details of unexpected errors go.

An error VAE Studio did not foresee is a bug. A person should see one sentence saying so, not a
traceback; whoever fixes it needs the traceback. :func:`report_internal` gives both: the sentence to
show, and the path of a log file that holds the details (also echoed to stderr, where a terminal
or a service manager keeps it).

This module imports neither Qt nor PyTorch, so it still works when either is what failed.
"""

from __future__ import annotations

import datetime as _dt
import os
import sys
import traceback
from pathlib import Path

LOG_DIR_ENV = "VAE_STUDIO_LOG_DIR"
LOG_NAME = "errors.log"
MAX_BYTES = 1_000_000  # then the log moves to errors.log.1, so it never grows without bound


def log_dir() -> Path:
    """The per-user state folder (``$XDG_STATE_HOME/vae-studio``), or ``$VAE_STUDIO_LOG_DIR``."""
    override = os.environ.get(LOG_DIR_ENV)
    if override:
        return Path(override)
    if sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "vae-studio" / "logs"
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(base) / "vae-studio"


def log_path() -> Path:
    return log_dir() / LOG_NAME


def _short(exc: BaseException, limit: int = 160) -> str:
    lines = str(exc).strip().splitlines()
    text = f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


def sentence_for(exc: BaseException, context: str = "") -> str:
    where = f" while {context}" if context else ""
    return f"Unexpected error{where} ({_short(exc)}); this is a bug in VAE Studio, and the details were logged."


def write_details(exc: BaseException, context: str = "") -> Path | None:
    """Append the traceback to the log; the log's path, or None where it cannot be written."""
    return write_text(
        "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)), context)


def write_text(details: str, context: str = "") -> Path | None:
    """Append ``details`` (a traceback formatted elsewhere, say in another process) to the log."""
    path = log_path()
    stamp = _dt.datetime.now().astimezone().isoformat(timespec="seconds")
    try:
        from . import __version__
    except Exception:  # noqa: BLE001 - a broken install is no reason to lose the report
        __version__ = "?"
    header = f"--- {stamp}  pid {os.getpid()}  vae-studio {__version__}  python {sys.version.split()[0]}"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_file() and path.stat().st_size > MAX_BYTES:
            os.replace(path, path.with_name(LOG_NAME + ".1"))
        with open(path, "a", encoding="utf-8") as f:
            f.write(f"{header}{'  ' + context if context else ''}\n{details}\n")
    except OSError:
        return None
    return path


def report_internal(exc: BaseException, context: str = "", *, echo: bool = True) -> tuple[str, Path | None]:
    """Record an unexpected error: (one sentence for a person, the log file holding the details).

    ``context`` says what was being done ("training", "saving the run"); ``echo`` also prints the
    traceback to stderr (the command line turns it off: it promises one line).
    """
    path = write_details(exc, context)
    if echo:
        try:
            traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
        except Exception:  # noqa: BLE001 - stderr may be closed (a GUI launched without one)
            pass
    return sentence_for(exc, context), path
