"""The session: the list of runs, which one is current, and the training job of that run.

A run's state lives in its :class:`~vae_studio.gui.run_record.RunRecord` and nowhere else; the
session creates runs, starts and stops their jobs and applies each job message to its run.
Views hold the session, read ``session.current`` and subscribe to ``current_changed`` (another
run is shown) and ``current_run_changed`` (the run shown changed, with its aspects). Training runs in a child process
(:class:`~vae_studio.core.remote.RemoteTrainer`) whose messages a worker thread relays; with
``isolation="thread"`` the same job runs a local ``Trainer`` in the worker thread instead.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from ..core.atomic import atomic_write
from ..core.checkpoint import load_checkpoint, save_checkpoint
from ..core.data import load_for_model
from ..core.image_format import model_format
from ..core.device import resolve_device
from ..core.errors import VaeStudioError, for_window
from ..core.snapshots import snapshot_of
from ..core.tensorboard_log import check_available as check_tensorboard
from ..core.remote import RemoteTrainer, warm_up
from ..core.settings import MODEL_SETTINGS, RunSettings, problems
from ..core.trainer import checked_beta
from .autosave import Autosaver
from .run_record import RunRecord, RunState, Started
from .scoring import DEFAULT_IWAE_SAMPLES, RunScorer
from .training_job import (
    DatasetLoaded, Notice, Plan, RequestFailed, Saved, default_torch_threads, save_from_trainer, saveable, training_job,
)
from .worker import TrainingWorker


class Session(QObject):
    current_changed = Signal(object)  # the RunRecord now current, or None
    current_run_changed = Signal(object)  # the current run's ``changed`` (its aspects), relayed: follow the run shown
    runs_changed = Signal()  # a run was added or removed
    state_changed = Signal(str)  # the current run's RunState value
    error = Signal(str)  # something went wrong; the text is written for a person
    internal_error = Signal(object)  # an exception nobody foresaw: the window shows a sentence and logs the rest
    logged_error = Signal(str, str)  # an error whose details the training process wrote to a log: text, log path
    info = Signal(str)  # a notice that needs no action
    dataset_loaded = Signal()  # ``dataset`` is new: it loaded before the trainer starts
    saved = Signal(str)
    metrics_ready = Signal()  # new comparison figures in some RunRecord.metrics

    def __init__(self, parent: QObject | None = None, torch_threads: int | None = None, isolation: str = "process"):
        """``isolation``: "process" trains in a child process (the default), "thread" in a worker
        thread of this process. ``torch_threads``: intra-op threads for training."""
        super().__init__(parent)
        if isolation not in ("process", "thread"):
            raise ValueError(f"isolation must be 'process' or 'thread' (got {isolation!r})")
        self.isolation = isolation
        self.torch_threads = torch_threads or default_torch_threads(isolation)
        if isolation == "process":
            warm_up()  # the fork server imports PyTorch while the person looks at the window
        self.autosaver: Autosaver | None = Autosaver()
        self.runs: list[RunRecord] = []  # every run of this session, oldest first
        self.current: RunRecord | None = None  # the run Train continues and the views show
        self._run_count = 0
        self._worker: TrainingWorker | None = None
        self._job_run: RunRecord | None = None
        self._datasets: dict[tuple, Any] = {}  # (source, size, channels) -> the one dataset loaded
        self._pending_save: str | None = None
        self.scorer = RunScorer(self.run, lambda: self._datasets, self)
        self.scorer.ready.connect(self.metrics_ready)
        self.scorer.failed.connect(self.error)

    # -- reading: the current run ---------------------------------------------------------------
    @property
    def state(self) -> RunState:
        return self.current.state if self.current is not None else RunState.NEW

    @property
    def busy(self) -> bool:
        return self._worker is not None

    @property
    def has_model(self) -> bool:
        return self.busy or (self.current is not None and self.current.has_model)

    @property
    def live_step(self) -> int:
        return self.current.step if self.current is not None else 0

    @property
    def completed_epochs(self) -> int:
        return self.current.completed_epochs if self.current is not None else 0

    @property
    def dataset(self) -> Any:
        """The last dataset loaded (immutable tensors), or None before the first run."""
        return next(iter(self._datasets.values()), None)

    @property
    def job(self):
        """The live training job's control (its trainer, its ``done`` event), or None: for
        instruments and tests that need to see the trainer itself."""
        return self._worker.control if self._worker is not None else None

    @property
    def scoring(self) -> bool:
        return self.scorer.busy

    def run(self, run_id: int) -> RunRecord | None:
        return next((r for r in self.runs if r.id == run_id), None)

    # -- control -------------------------------------------------------------------------------
    def validate(self, settings: RunSettings) -> str | None:
        """The first problem with ``settings`` as a sentence, or None when they can train."""
        found = problems(settings)
        if found:
            return found[0]
        try:
            resolve_device(settings.device)
            if settings.logdir:
                check_tensorboard(quick=True)  # the training process imports it, and says so if it cannot
        except VaeStudioError as exc:
            return str(exc)
        return None

    def start(self, settings: RunSettings) -> bool:
        """Train a new model, or continue the current one, with ``settings``; False if refused."""
        if self.busy:
            return False
        problem = self.validate(settings)
        if problem:
            self.error.emit(problem)
            return False
        run = self.current if self.current is not None and self.current.has_model else None
        if run is not None and run.completed_epochs >= settings.epochs:
            self.info.emit(f"this run has already trained {run.completed_epochs} epochs; raise Epochs above that "
                           "to train further, or press Reset to start a new model")
            return False
        if run is not None:
            model_cfg = run.bundle["model_config"] if run.bundle is not None else run.trainer.model_cfg
            source, image_format = run.source, model_format(model_cfg.image_shape)
            # train settings may change for Continue; the model's come from the run
            run.set_settings(settings.replace(**{k: getattr(run.settings, k) for k in MODEL_SETTINGS}))
        else:
            model_cfg, source, image_format = settings.model_config(), settings.dataset, settings.image_format()
            run = self._new_run(settings, source)  # numbered once it trains: a refused start takes no number
        plan = Plan(
            source=source, image_format=image_format, dataset=self._datasets.get((source, *image_format)),
            model_cfg=model_cfg,
            train_cfg=run.settings.train_config(), state=run.bundle, previous=run.trainer,
            torch_threads=self.torch_threads, autosaver=self.autosaver, isolation=self.isolation,
        )
        worker = TrainingWorker(training_job(plan), self)
        worker.message.connect(self._on_message)
        worker.failed.connect(self._on_failed)
        worker.ended.connect(self._on_ended)
        self._worker, self._job_run = worker, run
        run.finish_reason = None
        run.set_state(RunState.STARTING)
        worker.start()
        return True

    def pause(self) -> None:
        if self._worker and self.state in (RunState.TRAINING, RunState.STARTING):
            self._worker.control.pause()
            self._job_run.set_state(RunState.PAUSED)

    def resume(self) -> None:
        if self._worker and self.state == RunState.PAUSED:
            self._worker.control.resume()
            self._job_run.set_state(RunState.TRAINING if self._job_run.started else RunState.STARTING)

    def stop(self) -> None:
        if self._worker and self.state != RunState.STOPPING:
            self._worker.control.stop()
            self._job_run.set_state(RunState.STOPPING)

    def set_beta(self, beta: float) -> None:
        """Change β of the running β-VAE; the trainer applies it at its next step."""
        run = self._job_run
        if self._worker is None or run is None or run.settings.variant != "beta" or not math.isfinite(beta):
            return
        try:
            checked_beta(beta)
        except VaeStudioError as exc:
            self.error.emit(str(exc))
            return
        self._worker.control.set_beta(beta)
        run.set_settings(run.settings.replace(beta=beta))

    def reset(self) -> None:
        """A new model next: the current run stays in the run list, with its curves and model."""
        if self.busy:
            return
        if self.current is not None:
            self.current.retire()
        self._set_current(None)

    def shutdown(self, timeout: float = 5.0) -> bool:
        """Stop any run and wait for its thread to leave the training code; True if it did."""
        self.scorer.wait(timeout)  # a comparison takes seconds at most
        if self._worker is None:
            self._discard_autosave()
            return True
        ok = self._worker.join(timeout)
        trainer = self._worker.control.trainer
        if not ok and isinstance(trainer, RemoteTrainer):
            trainer.kill()  # a process that does not answer is ended; the relay thread then returns
            ok = self._worker.control.done.wait(timeout)
        if ok:
            self._discard_autosave()
        else:
            print(f"vae-studio: the training thread did not stop within {timeout:g} s", file=sys.stderr)
        return ok

    def _discard_autosave(self) -> None:
        # a clean shutdown: the person had the chance to save; only a crash leaves the file
        if self.autosaver is not None:
            self.autosaver.discard()

    # -- the run list --------------------------------------------------------------------------
    def _new_run(self, settings: RunSettings, source: str, origin: str = "trained here") -> RunRecord:
        if self.current is not None:
            self.current.retire()
        self._run_count += 1
        run = RunRecord(self._run_count, settings, source, origin, parent=self)
        self.runs.append(run)
        self._set_current(run)
        self.runs_changed.emit()
        return run

    def _set_current(self, run: RunRecord | None) -> None:
        old = self.current
        if old is not None:
            old.changed.disconnect(self._relay_state)
        self.current = run
        if run is not None:
            run.changed.connect(self._relay_state)
        self.current_changed.emit(run)
        self.state_changed.emit(self.state.value)

    def _relay_state(self, aspects: frozenset) -> None:
        self.current_run_changed.emit(aspects)
        if "state" in aspects:
            self.state_changed.emit(self.state.value)

    def _forget(self, run: RunRecord) -> None:
        """A run that never got as far as a model (missing data, say) leaves no trace."""
        self.runs.remove(run)
        if run.id == self._run_count:
            self._run_count -= 1  # its number goes to the next run
        if self.current is run:
            self._set_current(None)
        self.runs_changed.emit()

    def activate_run(self, run_id: int) -> bool:
        """Load a run from the list back: Train continues it, the explorer shows its model."""
        run = self.run(run_id)
        if run is None:
            return False
        if self.busy:
            self.error.emit("stop training before loading another run")
            return False
        if not run.has_model:
            self.error.emit(f"{run.name} has no model to load")
            return False
        if self.current is not None and self.current is not run:
            self.current.retire()
        if run.snapshot is None:
            run.snapshot = self._snapshot_for(run)
        self._set_current(run)
        return True

    def _snapshot_for(self, run: RunRecord):
        """A picture of a model no trainer has shown yet (opened from a file), for the explorer.

        Loads the run's dataset here on the GUI thread when it is not cached: the built-in
        digits take well under a second; a missing dataset is a notice, not a failure."""
        weights = run.weights()
        if weights is None:
            return None
        try:
            cfg, state = weights
            dataset = self._datasets.get((run.source, *model_format(cfg.image_shape)))
            if dataset is None:
                dataset = load_for_model(run.source, cfg.image_shape)
                self._keep_dataset(run.source, model_format(cfg.image_shape), dataset)
            return snapshot_of(cfg, state, dataset, step=run.step, epoch=run.epoch)
        except (VaeStudioError, RuntimeError, ValueError) as exc:
            self.info.emit(f"the run's model cannot be shown in the explorer: {exc}")
            return None

    def request_metrics(self, run_ids: list[int], k: int = DEFAULT_IWAE_SAMPLES) -> bool:
        return self.scorer.request([r for r in map(self.run, run_ids) if r is not None], k)

    # -- files ---------------------------------------------------------------------------------
    def save(self, path: str | Path) -> None:
        """Write the current run to ``path``; ``saved`` or ``error`` tells how it went."""
        path = str(path)
        run = self.current
        if self._worker is not None:
            # served between two training messages; if the job ends first, saved from the idle trainer
            self._pending_save = path
            self._worker.control.request(save_from_trainer(path))
            return
        try:
            if run is not None and run.trainer is not None:
                save_checkpoint(path, run.trainer.bundle())
            elif run is not None and run.bundle is not None:
                save_checkpoint(path, saveable(run.bundle))
            else:
                self.error.emit("there is no model to save yet: press Train first")
                return
        except VaeStudioError as exc:
            self.error.emit(str(exc))
            return
        self.saved.emit(path)

    def open(self, path: str | Path) -> RunSettings | None:
        """Load a run file as a new run: its curves, settings and weights; Continue trains it."""
        if self.busy:
            self.error.emit("stop training before opening another run")
            return None
        try:
            bundle = load_checkpoint(path)
            settings = RunSettings.from_configs(bundle["model_config"], bundle["train_config"], bundle["dataset"])
        except VaeStudioError as exc:
            self.error.emit(str(exc))
            return None
        run = self._new_run(settings, settings.dataset, origin=Path(path).name)
        run.load_bundle(bundle)
        run.snapshot = self._snapshot_for(run)
        self._set_current(run)  # every view takes the opened run whole, its model included
        return settings

    def opened_weights(self) -> dict | None:
        """The weights of the run opened from a file (CPU tensors), before any further training."""
        run = self.current
        return dict(run.bundle["model_state"]) if run is not None and run.bundle is not None else None

    def export_history_csv(self, path: str | Path) -> bool:
        if self.current is None:
            self.error.emit("there is no loss history yet: press Train first")
            return False
        try:
            with atomic_write(path, "w") as f:
                f.write(self.current.history.to_csv())
        except OSError as exc:
            self.error.emit(f"cannot write {path}: {exc.strerror or exc}; nothing was overwritten")
            return False
        return True

    # -- messages from the worker (GUI thread, queued) ------------------------------------------
    def _on_message(self, msg: object) -> None:
        run = self._job_run
        if isinstance(msg, DatasetLoaded):
            self._keep_dataset(msg.source, msg.image_format, msg.dataset)
        elif isinstance(msg, Saved):
            self._pending_save = None
            self.saved.emit(msg.path)
        elif isinstance(msg, RequestFailed):
            self._pending_save = None
            self.error.emit(msg.message)
        elif isinstance(msg, Notice):
            self.info.emit(msg.message)
        elif run is not None:
            run.apply(msg)

    def _keep_dataset(self, source: str, image_format: tuple, dataset) -> None:
        # one set at a time (MNIST-sized data is big), found both by what was asked for and by
        # the size and channels it came in, which is how a model trained on it asks again
        self._datasets = {(source, *image_format): dataset, (source, *model_format(dataset.image_shape)): dataset}
        self.dataset_loaded.emit()

    def _on_failed(self, exc: BaseException) -> None:
        if self._job_run is not None:
            self._job_run.finish_reason = "error"
        if isinstance(exc, VaeStudioError) and getattr(exc, "log_path", None):
            self.logged_error.emit(for_window(exc), str(exc.log_path))
        elif isinstance(exc, VaeStudioError):
            self.error.emit(for_window(exc))
        else:
            self.internal_error.emit(exc)

    def _on_ended(self) -> None:
        worker, self._worker = self._worker, None
        run, self._job_run = self._job_run, None
        if worker is None:
            return
        worker.deleteLater()
        if run is not None:
            run.ended(worker.control.trainer, error=run.finish_reason == "error")
            if not run.has_model:
                self._forget(run)
        if self._pending_save:
            path, self._pending_save = self._pending_save, None
            self.save(path)


__all__ = ["RunRecord", "RunSettings", "RunState", "Session", "Started"]
