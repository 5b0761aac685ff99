"""Work a view does off the GUI thread: one job at a time, and only the newest request waits.

A view that recomputes a figure whenever its model moves (about once a second while training)
must neither freeze the window nor queue work faster than it finishes. :class:`LatestJob` runs
one function on Qt's thread pool; a request made while it runs replaces any request already
waiting, so a burst of snapshots costs one job more, not one per snapshot. A request that only
follows the model (``throttled=True``) waits until the jobs before it have taken at most
``max_share`` of the time since they started, so a figure that follows training leaves the
training process the CPU it needs; what the person asks for starts as soon as the job ends.

The function runs in a worker thread: it gets plain values (arrays, tensors, configs), never a
Qt object, and returns plain values. Every exception it raises comes back as ``failed`` with
one line for a person (superqt's own worker drops a ``RuntimeError`` without a word).
"""

from __future__ import annotations

import threading
from typing import Any, Callable

from PySide6.QtCore import QElapsedTimer, QObject, QTimer, Signal
from superqt.utils import create_worker

from ..core.errors import VaeStudioError


class _Failure:
    __slots__ = ("message",)

    def __init__(self, message: str):
        self.message = message


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, VaeStudioError):
        return str(exc)
    from ..logfile import report_internal

    _, log = report_internal(exc, "a background job", echo=False)  # unforeseen: the details go to the log file
    return f"{type(exc).__name__}: {exc}".splitlines()[0] + (f" (details in {log})" if log else "")


# Workers still running, kept alive here: a view closed mid-job (the window shut) drops its
# LatestJob, and a worker whose signals died with it would fail loudly when the job returns.
_RUNNING: set = set()


class LatestJob(QObject):
    """``done(key, result)`` or ``failed(key, message)`` for each job that ran, on the GUI thread."""

    done = Signal(object, object)
    failed = Signal(object, str)

    def __init__(self, parent: QObject | None = None, max_share: float = 1.0):
        super().__init__(parent)
        self.max_share = max_share
        self._next_ms = 0  # when a throttled job may start, on the clock below
        self._started_ms = 0
        self._worker = None
        self._running_key: Any = None
        self._pending: tuple | None = None
        self._idle = threading.Event()
        self._idle.set()
        self._clock = QElapsedTimer()
        self._delay = QTimer(self)
        self._delay.setSingleShot(True)
        self._delay.timeout.connect(self._start_pending)

    @property
    def busy(self) -> bool:
        """A job runs or waits to start."""
        return self._worker is not None or self._pending is not None

    @property
    def running_key(self) -> Any:
        return self._running_key if self._worker is not None else None

    def request(self, key: Any, fn: Callable[..., Any], *args: Any, throttled: bool = False) -> None:
        """Run ``fn(*args)`` in a worker thread once the job before it has ended (and, when
        ``throttled``, once the share of time allows); a request still waiting is dropped for this one."""
        self._pending = (key, fn, args, throttled)
        self._delay.stop()
        if self._worker is None:
            self._start_pending()

    def cancel_pending(self) -> None:
        self._pending = None
        self._delay.stop()

    def wait(self, timeout: float) -> bool:
        """Drop what waits and let the running job end; True if it did within ``timeout`` s."""
        self.cancel_pending()
        return self._idle.wait(timeout)

    def _start_pending(self) -> None:
        if self._worker is not None or self._pending is None:
            return
        key, fn, args, throttled = self._pending
        if not self._clock.isValid():
            self._clock.start()
        left = self._next_ms - self._clock.elapsed()
        if throttled and left > 0:
            self._delay.start(int(left))
            return
        self._pending = None
        idle = threading.Event()
        self._idle = idle

        def run():
            try:
                return fn(*args)
            except BaseException as exc:  # noqa: BLE001 - every failure must reach the view
                return _Failure(_one_line(exc))
            finally:
                idle.set()

        worker = create_worker(run, _start_thread=False)
        worker.returned.connect(self._on_returned)
        worker.finished.connect(self._on_finished)
        _RUNNING.add(worker)
        worker.finished.connect(lambda: _RUNNING.discard(worker))
        self._worker, self._running_key = worker, key
        self._started_ms = self._clock.elapsed()
        worker.start()

    def _on_returned(self, result: Any) -> None:
        key = self._running_key
        if isinstance(result, _Failure):
            self.failed.emit(key, result.message)
        else:
            self.done.emit(key, result)

    def _on_finished(self) -> None:
        took = self._clock.elapsed() - self._started_ms
        self._next_ms = self._started_ms + took / self.max_share
        self._worker = None
        self._running_key = None
        self._start_pending()
