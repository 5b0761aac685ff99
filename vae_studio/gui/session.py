"""The one object the window talks to: it owns the run, the worker and the loss buffers.

Every call into :mod:`vae_studio.core` made by the GUI goes through this module, so the widgets
stay a thin view that could sit over another engine. Training runs in a child process
(:class:`~vae_studio.core.remote.RemoteTrainer`) whose messages a worker thread relays; the GUI
thread only flips its flags (pause, resume, stop, β) and asks it for checkpoint bundles. With
``isolation="thread"`` the same job runs a local ``Trainer`` in the worker thread instead.
"""

from __future__ import annotations

import dataclasses
import enum
import math
import os
import sys
import threading
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Generator, Mapping

from PySide6.QtCore import QObject, Signal
from superqt.utils import create_worker

from ..core import config as _config
from ..core.atomic import atomic_write
from ..core.checkpoint import load_checkpoint, save_checkpoint
from ..core.config import ModelConfig, TrainConfig
from ..core.data import BUILTIN_SOURCES, load_dataset
from ..core.device import describe_device, resolve_device
from ..core.errors import VaeStudioError
from ..core.evaluate import EvalResult, evaluate_weights
from ..core.latent import snapshot_of
from ..core.remote import RemoteTrainer, warm_up
from ..core.trainer import Finished, Progress, Snapshot, Trainer, Validation
from .history import LossBuffers
from .autosave import Autosaver
from .worker import JobControl, TrainingWorker

DATASETS = BUILTIN_SOURCES
VARIANTS = _config.VARIANTS
ARCHS = _config.ARCHS
LIKELIHOODS = _config.LIKELIHOODS
KL_SCHEDULES = _config.KL_SCHEDULES
DEVICES = _config.DEVICES
EVAL_MAX_IMAGES = 2000  # held-out images a run comparison scores: seconds, not minutes, on a CPU
DEFAULT_IWAE_SAMPLES = 50
TRAINING_NICENESS = 10  # measured: heartbeat p99 20-36 ms at 10 against 65-87 ms at 0, same throughput
DEFAULT_BETA_VARIANT_BETA = 4.0  # what `vae-studio train --variant beta` uses
VARIANT_NAMES = {"vanilla": "Vanilla VAE", "conditional": "Conditional VAE", "beta": "β-VAE"}


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
    capacity_on: bool = False  # beta variant: aim the KL at a target C instead of pushing it to 0
    capacity: float = 25.0  # nats
    capacity_epochs: float = 10.0  # epochs over which C ramps up from 0
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

    def capacity_target(self) -> float | None:
        return self.capacity if self.variant == "beta" and self.capacity_on else None

    def effective_beta(self) -> float:
        """The KL weight this variant trains with; ConfigError (from the core's one rule) if the
        settings do not fit the variant."""
        return _config.resolve_beta(self.variant, self.beta if self.variant == "beta" else None, self.capacity_target())

    def model_config(self, image_shape=(1, 28, 28), num_classes: int = 10) -> ModelConfig:
        return ModelConfig(
            variant=self.variant, arch=self.arch, latent_dim=self.latent_dim, hidden=self.hidden,
            image_shape=image_shape, num_classes=num_classes, likelihood=self.likelihood,
        )

    def train_config(self) -> TrainConfig:
        return TrainConfig(
            epochs=self.epochs, batch_size=self.batch_size, lr=self.lr, beta=self.effective_beta(),
            kl_schedule=self.kl_schedule, warmup_epochs=self.warmup_epochs if self.kl_schedule != "constant" else 0.0,
            free_bits=self.free_bits, capacity=self.capacity_target(), capacity_epochs=self.capacity_epochs,
            seed=self.seed, device=self.device,
        )

    def describe(self) -> str:
        """A short name for the run list, e.g. "β-VAE β=4 · 2-D · MLP"."""
        if self.variant == "beta":
            head = f"β-VAE β={self.beta:g}" + (f" C={self.capacity:g}" if self.capacity_on else "")
        else:
            head = VARIANT_NAMES[self.variant]
        extra = [f"{self.latent_dim}-D", self.arch.upper() if self.arch == "mlp" else "conv"]
        if self.kl_schedule != "constant":
            extra.append(f"{self.kl_schedule} KL")
        if self.free_bits > 0:
            extra.append(f"λ={self.free_bits:g}")
        return " · ".join([head, *extra])


def default_torch_threads(isolation: str = "process") -> int:
    """Intra-op threads for training.

    In a process of its own, training gets one thread per core, as headless does. In a thread
    beside the GUI it gets every core but one: measured on a 2-core CPU, with a thread per core
    OpenMP's team spins against the GUI thread and the window trains far slower than headless.
    """
    if isolation == "process":
        import torch

        return torch.get_num_threads()
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


