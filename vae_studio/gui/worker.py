"""Running a training job off the GUI thread.

The job is a generator (written in :mod:`session`, which owns every call into the core). It runs
in a superqt :class:`GeneratorWorker` on Qt's thread pool; each value it yields reaches the GUI
thread as a queued ``yielded`` signal, so the GUI thread never executes a training step.

:class:`JobControl` is the only object both threads touch. Pause, resume and stop are forwarded
to the trainer's own thread-safe flags; requests that need the trainer to stand still (saving a
checkpoint) are served by the worker thread itself, between two messages of ``Trainer.run()``,
where the trainer's generator is suspended and cannot be mid-step.

The job's boundary is guarded here rather than left to superqt: its worker silently drops a
``RuntimeError`` raised by the job (it takes it for a deleted Qt object) and emits neither
``errored`` nor ``finished``. Every exception therefore travels as a value through the same
queued ``yielded`` signal as the messages, and the end is announced the same way, so the window
always hears ``failed`` (when there was an error) and then ``ended``, in order, exactly once.
"""

from __future__ import annotations

import sys
import threading
import warnings
from typing import Any, Callable, Generator

from PySide6.QtCore import QObject, Signal

from ..core.pipe_records import Pause, Resume, SetBeta, Stop
from superqt.utils import GeneratorWorker


class JobControl:
    """Thread-safe control flags shared by the GUI thread and one training job."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._trainer: Any = None
        self._stop = False
        self._pause = False
        self._requests: list[tuple[Callable[[Any], Any], bool]] = []
        self.began = threading.Event()  # set by the worker thread when the job starts
        self.done = threading.Event()  # set by the worker thread when the job has ended

    # -- called from the worker thread --------------------------------------------------------
    def attach(self, trainer: Any) -> None:
        """Hand over the trainer; flags set while the data was loading apply now."""
        with self._lock:
            self._trainer = trainer
            if self._stop:
                trainer.stop()
            elif self._pause:
                trainer.pause()

    def repause(self, trainer: Any) -> None:
        """Pause again after a request let a paused trainer run, unless resumed meanwhile."""
        with self._lock:
            if self._pause and not self._stop:
                trainer.pause()

    def take_requests(self) -> list[tuple[Callable[[Any], Any], bool]]:
        with self._lock:
            requests, self._requests = self._requests, []
            return requests

    # -- called from the GUI thread -----------------------------------------------------------
    @property
    def trainer(self) -> Any:
        return self._trainer

    @property
    def stop_requested(self) -> bool:
        return self._stop

    def command(self, cmd) -> None:
        """Pass a command (core ``pipe_records``: Pause, Resume, Stop, SetBeta) to the trainer;
        flags set before it is attached apply when it is."""
        with self._lock:
            if isinstance(cmd, Pause):
                self._pause = True
            elif isinstance(cmd, Resume):
                self._pause = False
            elif isinstance(cmd, Stop):
                self._stop = True
            if self._trainer is not None:
                cmd.apply(self._trainer)

    def pause(self) -> None:
        self.command(Pause())

    def resume(self) -> None:
        self.command(Resume())

    def stop(self) -> None:
        self.command(Stop())

    def set_beta(self, beta: float) -> None:
        self.command(SetBeta(beta))

    def request(self, fn: Callable[[Any], Any]) -> None:
        """Run ``fn(trainer)`` in the worker thread at the next message boundary.

        A paused trainer produces no messages, so it is let go for one boundary (at most one
        progress interval of training) and paused again right after ``fn`` has run.
        """
        with self._lock:
            repause = self._pause
            self._requests.append((fn, repause))
            if repause and self._trainer is not None:
                self._trainer.resume()


class _Failed:
    """The exception that ended a job, carried to the GUI thread like a message."""

    __slots__ = ("exc",)

    def __init__(self, exc: BaseException):
        self.exc = exc


_ENDED = object()  # the job's last value: the job has returned, normally or not


class TrainingWorker(QObject):
    """One training job on the thread pool, with its signals re-emitted from a GUI-thread object."""

    message = Signal(object)  # every value the job yields, in order
    failed = Signal(object)  # the exception that ended the job
    ended = Signal()  # always last, after completion, stop or failure

    def __init__(self, job: Callable[[JobControl], Generator], parent: QObject | None = None):
        super().__init__(parent)
        self.control = JobControl()
        self._ended = False
        self._worker = GeneratorWorker(self._run, job)
        self._worker.yielded.connect(self._relay)
        # only reached if superqt itself fails or the generator was abandoned: _run catches the rest
        self._worker.errored.connect(self._fail)
        self._worker.finished.connect(self._end)
        # superqt routes warnings raised while the job runs here; keep them visible
        self._worker.warned.connect(lambda w: print(warnings.formatwarning(*w[:4]), end="", file=sys.stderr))

    def _run(self, job: Callable[[JobControl], Generator]) -> Generator:
        self.control.began.set()
        failure: BaseException | None = None
        try:
            yield from job(self.control)
        except GeneratorExit:
            raise
        except BaseException as exc:  # noqa: BLE001 - every failure must reach the window
            failure = exc
        finally:
            self.control.done.set()
        if failure is not None:
            yield _Failed(failure)
        yield _ENDED

    # -- on the GUI thread ----------------------------------------------------------------------
    def _relay(self, value: Any) -> None:
        if value is _ENDED:
            self._end()
        elif isinstance(value, _Failed):
            self._fail(value.exc)
        else:
            self.message.emit(value)

    def _fail(self, exc: BaseException) -> None:
        if not self._ended:
            self.failed.emit(exc)

    def _end(self) -> None:
        if not self._ended:
            self._ended = True
            self.ended.emit()

    def start(self) -> None:
        self._worker.start()

    @property
    def running(self) -> bool:
        return not self.control.done.is_set()

    def join(self, timeout: float) -> bool:
        """Stop the job and wait for its thread to leave the training code; True if it did."""
        # not GeneratorWorker.quit(): it abandons the generator mid-way, so the trainer would never
        # flush and this job's ``finally`` would not run until garbage collection
        self.control.stop()
        if not self.control.began.is_set():
            # still queued on the pool: when it starts it sees the stop flag and returns at once
            return True
        return self.control.done.wait(timeout)
