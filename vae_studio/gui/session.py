"""The one object the window talks to: it owns the run, the worker and the loss buffers.

Every call into :mod:`vae_studio.core` made by the GUI goes through this module, so the widgets
stay a thin view that could sit over another engine. The live ``Trainer`` is handed to the
worker thread; the GUI thread only flips its thread-safe flags (pause, resume, stop, β) and
reads it once the worker has left the training code (to save, or to continue training).
"""

from __future__ import annotations

import dataclasses
import enum
import math
import os
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Generator, Mapping

from PySide6.QtCore import QObject, Signal

from ..core import config as _config
from ..core.atomic import atomic_write
from ..core.checkpoint import load_checkpoint, make_bundle, save_checkpoint
from ..core.config import ModelConfig, TrainConfig
from ..core.data import BUILTIN_SOURCES, load_dataset
from ..core.device import describe_device, resolve_device
from ..core.errors import VaeStudioError
from ..core.trainer import Finished, Progress, Snapshot, Trainer, Validation
from .history import LossBuffers
from .worker import JobControl, TrainingWorker

DATASETS = BUILTIN_SOURCES
VARIANTS = _config.VARIANTS
ARCHS = _config.ARCHS
LIKELIHOODS = _config.LIKELIHOODS
KL_SCHEDULES = _config.KL_SCHEDULES
DEVICES = _config.DEVICES
DEFAULT_BETA_VARIANT_BETA = 4.0  # what `vae-studio train --variant beta` uses


@dataclass(frozen=True)
class RunSettings:
    """Everything the control panel sets, in plain Python types (this is what QSettings stores)."""

    dataset: str = "digits"  # a built-in name or a folder of IDX files
    variant: str = "vanilla"
    arch: str = "mlp"
    likelihood: str = "bernoulli"
    latent_dim: int = 2  # 2 so the latent map shows the space itself, not a projection
    hidden: tuple[int, ...] = (400,)
    epochs: int = 20
    batch_size: int = 128
    lr: float = 1e-3
    beta: float = 1.0
    kl_schedule: str = "constant"
    warmup_epochs: float = 0.0
    free_bits: float = 0.0
    seed: int = 0
    device: str = "auto"

    MODEL_FIELDS = ("dataset", "variant", "arch", "likelihood", "latent_dim", "hidden")

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["hidden"] = list(self.hidden)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "RunSettings":
        """Tolerant: unknown keys and values of the wrong type fall back to the defaults."""
        base = cls()
        values = {}
        for f in dataclasses.fields(cls):
            if f.name not in d:
                continue
            default = getattr(base, f.name)
            try:
                v = d[f.name]
                if isinstance(default, tuple):
                    v = tuple(int(x) for x in v)
                elif isinstance(default, bool):
                    v = bool(v)
                else:
                    v = type(default)(v)
            except (TypeError, ValueError):
                continue
            values[f.name] = v
        return dataclasses.replace(base, **values)

    def replace(self, **changes: Any) -> "RunSettings":
        return dataclasses.replace(self, **changes)

    def effective_beta(self) -> float:
        return self.beta if self.variant == "beta" else 1.0

    def model_config(self, image_shape=(1, 28, 28), num_classes: int = 10) -> ModelConfig:
        return ModelConfig(
            variant=self.variant, arch=self.arch, latent_dim=self.latent_dim, hidden=self.hidden,
            image_shape=image_shape, num_classes=num_classes, likelihood=self.likelihood,
        )

    def train_config(self) -> TrainConfig:
        return TrainConfig(
            epochs=self.epochs, batch_size=self.batch_size, lr=self.lr, beta=self.effective_beta(),
            kl_schedule=self.kl_schedule, warmup_epochs=self.warmup_epochs if self.kl_schedule != "constant" else 0.0,
            free_bits=self.free_bits, seed=self.seed, device=self.device,
        )