@dataclass(eq=False)
class RunRecord:
    """One run of this session, trained here or opened: settings, loss curves and a usable model.

    The model is kept two ways: ``snapshot`` (CPU weights and the probe set's means, what the
    explorer shows and the comparison scores) and ``trainer`` or ``bundle`` (weights and optimizer
    state, so Continue can train it further after it is loaded back).
    """

    id: int
    name: str
    settings: RunSettings
    history: LossBuffers
    source: str  # the dataset
    origin: str = "trained here"  # or the file it was opened from
    trainer: Trainer | RemoteTrainer | None = None  # idle, after its job has ended
    bundle: dict | None = None  # opened from a file and not trained since
    snapshot: Snapshot | None = None
    status: str = "training"
    metrics: dict = field(default_factory=dict)  # (iwae k, weights step) -> EvalResult

    @property
    def label(self) -> str:
        return f"{self.name} · {self.settings.describe()}"

    @property
    def has_model(self) -> bool:
        return self.snapshot is not None or self.bundle is not None or self.trainer is not None

    def model_step(self) -> int:
        if self.snapshot is not None:
            return int(self.snapshot.step)
        if self.bundle is not None:
            return int(self.bundle["step"])
        return self.trainer.step if self.trainer is not None else -1

    def weights(self) -> tuple[ModelConfig, dict] | None:
        """The model as a config and CPU weights (never the live model of a running trainer)."""
        if self.snapshot is not None:
            return self.snapshot.model_config, self.snapshot.state
        if self.bundle is not None:
            return self.bundle["model_config"], self.bundle["model_state"]
        return None

    def result(self, k: int) -> EvalResult | None:
        return self.metrics.get((k, self.model_step()))

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
            self.trainer = None
            return
        bundle["model_config"], bundle["train_config"] = t.model_cfg, t.cfg
        if self.snapshot is not None and self.snapshot.step == t.step:
            bundle["model_state"] = self.snapshot.state
        self.bundle, self.trainer = bundle, None


def _score_runs(jobs: list[tuple], datasets: dict, k: int) -> list[tuple[int, int, EvalResult]]:
    """Worker-thread body of a run comparison: each model on the CPU, on the same held-out images."""
    out = []
    for run_id, step, cfg, state, source in jobs:
        if source not in datasets:
            datasets[source] = load_dataset(source)
        result = evaluate_weights(cfg, state, datasets[source].test, iwae_samples=k, max_images=EVAL_MAX_IMAGES)
        out.append((run_id, step, result))
    return out


@dataclass
class _Plan:
    source: str
    dataset: Any  # a cached Dataset, or None to load in the worker
    model_cfg: ModelConfig
    train_cfg: TrainConfig
    state: dict | None  # a bundle opened from a file
    previous: Trainer | RemoteTrainer | None  # an idle trainer to continue from
    torch_threads: int | None
    autosaver: Autosaver | None = None
    isolation: str = "process"


def _saveable(bundle: dict) -> dict:
    """An opened bundle back in the plain form ``save_checkpoint`` writes (configs as dicts)."""
    out = {k: v for k, v in bundle.items() if not k.startswith("_")}
    for key in ("model_config", "train_config"):
        if hasattr(out[key], "to_dict"):
            out[key] = out[key].to_dict()
    return out


def _save_from_trainer(path: str) -> Callable[[Trainer], Saved]:
    def save(trainer: Trainer) -> Saved:
        save_checkpoint(path, trainer.bundle())
        return Saved(path)

    return save


def _training_job(plan: _Plan) -> Callable[[JobControl], Generator]:
    """The generator the worker thread runs: load data, build the trainer, stream its messages."""

    def job(control: JobControl) -> Generator:
        if control.stop_requested:
            return
        if plan.torch_threads and plan.isolation == "thread":
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
        state = plan.state if plan.state is not None else (plan.previous.bundle() if plan.previous else None)
        if plan.isolation == "process":
            trainer = RemoteTrainer(model_cfg, plan.train_cfg, dataset, state=state, torch_threads=plan.torch_threads,
                                    niceness=TRAINING_NICENESS)
        else:
            trainer = Trainer(model_cfg, plan.train_cfg, dataset, state=state)
        control.attach(trainer)
        yield Started(
            dataset=dataset.name, n_train=len(dataset.train), n_test=len(dataset.test),
            pixels=trainer.model_cfg.pixels, device=describe_device(trainer.device),
            step=trainer.step, epoch=trainer.epoch,
        )
        saver = plan.autosaver
        try:
            for message in trainer.run():
                yield message
                if saver is not None and isinstance(message, Snapshot) and saver.due():
                    yield from _autosave(saver, trainer)
                yield from _serve(control, trainer)
            yield from _serve(control, trainer)
        finally:
            # on the way out, also after an error: the trainer has restored its last good weights
            if saver is not None and trainer.step > 0:
                for _ in _autosave(saver, trainer):
                    pass

    return job


