"""A :class:`Trainer` in a child process, driven through the same methods as a local one.

Why a process: a desktop window paints with Python code (pyqtgraph), and Python runs one thread at
a time. A training thread beside the window waits for the painter at every one of its small
operations, and on a two-core machine the window also takes one of the cores from PyTorch's
threads. In a child process training keeps its own interpreter and every core's worth of threads;
the window's process only relays a few messages a second.

:class:`RemoteTrainer` has what the window uses of a trainer: ``run()`` yields the same messages,
``pause``/``resume``/``stop``/``set_beta`` take effect at the next step, ``bundle()``
returns a checkpoint bundle (fetched from the child between two messages while it trains, and
the child's last good state once it has finished), and ``step``/``epoch``/``elapsed``/
``samples_seen`` follow the child. An error the child meets (non-finite loss, out of memory)
is raised again here with the same type and text, after the child has sent its restored weights;
a child that dies is a :class:`TrainingError` naming its exit status, and its last snapshot's
weights (without the optimizer's state) become the run's.

Children are forked from a server process that imported PyTorch once (``forkserver``), so a run
starts in a fraction of a second and never inherits the window's threads; where there is no
fork (Windows) they are spawned. The server's preload (:mod:`server_preload`) keeps the children
from re-importing the embedding program's main module, so a script without an
``if __name__ == "__main__":`` guard can train too (with ``spawn`` the guard is still needed).
"""

from __future__ import annotations

import collections
import multiprocessing
import os
import pickle
import threading
import traceback
from typing import Any, Iterator

import torch

from . import errors
from .config import ModelConfig, TrainConfig
from .data import Dataset
from .errors import TrainingError
from .checkpoint import bundle_of
from .history import History
from . import pipe_records as R
from .trainer import Message, Progress, Snapshot, Trainer, Validation, checked_beta

_POLL_S = 0.25  # how often a waiting parent checks that the child is still alive
CHILD_NAME = "vae-studio-training"  # server_preload recognises the children by it
_CONTEXT: Any = None


def context():
    """The multiprocessing context children start from (created once per process)."""
    global _CONTEXT
    if _CONTEXT is None:
        if "forkserver" in multiprocessing.get_all_start_methods():
            _CONTEXT = multiprocessing.get_context("forkserver")
            # torch, and what its optimizers import on first use, are imported once, in the server
            _CONTEXT.set_forkserver_preload([f"{__package__}.server_preload", "torch._dynamo"])
        else:
            _CONTEXT = multiprocessing.get_context("spawn")
    return _CONTEXT


def warm_up() -> None:
    """Start the fork server now (it imports PyTorch: a second or two), so the first run starts fast."""
    ctx = context()
    if ctx.get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()


def _dumps(obj: Any) -> bytes:
    # the plain pickler: tensors travel by value, not as shared-memory handles that outlive a run
    return pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)


def _error_record(exc: BaseException) -> R.ErrorRecord:
    attrs = {k: v for k, v in vars(exc).items() if isinstance(v, (int, float, str))}
    return R.ErrorRecord(type(exc).__name__, str(exc), attrs)


def _rebuild_error(name: str, text: str, attrs: dict) -> BaseException:
    cls = getattr(errors, name, None)
    if isinstance(cls, type) and issubclass(cls, errors.VaeStudioError):
        exc = cls.__new__(cls)
        Exception.__init__(exc, text)
        exc.__dict__.update(attrs)
        return exc
    return TrainingError(f"training failed in its process: {name}: {text}")


