"""The training job the worker thread runs, and what it needs: a plan, requests served between
two trainer messages, autosave. Every call into the core's training code made by the window is
here; the session only builds a plan and applies the messages to its run."""

from __future__ import annotations

import os
import queue
import threading
from dataclasses import dataclass
from typing import Any, Callable, Generator

from ..core.checkpoint import save_checkpoint
from ..core.config import ModelConfig, TrainConfig
from ..core.data import load_dataset
from ..core.device import describe_device, resolve_device
from ..core.errors import VaeStudioError
from ..core.remote import RemoteTrainer
from ..core.trainer import Snapshot, Trainer
from .autosave import Autosaver
from .run_record import DatasetProgress, Started
from .worker import JobControl

TRAINING_NICENESS = 10  # the window keeps its responsiveness while the training process works


@dataclass(frozen=True)
class DatasetLoaded:
    source: str
    image_format: tuple[int | None, int | None]  # what was asked for: (size, channels), None where the data chose
    dataset: Any


@dataclass(frozen=True)
class Saved:
    path: str


@dataclass(frozen=True)
class RequestFailed:
    message: str


@dataclass(frozen=True)
class Notice:
    """Something to tell the person that needs no action (autosave failing: training goes on)."""

    message: str


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


@dataclass
class Plan:
    source: str
    dataset: Any  # a cached Dataset, or None to load in the worker
    model_cfg: ModelConfig
    train_cfg: TrainConfig
    state: dict | None  # a bundle opened from a file
    previous: Trainer | RemoteTrainer | None  # an idle trainer to continue from
    torch_threads: int | None
    autosaver: Autosaver | None = None
    isolation: str = "process"
    image_format: tuple[int | None, int | None] = (None, None)  # (size, channels) to load the data with


def saveable(bundle: dict) -> dict:
    """An opened bundle back in the plain form ``save_checkpoint`` writes (configs as dicts)."""
    out = {k: v for k, v in bundle.items() if not k.startswith("_")}
    for key in ("model_config", "train_config"):
        if hasattr(out[key], "to_dict"):
            out[key] = out[key].to_dict()
    return out


def save_from_trainer(path: str) -> Callable[[Trainer], Saved]:
    def save(trainer: Trainer) -> Saved:
        save_checkpoint(path, trainer.bundle())
        return Saved(path)

    return save


def training_job(plan: Plan) -> Callable[[JobControl], Generator]:
    """The generator the worker thread runs: load data, build the trainer, stream its messages."""

    def job(control: JobControl) -> Generator:
        if control.stop_requested:
            return
        if plan.torch_threads and plan.isolation == "thread":
            import torch

            torch.set_num_threads(plan.torch_threads)
        dataset = plan.dataset
        if dataset is None:
            dataset = yield from _load(plan)
            yield DatasetLoaded(plan.source, plan.image_format, dataset)
            for note in dataset.notes:
                yield Notice(note)
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
            step=trainer.step, epoch=trainer.epoch, threads=plan.torch_threads,
            image_shape=trainer.model_cfg.image_shape, label_given=trainer.model_cfg.label_given,
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


def _load(plan: Plan) -> Generator:
    """Load the plan's dataset in a helper thread and pass its progress on as messages (a folder
    of images takes seconds); returns the dataset."""
    box: queue.SimpleQueue = queue.SimpleQueue()

    def work() -> None:
        size, channels = plan.image_format
        try:
            box.put(("done", load_dataset(plan.source, image_size=size, channels=channels,
                                          progress=lambda done, total: box.put(("progress", done, total)))))
        except BaseException as exc:  # noqa: BLE001 - raised again in the job, which reports it
            box.put(("failed", exc))

    threading.Thread(target=work, name="vae-studio-load-data", daemon=True).start()
    while True:
        kind, *rest = box.get()
        if kind == "progress":
            yield DatasetProgress(*rest)
        elif kind == "done":
            return rest[0]
        else:
            raise rest[0]


def _autosave(saver: Autosaver, trainer: Trainer) -> Generator:
    try:
        saver.save(trainer)
    except VaeStudioError as exc:
        yield Notice(str(exc))


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


