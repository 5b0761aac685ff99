"""``RunRecord``: the one holder of a run's state. Views read it and are told what changed.

A run is trained here or opened from a file. Its settings, curves, latest progress and snapshot,
state, model (an idle trainer or an opened bundle) and figures live here and nowhere else; the
session keeps the list of runs and which one is current, and applies the training job's messages
to the run they belong to. ``changed`` carries the set of aspects that moved (``ASPECTS``), so a
view redraws only what it shows.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Signal

from ..core.config import ModelConfig
from ..core.errors import VaeStudioError
from ..core.evaluate import EvalResult
from ..core.history import History
from ..core.settings import RunSettings
from ..core.trainer import Finished, Progress, Snapshot, Validation

ASPECTS = ("state", "progress", "history", "snapshot", "settings", "name", "metrics", "dataset")


class RunState(str, enum.Enum):
    NEW = "new"  # no model yet
    STARTING = "starting"  # loading data and building the model
    TRAINING = "training"
    PAUSED = "paused"
    STOPPING = "stopping"
    STOPPED = "stopped"  # stopped by the person before the planned epochs
    TRAINED = "trained"  # reached the planned epochs
    FAILED = "failed"  # ended by an error; the last good weights are kept
    OPENED = "opened"  # loaded from a file, not trained here since

    @property
    def busy(self) -> bool:
        return self in (RunState.STARTING, RunState.TRAINING, RunState.PAUSED, RunState.STOPPING)

    @property
    def settled(self) -> bool:
        """A model exists and nothing runs."""
        return self in (RunState.STOPPED, RunState.TRAINED, RunState.FAILED, RunState.OPENED)


@dataclass(frozen=True)
class Started:
    dataset: str
    n_train: int
    n_test: int
    pixels: int
    device: str
    step: int
    epoch: int
    threads: int | None = None
    image_shape: tuple[int, int, int] = (1, 28, 28)  # (C, H, W) the model takes
    label_given: bool = True  # False: a β model on images without classes, trained as the classic β-VAE


@dataclass(frozen=True)
class DatasetProgress:
    """Images of a folder decoded so far, while a run's data loads."""

    done: int
    total: int


@dataclass(frozen=True)
class RunStats:
    samples: int
    seconds: float  # training time, pauses and validation excluded

    @property
    def samples_per_s(self) -> float:
        return self.samples / self.seconds if self.seconds > 0 else 0.0


@dataclass
class _Model:
    """The model of a run that is not training: an idle trainer or an opened (or retired) bundle."""

    trainer: Any = None
    bundle: dict | None = None