# -- the child ------------------------------------------------------------------------------------
def _child(control, messages) -> None:
    """Entry point of the training process: build the trainer, stream its messages, obey controls."""
    send_lock = threading.Lock()

    def send(record) -> None:
        data = _dumps(record)
        with send_lock:
            messages.send_bytes(data)

    trainer: Trainer | None = None
    wanted: collections.deque = collections.deque()  # bundle requests, served between messages
    try:
        job: R.Job = pickle.loads(control.recv_bytes())
        if job.niceness and hasattr(os, "nice"):
            os.nice(job.niceness)
        if job.threads:
            torch.set_num_threads(job.threads)
        trainer = Trainer(job.model_cfg, job.train_cfg, job.dataset, state=job.state)
        send(R.Started(str(trainer.device), trainer.model_cfg, trainer.step, trainer.epoch))

        def obey() -> None:
            while True:
                try:
                    cmd = pickle.loads(control.recv_bytes())
                except (EOFError, OSError):  # the window's process is gone: stop, nobody listens
                    trainer.stop()
                    return
                if isinstance(cmd, R.WantBundle):
                    wanted.append(cmd.token)
                    continue
                cmd.apply(trainer)
                if isinstance(cmd, R.Stop):
                    return

        threading.Thread(target=obey, name="vae-studio-control", daemon=True).start()
        for message in trainer.run():
            send(R.Relayed(message, R.Stats.of(trainer)))
            while wanted:
                send(R.BundleReply(wanted.popleft(), trainer.bundle()))
        _finish(send, trainer, None)
    except BaseException as exc:  # everything goes back to the window; nothing is printed here
        if isinstance(exc, errors.VaeStudioError):
            record = _error_record(exc)
        else:
            record = R.ErrorRecord("", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}", {})
        try:
            _finish(send, trainer, record)
        except (OSError, EOFError):
            pass


def _finish(send, trainer: Trainer | None, error: R.ErrorRecord | None) -> None:
    # after an error the trainer has restored its last good weights: they are what comes back
    bundle = trainer.bundle() if trainer is not None and trainer.step > 0 else None
    send(R.Final(bundle, R.Stats.of(trainer) if trainer is not None else None, error))