def default_torch_threads() -> int:
    """Intra-op threads for the training thread: every core but one, which the GUI thread needs.

    Measured on a 2-core CPU: with torch's default of one thread per core, OpenMP's team spins
    against the GUI thread and the window trains ten times slower than headless; with one
    thread it keeps pace.
    """
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, cores - 1)


def device_summary(choice: str, training_threads: int | None = None) -> str:
    """What a device setting resolves to here, e.g. "CUDA: NVIDIA H100" or "CPU, 1 thread"."""
    try:
        device = resolve_device(choice)
    except VaeStudioError as exc:
        return f"unavailable: {exc}"
    if device.type == "cpu" and training_threads:
        return f"CPU, {training_threads} thread{'s' if training_threads != 1 else ''}"
    return describe_device(device)


class State(str, enum.Enum):
    IDLE = "idle"  # no model yet
    STARTING = "starting"  # the worker is loading data and building the model
    RUNNING = "running"
    PAUSED = "paused"
    STOPPING = "stopping"
    READY = "ready"  # a model exists (trained here or opened) and nothing runs


@dataclass(frozen=True)
class Started:
    dataset: str
    n_train: int
    n_test: int
    pixels: int
    device: str
    step: int
    epoch: int


@dataclass(frozen=True)
class _DatasetLoaded:
    source: str
    dataset: Any


@dataclass(frozen=True)
class Saved:
    path: str


@dataclass(frozen=True)
class RequestFailed:
    message: str


@dataclass(frozen=True)
class RunStats:
    samples: int
    seconds: float  # training time, pauses and validation excluded

    @property
    def samples_per_s(self) -> float:
        return self.samples / self.seconds if self.seconds > 0 else 0.0


@dataclass
class _Plan:
    source: str
    dataset: Any  # a cached Dataset, or None to load in the worker
    model_cfg: ModelConfig
    train_cfg: TrainConfig
    state: dict | None  # a bundle opened from a file
    previous: Trainer | None  # an idle trainer to continue from
    torch_threads: int | None


def _saveable(bundle: dict) -> dict:
    """An opened bundle back in the plain form ``save_checkpoint`` writes (configs as dicts)."""
    out = {k: v for k, v in bundle.items() if not k.startswith("_")}
    for key in ("model_config", "train_config"):
        if hasattr(out[key], "to_dict"):
            out[key] = out[key].to_dict()
    return out


def _save_from_trainer(path: str) -> Callable[[Trainer], Saved]:
    def save(trainer: Trainer) -> Saved:
        save_checkpoint(path, make_bundle(trainer))
        return Saved(path)

    return save


def _training_job(plan: _Plan) -> Callable[[JobControl], Generator]:
    """The generator the worker thread runs: load data, build the trainer, stream its messages."""

    def job(control: JobControl) -> Generator:
        if control.stop_requested:
            return
        if plan.torch_threads:
            import torch

            torch.set_num_threads(plan.torch_threads)
        dataset = plan.dataset
        if dataset is None:
            dataset = load_dataset(plan.source)
            yield _DatasetLoaded(plan.source, dataset)
        if control.stop_requested:
            return
        model_cfg = plan.model_cfg
        if plan.state is None and plan.previous is None:
            model_cfg = ModelConfig.from_dict(
                {**model_cfg.to_dict(), "image_shape": dataset.image_shape, "num_classes": dataset.num_classes}
            )
        # the previous trainer is idle (its job has ended), so reading it here is race-free
        state = plan.state if plan.state is not None else (make_bundle(plan.previous) if plan.previous else None)
        trainer = Trainer(model_cfg, plan.train_cfg, dataset, state=state)
        control.attach(trainer)
        yield Started(
            dataset=dataset.name, n_train=len(dataset.train), n_test=len(dataset.test),
            pixels=trainer.model_cfg.pixels, device=describe_device(trainer.device),
            step=trainer.step, epoch=trainer.epoch,
        )
        for message in trainer.run():
            yield message
            yield from _serve(control, trainer)
        yield from _serve(control, trainer)

    return job