def _autosave(saver: Autosaver, trainer: Trainer) -> Generator:
    try:
        saver.save(trainer)
    except VaeStudioError as exc:
        yield RequestFailed(f"autosave failed: {exc}")


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
    dataset_loaded = Signal()  # ``dataset`` is new: it loaded before the trainer starts
    started = Signal(object)  # Started
    validated = Signal(object)  # Validation
    saved = Signal(str)
    run_loaded = Signal(object)  # RunSettings of an opened run, or of a run loaded back from the list
    runs_changed = Signal()  # a run was added, renamed, finished or removed
    metrics_ready = Signal()  # new comparison figures in some RunRecord.metrics

    def __init__(self, parent: QObject | None = None, torch_threads: int | None = None, isolation: str = "process"):
        """``isolation``: "process" trains in a child process (the default; see
        :mod:`vae_studio.core.remote`), "thread" in a worker thread of this process.
        ``torch_threads``: intra-op threads for training (default: :func:`default_torch_threads`)."""
        super().__init__(parent)
        if isolation not in ("process", "thread"):
            raise ValueError(f"isolation must be 'process' or 'thread' (got {isolation!r})")
        self.isolation = isolation
        self.torch_threads = torch_threads or default_torch_threads(isolation)
        if isolation == "process":
            warm_up()  # the fork server imports PyTorch while the person looks at the window
        self.autosaver: Autosaver | None = Autosaver()
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
        self.runs: list[RunRecord] = []  # every run of this session, oldest first
        self.current: RunRecord | None = None  # the run Train continues and the plots show
        self._run_count = 0
        self._metrics_worker = None
        self._metrics_pending: tuple[list[int], int] | None = None

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
        if self._trainer is not None:
            return self._trainer.model_cfg.pixels
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
            return str(exc).replace("beta", "β")
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
            self._new_run(settings, source)
            self.latest_snapshot = None
            self.snapshot_version += 1
            self.locked_settings = settings
        if self.current is not None:
            self.current.settings = settings  # train settings may have changed for Continue
            self.current.status = "training"
            self.runs_changed.emit()
        plan = _Plan(
            source=source, dataset=self._datasets.get(source), model_cfg=model_cfg,
            train_cfg=settings.train_config(), state=self._bundle, previous=self._trainer,
            torch_threads=self.torch_threads, autosaver=self.autosaver, isolation=self.isolation,
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
        run = self.locked_settings
        if run is not None:
            try:
                _config.resolve_beta(run.variant, beta, run.capacity_target())
            except VaeStudioError as exc:
                self.error.emit(str(exc).replace("beta", "β"))
                return
        self._worker.control.set_beta(beta)
        if self.current is not None:
            self.current.settings = self.current.settings.replace(beta=beta)
            self.runs_changed.emit()

    def reset(self) -> None:
        """Forget the model and the curves (only while nothing runs)."""
        if self.busy:
            return
        # the run itself stays in the run list, with its own curves and model
        if self.current is not None:
            self.current.retire()
        self.current = None
        self._trainer = None
        self._bundle = None
        self.locked_settings = None
        self.started_info = None
        self.latest_progress = None
        self.latest_snapshot = None
        self.snapshot_version += 1
        self.history = LossBuffers()
        self._set_state(State.IDLE)
        self.runs_changed.emit()

    def shutdown(self, timeout: float = 5.0) -> bool:
        """Stop any run and wait for its thread to leave the training code; True if it did."""
        if self._metrics_worker is not None:
            self._metrics_pending = None
            self._metrics_done.wait(timeout)  # a comparison takes seconds at most
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
        if not ok:
            print(f"vae-studio: the training thread did not stop within {timeout:g} s", file=sys.stderr)
        return ok

    def _discard_autosave(self) -> None:
        # a clean shutdown: the person had the chance to save; only a crash leaves the file
        if self.autosaver is not None:
            self.autosaver.discard()

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
                save_checkpoint(path, self._trainer.bundle())
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
            free_bits=tc.free_bits, capacity_on=tc.capacity is not None,
            capacity=tc.capacity if tc.capacity is not None else RunSettings.capacity,
            capacity_epochs=tc.capacity_epochs, seed=tc.seed, device=tc.device,
        )
        run = self._new_run(settings, str(bundle["dataset"]), origin=Path(path).name)
        run.bundle = bundle
        run.status = "opened"
        self._trainer = None
        self._bundle = bundle
        self.locked_settings = settings
        self.started_info = None
        self.latest_progress = None
        self.history.load_history(bundle["history"])
        run.snapshot = self._snapshot_for(run)
        self.latest_snapshot = run.snapshot
        self.snapshot_version += 1
        self._set_state(State.READY)
        self.run_loaded.emit(settings)
        return settings

    # -- the run list --------------------------------------------------------------------------
    def _new_run(self, settings: RunSettings, source: str, origin: str = "trained here") -> RunRecord:
        if self.current is not None:
            self.current.retire()
        self._run_count += 1
        run = RunRecord(id=self._run_count, name=f"Run {self._run_count}", settings=settings,
                        history=LossBuffers(), source=source, origin=origin)
        self.history = run.history
        self.runs.append(run)
        self.current = run
        self.runs_changed.emit()
        return run

    def run(self, run_id: int) -> RunRecord | None:
        return next((r for r in self.runs if r.id == run_id), None)

    def _snapshot_for(self, run: RunRecord) -> Snapshot | None:
        """A picture of a model no trainer has shown yet (opened from a file), for the explorer.

        Loads the run's dataset here on the GUI thread when it is not cached: the built-in
        digits take well under a second; a missing dataset is a notice, not a failure.
        """
        weights = run.weights()
        if weights is None:
            return None
        try:
            dataset = self._datasets.get(run.source)
            if dataset is None:
                dataset = load_dataset(run.source)
                self._datasets = {run.source: dataset}
            cfg, state = weights
            step = int(run.bundle["step"]) if run.bundle else 0
            epoch = float(run.bundle["epoch"]) if run.bundle else 0.0
            return snapshot_of(cfg, state, dataset, step=step, epoch=epoch)
        except (VaeStudioError, RuntimeError, ValueError) as exc:
            self.info.emit(f"the run's model cannot be shown in the explorer: {exc}")
            return None

    def activate_run(self, run_id: int) -> bool:
        """Load a run from the list back: Train continues it, the explorer shows its model.

        The run that was current stays in the list as it is."""
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
        self.current = run
        self._trainer = run.trainer
        self._bundle = run.bundle if run.trainer is None else None
        self.history = run.history
        self.history.version += 1  # a different buffer: make every view redraw
        self.locked_settings = run.settings
        self.started_info = None
        self.latest_progress = None
        if run.snapshot is None:
            run.snapshot = self._snapshot_for(run)
        self.latest_snapshot = run.snapshot
        self.snapshot_version += 1
        self._set_state(State.READY)
        self.run_loaded.emit(run.settings)
        self.runs_changed.emit()
        return True

    def request_metrics(self, run_ids: list[int], k: int = DEFAULT_IWAE_SAMPLES) -> bool:
        """Score runs on the held-out set (−ELBO, recon, KL, IWAE NLL with ``k`` samples, active
        units) in a worker thread; ``metrics_ready`` says when. False if nothing needed scoring."""
        jobs = []
        for run in (self.run(i) for i in run_ids):
            weights = run.weights() if run is not None else None
            if weights is None or run.result(k) is not None or run is self._training_run():
                continue
            jobs.append((run.id, run.model_step(), *weights, run.source))
        if not jobs:
            return False
        if self._metrics_worker is not None:
            self._metrics_pending = (list(run_ids), k)  # asked again when the one running ends
            return True
        datasets = dict(self._datasets)  # the worker adds to its own copy, never to the session's
        done = threading.Event()
        self._metrics_done = done

        def score():
            try:
                return _score_runs(jobs, datasets, k)
            finally:
                done.set()

        worker = create_worker(score, _start_thread=False)
        worker.returned.connect(lambda results: self._on_metrics(results, k))
        worker.errored.connect(lambda exc: self.error.emit(f"cannot score the runs: {exc}"))
        worker.finished.connect(self._on_metrics_finished)
        self._metrics_worker = worker
        worker.start()
        return True

    @property
    def scoring(self) -> bool:
        return self._metrics_worker is not None

    def _training_run(self) -> RunRecord | None:
        return self.current if self.busy else None

    def _on_metrics(self, results, k: int) -> None:
        for run_id, step, result in results:
            run = self.run(run_id)
            if run is not None:
                run.metrics[(k, step)] = result
        self.metrics_ready.emit()

    def _on_metrics_finished(self) -> None:
        self._metrics_worker = None
        pending, self._metrics_pending = self._metrics_pending, None
        if pending:
            self.request_metrics(*pending)

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
            if self.current is not None:
                self.current.snapshot = msg
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
            self.dataset_loaded.emit()
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
        run = self.current
        if run is not None:
            if trainer is not None:
                run.trainer, run.bundle = trainer, None
            run.status = {"completed": "trained", "stopped": "stopped", "error": "stopped (error)"}.get(
                self.last_finish_reason or "", "stopped")
            if not run.has_model:  # it never got as far as a model (missing data, say)
                self.runs.remove(run)
                self.current = None
            self.runs_changed.emit()
        if not self.has_model:
            self.locked_settings = None
        self._set_state(State.READY if self.has_model else State.IDLE)
        if self._pending_save:
            path, self._pending_save = self._pending_save, None
            self.save(path)
