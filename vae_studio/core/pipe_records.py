"""What travels between the window's process and its training process: named records, not tuples.

Down the control pipe go a :class:`Job` (once) and commands; each command is applied to the
trainer by its own ``apply``, the one place pause, resume, stop and β are forwarded, whichever
trainer (local or in a child) receives them. Up the message pipe come :class:`Started`,
:class:`Relayed` (a trainer message with the trainer's counters), :class:`BundleReply` and, last,
:class:`Final`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator, Protocol, runtime_checkable

from .config import ModelConfig, TrainConfig


@runtime_checkable
class TrainerLike(Protocol):
    """What the window and the command line use of a trainer: :class:`~vae_studio.core.trainer.Trainer`
    in this process and :class:`~vae_studio.core.remote.RemoteTrainer` in a child both have it."""

    model_cfg: ModelConfig
    cfg: TrainConfig
    step: int
    epoch: int
    elapsed: float
    samples_seen: int

    def run(self) -> Iterator[Any]: ...
    def pause(self) -> None: ...
    def resume(self) -> None: ...
    def stop(self) -> None: ...
    def set_beta(self, beta: float) -> None: ...
    def bundle(self, **extra: Any) -> dict: ...

    @property
    def paused(self) -> bool: ...

    @property
    def stopping(self) -> bool: ...


# -- down: the window's process to the training process -------------------------------------------
@dataclass(frozen=True)
class Job:
    model_cfg: ModelConfig
    train_cfg: TrainConfig
    dataset: Any
    state: dict | None
    threads: int | None
    niceness: int


@dataclass(frozen=True)
class Pause:
    def apply(self, trainer: TrainerLike) -> None:
        trainer.pause()


@dataclass(frozen=True)
class Resume:
    def apply(self, trainer: TrainerLike) -> None:
        trainer.resume()


@dataclass(frozen=True)
class Stop:
    def apply(self, trainer: TrainerLike) -> None:
        trainer.stop()


@dataclass(frozen=True)
class SetBeta:
    beta: float

    def apply(self, trainer: TrainerLike) -> None:
        trainer.set_beta(self.beta)


@dataclass(frozen=True)
class WantBundle:
    """Ask for a checkpoint bundle, answered between two messages with a :class:`BundleReply`."""

    token: int


Command = Pause | Resume | Stop | SetBeta | WantBundle


# -- up: the training process to the window's process ---------------------------------------------
@dataclass(frozen=True)
class Stats:
    step: int
    epoch: int
    elapsed: float
    samples_seen: int
    last_beta: tuple[int, float] | None  # (step, β) the trainer applied last

    @classmethod
    def of(cls, trainer) -> "Stats":
        log = trainer.applied_beta_log
        return cls(trainer.step, trainer.epoch, trainer.elapsed, trainer.samples_seen, tuple(log[-1]) if log else None)


@dataclass(frozen=True)
class Started:
    device: str
    model_cfg: ModelConfig
    step: int
    epoch: int


@dataclass(frozen=True)
class Relayed:
    message: Any  # a trainer message: Progress, Validation, Snapshot, Finished
    stats: Stats


@dataclass(frozen=True)
class BundleReply:
    token: int
    bundle: dict


@dataclass(frozen=True)
class ErrorRecord:
    name: str  # a VaeStudioError subclass's name, or "" for an error nobody foresaw
    text: str
    attrs: dict


@dataclass(frozen=True)
class Final:
    bundle: dict | None
    stats: Stats | None
    error: ErrorRecord | None