def _serve(control: JobControl, trainer: Trainer) -> Generator:
    # Trainer.run() is suspended at a yield here, so the model and optimizer are not mid-step
    for fn, repause in control.take_requests():
        try:
            result = fn(trainer)
        except VaeStudioError as exc:
            result = RequestFailed(str(exc))
        if repause:
            control.repause(trainer)
        yield result


class Session(QObject):
    state_changed = Signal(str)
    error = Signal(str)  # something went wrong; the text is written for a person
    info = Signal(str)  # a notice that needs no action
    started = Signal(object)  # Started
    validated = Signal(object)  # Validation
    saved = Signal(str)
    run_loaded = Signal(object)  # RunSettings of an opened run

    def __init__(self, parent: QObject | None = None, torch_threads: int | None = None):
        """``torch_threads``: intra-op threads of the training thread (default: all cores but one)."""
        super().__init__(parent)
        self.torch_threads = torch_threads or default_torch_threads()
        self.history = LossBuffers()
        self.latest_progress: Progress | None = None
        self.latest_snapshot: Snapshot | None = None
        self.snapshot_version = 0
        self.started_info: Started | None = None
        self.last_run_stats: RunStats | None = None
        self.last_finish_reason: str | None = None
        self.locked_settings: RunSettings | None = None  # the model settings of the current run
        self._state = State.IDLE
        self._worker: TrainingWorker | None = None
        self._trainer: Trainer | None = None  # idle trainer of the last run
        self._bundle: dict | None = None  # an opened run not trained here yet
        self._datasets: dict[str, Any] = {}
        self._pending_save: str | None = None

    # -- state ---------------------------------------------------------------------------------
    @property
    def state(self) -> State:
        return self._state

    def _set_state(self, state: State) -> None:
        if state != self._state:
            self._state = state
            self.state_changed.emit(state.value)

    @property
    def busy(self) -> bool:
        return self._worker is not None

    @property
    def has_model(self) -> bool:
        return self._trainer is not None or self._bundle is not None or self.busy

    @property
    def live_step(self) -> int:
        """The trainer's own step counter (an int read, safe while it trains)."""
        trainer = self._worker.control.trainer if self._worker else self._trainer
        if trainer is not None:
            return trainer.step
        return int(self._bundle["step"]) if self._bundle else 0

    @property
    def completed_epochs(self) -> int:
        if self._trainer is not None:
            return self._trainer.epoch
        return int(self._bundle["epoch"]) if self._bundle else 0

    @property
    def dataset(self) -> Any:
        """The last dataset the worker loaded (immutable tensors; the latent explorer shows its
        held-out images behind the map's points), or None before the first run."""
        return next(iter(self._datasets.values()), None)

    @property
    def pixels(self) -> int:
        if self.started_info:
            return self.started_info.pixels
        if self._bundle:
            return self._bundle["model_config"].pixels
        return 784

    # -- control -------------------------------------------------------------------------------
    def validate(self, settings: RunSettings) -> str | None:
        """The first problem with ``settings`` as a sentence, or None when they can train."""
        try:
            settings.model_config()
            settings.train_config()
            resolve_device(settings.device)
        except VaeStudioError as exc:
            return str(exc)
        if settings.variant == "beta" and settings.beta == 1.0:
            return "the beta variant needs β other than 1; use the vanilla variant for β = 1"
        if settings.kl_schedule == "cyclical" and settings.warmup_epochs <= 0:
            return "the cyclical KL schedule needs a cycle length: set warm-up epochs above 0"
        return None

    def start(self, settings: RunSettings) -> bool:
        """Train a new model, or continue the current one, with ``settings``; False if refused."""
        if self.busy:
            return False
        problem = self.validate(settings)
        if problem:
            self.error.emit(problem)
            return False
        if self.has_model and self.completed_epochs >= settings.epochs:
            self.info.emit(
                f"this run has already trained {self.completed_epochs} epochs; raise Epochs above that "
                "to train further, or press Reset to start a new model"
            )
            return False
        if self._bundle is not None:
            model_cfg = self._bundle["model_config"]
            source = str(self._bundle["dataset"])
        elif self._trainer is not None:
            model_cfg = self._trainer.model_cfg
            source = self._trainer.dataset.name
        else:
            model_cfg = settings.model_config()
            source = settings.dataset
            self.history.clear()
            self.latest_snapshot = None
            self.snapshot_version += 1
            self.locked_settings = settings
        plan = _Plan(
            source=source, dataset=self._datasets.get(source), model_cfg=model_cfg,
            train_cfg=settings.train_config(), state=self._bundle, previous=self._trainer,
            torch_threads=self.torch_threads,
        )
        worker = TrainingWorker(_training_job(plan), self)
        worker.message.connect(self._on_message)
        worker.failed.connect(self._on_failed)
        worker.ended.connect(self._on_ended)
        self._worker = worker
        self.last_finish_reason = None
        self._set_state(State.STARTING)
        worker.start()
        return True

    def pause(self) -> None:
        if self._worker and self._state in (State.RUNNING, State.STARTING):
            self._worker.control.pause()
            self._set_state(State.PAUSED)

    def resume(self) -> None:
        if self._worker and self._state == State.PAUSED:
            self._worker.control.resume()
            self._set_state(State.RUNNING if self.started_info else State.STARTING)

    def stop(self) -> None:
        if self._worker and self._state != State.STOPPING:
            self._worker.control.stop()
            self._set_state(State.STOPPING)

    def set_beta(self, beta: float) -> None:
        """Change β of the running β-VAE; the trainer applies it at its next step."""
        if self._worker is None or not (math.isfinite(beta) and beta >= 0):
            return
        if self.locked_settings is not None and self.locked_settings.variant != "beta":
            return
        self._worker.control.set_beta(beta)

    def reset(self) -> None:
        """Forget the model and the curves (only while nothing runs)."""
        if self.busy:
            return
        self._trainer = None
        self._bundle = None
        self.locked_settings = None
        self.started_info = None
        self.latest_progress = None
        self.latest_snapshot = None
        self.snapshot_version += 1
        self.history.clear()
        self._set_state(State.IDLE)

    def shutdown(self, timeout: float = 5.0) -> bool:
        """Stop any run and wait for its thread to leave the training code; True if it did."""
        if self._worker is None:
            return True
        ok = self._worker.join(timeout)
        if not ok:
            print(f"vae-studio: the training thread did not stop within {timeout:g} s", file=sys.stderr)
        return ok

    # -- files ---------------------------------------------------------------------------------
    def save(self, path: str | Path) -> None:
        """Write the run to ``path``; ``saved`` or ``error`` tells how it went."""
        path = str(path)
        if self._worker is not None:
            # served between two training messages; if the job ends first, saved from the idle trainer
            self._pending_save = path
            self._worker.control.request(_save_from_trainer(path))
            return
        try:
            if self._trainer is not None:
                save_checkpoint(path, make_bundle(self._trainer))
            elif self._bundle is not None:
                save_checkpoint(path, _saveable(self._bundle))
            else:
                self.error.emit("there is no model to save yet: press Train first")
                return
        except VaeStudioError as exc:
            self.error.emit(str(exc))
            return
        self.saved.emit(path)

    def open(self, path: str | Path) -> RunSettings | None:
        """Load a run file: its curves replace the plots and Train continues from its weights."""
        if self.busy:
            self.error.emit("stop training before opening another run")
            return None
        try:
            bundle = load_checkpoint(path)
        except VaeStudioError as exc:
            self.error.emit(str(exc))
            return None
        mc: ModelConfig = bundle["model_config"]
        tc: TrainConfig = bundle["train_config"]
        settings = RunSettings(
            dataset=str(bundle["dataset"]), variant=mc.variant, arch=mc.arch, likelihood=mc.likelihood,
            latent_dim=mc.latent_dim, hidden=tuple(mc.hidden), epochs=tc.epochs, batch_size=tc.batch_size,
            lr=tc.lr, beta=tc.beta, kl_schedule=tc.kl_schedule, warmup_epochs=tc.warmup_epochs,
            free_bits=tc.free_bits, seed=tc.seed, device=tc.device,
        )
        self._trainer = None
        self._bundle = bundle
        self.locked_settings = settings
        self.started_info = None
        self.latest_progress = None
        self.latest_snapshot = None
        self.snapshot_version += 1
        self.history.load_history(bundle["history"])
        self._set_state(State.READY)
        self.run_loaded.emit(settings)
        return settings

    def opened_weights(self) -> dict | None:
        """The weights of the run opened from a file (CPU tensors), before any further training."""
        return dict(self._bundle["model_state"]) if self._bundle else None

    def export_history_csv(self, path: str | Path) -> None:
        try:
            with atomic_write(path, "w") as f:
                f.write(self.history.to_csv())
        except OSError as exc:
            self.error.emit(f"cannot write {path}: {exc.strerror or exc}; nothing was overwritten")

    # -- messages from the worker (GUI thread, queued) ------------------------------------------
    def _on_message(self, msg: object) -> None:
        if isinstance(msg, Progress):
            self.latest_progress = msg
            self.history.add_step(msg.step, msg.epoch, msg.recon, msg.kl, msg.kl_weight)
        elif isinstance(msg, Snapshot):
            self.latest_snapshot = msg
            self.snapshot_version += 1
        elif isinstance(msg, Validation):
            self.history.add_validation(msg.step, msg.epoch, msg.recon, msg.kl)
            self.validated.emit(msg)
        elif isinstance(msg, Finished):
            self.last_finish_reason = msg.reason
        elif isinstance(msg, Started):
            self.started_info = msg
            if self._state == State.STARTING:
                self._set_state(State.RUNNING)
            self.started.emit(msg)
        elif isinstance(msg, _DatasetLoaded):
            self._datasets = {msg.source: msg.dataset}  # one cached set: MNIST-sized data is big
        elif isinstance(msg, Saved):
            self._pending_save = None
            self.saved.emit(msg.path)
        elif isinstance(msg, RequestFailed):
            self._pending_save = None
            self.error.emit(msg.message)

    def _on_failed(self, exc: BaseException) -> None:
        if isinstance(exc, VaeStudioError):
            text = str(exc)
        else:
            traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
            text = f"internal error in the training thread: {type(exc).__name__}: {exc}"
        self.last_finish_reason = "error"
        self.error.emit(text)

    def _on_ended(self) -> None:
        worker, self._worker = self._worker, None
        if worker is None:
            return
        trainer = worker.control.trainer
        if trainer is not None:
            # the job has ended: this trainer is idle and holds the last good weights
            self._trainer = trainer
            self._bundle = None
            self.last_run_stats = RunStats(trainer.samples_seen, trainer.elapsed)
        worker.deleteLater()
        if not self.has_model:
            self.locked_settings = None
        self._set_state(State.READY if self.has_model else State.IDLE)
        if self._pending_save:
            path, self._pending_save = self._pending_save, None
            self.save(path)


def headless_throughput(settings: RunSettings, torch_threads: int | None = None) -> RunStats:
    """Train ``settings`` in the calling thread, no Qt involved: the baseline the window is compared with."""
    if torch_threads:
        import torch

        torch.set_num_threads(torch_threads)
    dataset = load_dataset(settings.dataset)
    model_cfg = settings.model_config(dataset.image_shape, dataset.num_classes)
    trainer = Trainer(model_cfg, settings.train_config(), dataset)
    for _ in trainer.run():
        pass
    return RunStats(trainer.samples_seen, trainer.elapsed)