# -- the parent -----------------------------------------------------------------------------------
class RemoteTrainer:
    """Train in a child process; see the module text. Not thread-safe except the control methods."""

    def __init__(self, model_cfg: ModelConfig, train_cfg: TrainConfig, dataset: Dataset, *,
                 state: dict | None = None, torch_threads: int | None = None, niceness: int = 0,
                 start_method: str | None = None):
        """``niceness``: added to the child's scheduling niceness, so the CPU serves a window first."""
        self.cfg = train_cfg
        self.dataset = dataset
        self.model_cfg = model_cfg
        self.step = self.epoch = self.samples_seen = 0
        self.elapsed = 0.0
        self.applied_beta_log: list[tuple[int, float]] = []
        self.history = History.from_dict(state["history"]) if state and state.get("history") else History()
        self._snapshot: Snapshot | None = None
        self._beta = float(train_cfg.beta)
        self._paused = self._stopping = False
        self._final: dict | None = None
        self._ended = False
        self._pending: collections.deque = collections.deque()
        self._send_lock = threading.Lock()
        ctx = multiprocessing.get_context(start_method) if start_method else context()
        parent_ctl, child_ctl = ctx.Pipe(duplex=False)[::-1]  # (send end, receive end)
        child_msg, parent_msg = ctx.Pipe(duplex=False)[::-1]
        self._control, self._messages = parent_ctl, parent_msg
        self._process = ctx.Process(target=_child, args=(child_ctl, child_msg), name=CHILD_NAME, daemon=True)
        self._process.start()
        child_ctl.close()
        child_msg.close()
        self._send(R.Job(model_cfg, train_cfg, dataset, state, torch_threads, niceness))
        first = self._receive()
        if isinstance(first, R.Final):  # it could not even build the model: a bad setting, say
            self._end(first)
            raise AssertionError("unreachable")  # _end raises the child's error
        self.device = torch.device(first.device)
        self.model_cfg = first.model_cfg
        self.step, self.epoch = first.step, first.epoch

    # -- control, safe from any thread ----------------------------------------------------------
    def _send(self, record) -> None:
        data = _dumps(record)
        try:
            with self._send_lock:
                self._control.send_bytes(data)
        except (OSError, ValueError):  # the child has ended; its last message says why
            pass

    def pause(self) -> None:
        self._paused = True
        self._send(R.Pause())

    def resume(self) -> None:
        self._paused = False
        self._send(R.Resume())

    def stop(self) -> None:
        self._stopping = True
        self._paused = False
        self._send(R.Stop())

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def stopping(self) -> bool:
        return self._stopping

    @property
    def beta(self) -> float:
        return self._beta

    def set_beta(self, beta: float) -> None:
        self._beta = checked_beta(beta)
        self._send(R.SetBeta(self._beta))

    @property
    def alive(self) -> bool:
        return self._process.is_alive()

    def kill(self) -> None:
        """End the child at once (it is not answering); its unsaved state is lost."""
        if self._process.is_alive():
            self._process.kill()
        self._process.join(5.0)

    # -- the consumer's side (one thread) -------------------------------------------------------
    def _receive(self):
        while True:
            try:
                if self._messages.poll(_POLL_S):
                    return pickle.loads(self._messages.recv_bytes())
            except (EOFError, OSError):
                pass
            else:
                if self._process.is_alive():
                    continue
            self._process.join(1.0)
            code = self._process.exitcode
            self._ended = True
            self._final = self._from_snapshot()
            kept = (f"the weights of step {self._final['step']} are kept (without the optimizer's state)"
                    if self._final else "no weights had come back yet")
            raise TrainingError(f"the training process ended unexpectedly (exit status {code}); {kept}")

    def _take(self, record) -> Message | None:
        if isinstance(record, R.Relayed):
            message = record.message
            self._update(record.stats)
            if isinstance(message, Progress):
                self.history.add_progress(message)
            elif isinstance(message, Validation):
                self.history.add_validation(message)
            elif isinstance(message, Snapshot):
                self._snapshot = message
            return message
        if isinstance(record, R.Final):
            self._end(record)
        return None

    def _update(self, stats: R.Stats | None) -> None:
        if stats:
            self.step, self.epoch, self.elapsed, self.samples_seen = stats.step, stats.epoch, stats.elapsed, stats.samples_seen
            beta = stats.last_beta
            if beta and (not self.applied_beta_log or self.applied_beta_log[-1] != beta):
                self.applied_beta_log.append(tuple(beta))

    def _end(self, final: R.Final) -> None:
        self._ended = True
        self._final = final.bundle
        self._update(final.stats)
        error = final.error
        self._process.join(5.0)
        for conn in (self._control, self._messages):
            conn.close()
        if error is not None:
            name, text, attrs = error.name, error.text, error.attrs
            if not name:  # not foreseen: one sentence for a person, the traceback in the log
                from ..logfile import write_text

                log = write_text(text, "in the training process")
                first = (text.strip().splitlines() or ["unknown error"])[0][:200]
                exc = TrainingError(f"unexpected error in the training process ({first}); "
                                    + (f"the details are in {log}" if log else "it is a bug in VAE Studio"))
                exc.log_path = str(log) if log else None
                raise exc
            raise _rebuild_error(name, text, attrs)

    def _from_snapshot(self) -> dict | None:
        snap = self._snapshot
        if snap is None:
            return None
        return bundle_of(self.model_cfg, self.cfg, self.dataset, step=snap.step, epoch=int(snap.epoch),
                         elapsed=self.elapsed, model_state=snap.state, optimizer_state=None,
                         history=self.history.to_dict())

    def run(self) -> Iterator[Message]:
        while not self._ended or self._pending:
            record = self._pending.popleft() if self._pending else self._receive()
            message = self._take(record)
            if message is not None:
                yield message

    def bundle(self, **extra: Any) -> dict:
        """A checkpoint bundle of the current state: from the child between two of its messages
        while it trains (call this between two messages of ``run()``), else its final state."""
        if not self._ended:
            token = object().__hash__()
            self._send(R.WantBundle(token))
            while not self._ended:
                record = self._receive()
                if isinstance(record, R.BundleReply) and record.token == token:
                    return {**record.bundle, **extra}
                if isinstance(record, R.Final):
                    self._pending.append(record)  # run() raises its error, if any, in turn
                    self._final, self._ended = record.bundle, True
                    self._update(record.stats)
                    break
                self._pending.append(record)
        if self._final is None:
            raise TrainingError("the run has no trained weights to save: its process ended before sending them")
        return {**self._final, **extra}