class RunRecord(QObject):
    changed = Signal(object)  # a frozenset of ASPECTS

    def __init__(self, run_id: int, settings: RunSettings, source: str, origin: str = "trained here",
                 parent: QObject | None = None):
        super().__init__(parent)
        self.id = run_id
        self.name = f"Run {run_id}"
        self.settings = settings
        self.source = source
        self.origin = origin
        self.history = History()
        self.state = RunState.NEW
        self.progress: Progress | None = None
        self.snapshot: Snapshot | None = None
        self.started: Started | None = None
        self.stats: RunStats | None = None
        self.finish_reason: str | None = None
        self.model = _Model()
        self.metrics: dict = {}  # (iwae k, weights step) -> EvalResult
        self.last_validation: Validation | None = None
        self.loading: DatasetProgress | None = None  # while its data loads

    # -- reading ------------------------------------------------------------------------------
    @property
    def label(self) -> str:
        return f"{self.name} · {self.settings.describe()}"

    @property
    def trainer(self):
        return self.model.trainer

    @property
    def bundle(self) -> dict | None:
        return self.model.bundle

    @property
    def has_model(self) -> bool:
        return self.snapshot is not None or self.bundle is not None or self.trainer is not None

    @property
    def step(self) -> int:
        if self.progress is not None:
            return int(self.progress.step)
        if self.trainer is not None:
            return int(self.trainer.step)
        if self.bundle is not None:
            return int(self.bundle["step"])
        return int(self.snapshot.step) if self.snapshot is not None else 0

    @property
    def epoch(self) -> float:
        """Epochs trained, fractional while it trains."""
        if self.progress is not None:
            return float(self.progress.epoch)
        if self.trainer is not None:
            return float(self.trainer.epoch)
        if self.bundle is not None:
            return float(self.bundle["epoch"])
        return 0.0

    @property
    def completed_epochs(self) -> int:
        if self.trainer is not None:
            return int(self.trainer.epoch)
        if self.bundle is not None:
            return int(self.bundle["epoch"])
        return int(self.epoch)

    @property
    def pixels(self) -> int:
        if self.started is not None:
            return self.started.pixels
        weights = self.weights()
        return weights[0].pixels if weights else 784

    def model_step(self) -> int:
        if self.snapshot is not None:
            return int(self.snapshot.step)
        return self.step if self.has_model else -1

    def weights(self) -> tuple[ModelConfig, dict] | None:
        """The model as a config and CPU weights (never the live model of a running trainer)."""
        if self.snapshot is not None:
            return self.snapshot.model_config, self.snapshot.state
        if self.bundle is not None:
            return self.bundle["model_config"], self.bundle["model_state"]
        return None

    def result(self, k: int) -> EvalResult | None:
        return self.metrics.get((k, self.model_step()))

    def status_text(self) -> str:
        """The run's state in words, e.g. "Training, epoch 2.5 of 20" or "Stopped at epoch 6 of 20"."""
        planned = self.settings.epochs
        s = self.state
        if s in (RunState.TRAINING, RunState.PAUSED):
            return f"{'Training' if s == RunState.TRAINING else 'Paused'}, epoch {self.epoch:.1f} of {planned}"
        if s == RunState.STOPPED:
            return f"Stopped at epoch {self.completed_epochs} of {planned}"
        if s == RunState.TRAINED:
            return f"Trained, {self.completed_epochs} epochs"
        if s == RunState.FAILED:
            return f"Stopped by an error at epoch {self.completed_epochs} of {planned}"
        if s == RunState.OPENED:
            return f"Opened from {self.origin}, epoch {self.completed_epochs}"
        if s == RunState.STARTING and self.loading is not None:
            return f"Reading images, {self.loading.done:,} of {self.loading.total:,}"
        return {RunState.NEW: "New", RunState.STARTING: "Starting…", RunState.STOPPING: "Stopping…"}[s]

    # -- changing (the session calls these on the GUI thread) ----------------------------------
    def _tell(self, *aspects: str) -> None:
        self.changed.emit(frozenset(aspects))

    def set_state(self, state: RunState) -> None:
        if state != self.state:
            self.state = state
            self._tell("state")

    def set_settings(self, settings: RunSettings) -> None:
        if settings != self.settings:
            self.settings = settings
            self._tell("settings")

    def rename(self, name: str) -> None:
        self.name = name
        self._tell("name")

    def apply(self, msg: object) -> None:
        """One message of the training job."""
        if isinstance(msg, Progress):
            self.progress = msg
            self.history.add_progress(msg)
            self._tell("progress", "history")
        elif isinstance(msg, Snapshot):
            self.snapshot = msg
            self._tell("snapshot")
        elif isinstance(msg, Validation):
            self.last_validation = msg
            self.history.add_validation(msg)
            self._tell("history")
        elif isinstance(msg, Finished):
            self.finish_reason = msg.reason
        elif isinstance(msg, DatasetProgress):
            self.loading = msg
            self._tell("progress")
        elif isinstance(msg, Started):
            self.started = msg
            self.loading = None
            if self.settings.variant == "beta" and self.settings.beta_label and not msg.label_given:
                self.set_settings(self.settings.replace(beta_label=False))  # what was trained, as the run list names it
            if self.state == RunState.STARTING:
                self.state = RunState.TRAINING
            self._tell("state", "progress")

    def load_bundle(self, bundle: dict) -> None:
        """An opened run file: its weights, curves and place in training."""
        self.model = _Model(bundle=bundle)
        self.history = History.from_dict(bundle["history"])  # load_checkpoint has checked it
        self.state = RunState.OPENED
        self._tell("state", "history", "progress")

    def ended(self, trainer: Any, error: bool) -> None:
        """The job is over: keep its idle trainer (the last good weights) and say how it ended."""
        if trainer is not None and (trainer.step > 0 or self.snapshot is not None or self.bundle is not None):
            self.model = _Model(trainer=trainer)
            self.stats = RunStats(trainer.samples_seen, trainer.elapsed)
        self.progress = self.loading = None  # the run's place now comes from its model, not a stale message
        reason = "error" if error else self.finish_reason
        self.finish_reason = reason
        self.state = {"completed": RunState.TRAINED, "error": RunState.FAILED}.get(reason or "", RunState.STOPPED)
        if not self.has_model:
            self.state = RunState.NEW
        self._tell("state", "progress")

    def retire(self) -> None:
        """Keep what a run in the list needs, and let its idle trainer go.

        A trainer carries copies a kept run has no use for (the NaN guard's last good state, the
        probe set); the bundle keeps the weights, shared with the final snapshot when they are the
        same step, and the optimizer state, so Continue still resumes exactly."""
        t = self.trainer
        if t is None:
            return
        try:
            bundle = t.bundle()
        except VaeStudioError:  # its process died before any weights came back: the snapshot stays
            self.model = _Model()
            return
        bundle["model_config"], bundle["train_config"] = t.model_cfg, t.cfg
        if self.snapshot is not None and self.snapshot.step == t.step:
            bundle["model_state"] = self.snapshot.state
        self.model = _Model(bundle=bundle)


SETTLED = tuple(s.value for s in RunState if s.settled)  # state_changed values of a run that stands still
