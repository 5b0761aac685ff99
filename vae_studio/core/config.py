"""Frozen, validated settings for a model and a training run.

Validation happens in ``__post_init__`` so an invalid config can never exist; the message names
the setting and the accepted range, which is what the CLI and the window show.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Mapping

from .errors import ConfigError

VARIANTS = ("vanilla", "conditional", "beta")
ARCHS = ("mlp", "conv", "resnet")
LIKELIHOODS = ("bernoulli", "gaussian", "continuous-bernoulli")
KL_SCHEDULES = ("constant", "linear", "cyclical")
DEVICES = ("auto", "cpu", "cuda")
PRECISIONS = ("auto", "fp32", "bf16")
AUGMENTS = ("auto", "none", "light", "strong")
LR_SCHEDULES = ("constant", "cosine", "onecycle")
OBJECTIVES = ("elbo", "iwae")
PRIORS = ("standard", "mixture")


def _require(ok: bool, message: str) -> None:
    if not ok:
        raise ConfigError(message)


def _finite(x: float) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


@dataclass(frozen=True)
class ModelConfig:
    variant: str = "vanilla"
    arch: str = "mlp"
    latent_dim: int = 10
    # the engine's bare default; what a new run gets (512,512 with skip connections) is the settings schema's
    hidden: tuple[int, ...] = (1024,)
    image_shape: tuple[int, int, int] = (1, 28, 28)
    num_classes: int = 10
    likelihood: str = "bernoulli"
    channels: tuple[int, int] = (32, 64)  # conv and resnet: feature maps at H/2 and H/4
    # False is what a checkpoint without the key means; new runs get the settings schema's default
    residual: bool = False  # hidden layers of equal width add their input back: h + act(W h)
    prior: str = "standard"  # what a checkpoint without the key means: N(0, I)
    prior_components: int = 100  # K of the learned mixture prior; unused by the standard prior
    # the β variant given the class label, as the conditional one is: z is left the style, which β
    # splits into single properties (slant, width, thickness); False for checkpoints without the key
    label_given: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "hidden", tuple(int(h) for h in self.hidden))
        object.__setattr__(self, "channels", tuple(int(c) for c in self.channels))
        object.__setattr__(self, "image_shape", tuple(int(s) for s in self.image_shape))
        _require(self.variant in VARIANTS, f"variant must be one of {', '.join(VARIANTS)} (got {self.variant!r})")
        _require(self.arch in ARCHS, f"arch must be one of {', '.join(ARCHS)} (got {self.arch!r})")
        _require(
            self.likelihood in LIKELIHOODS,
            f"likelihood must be one of {', '.join(LIKELIHOODS)} (got {self.likelihood!r})",
        )
        _require(1 <= self.latent_dim <= 512, f"latent dimension must be between 1 and 512 (got {self.latent_dim})")
        _require(len(self.hidden) >= 1, "at least one hidden layer size is needed")
        _require(isinstance(self.residual, bool), f"residual must be true or false (got {self.residual!r})")
        _require(isinstance(self.label_given, bool), f"label_given must be true or false (got {self.label_given!r})")
        _require(self.prior in PRIORS, f"prior must be one of {', '.join(PRIORS)} (got {self.prior!r})")
        _require(isinstance(self.prior_components, int) and not isinstance(self.prior_components, bool)
                 and 2 <= self.prior_components <= 4096,
                 f"the mixture prior needs between 2 and 4096 components (got {self.prior_components!r})")
        _require(all(1 <= h <= 8192 for h in self.hidden), f"hidden sizes must be between 1 and 8192 (got {self.hidden})")
        _require(
            len(self.image_shape) == 3 and all(s >= 1 for s in self.image_shape),
            f"image shape must be (channels, height, width) (got {self.image_shape})",
        )
        _require(self.image_shape[0] in (1, 3), f"images must have 1 (grey) or 3 (colour) channels (got {self.image_shape[0]})")
        _require(max(self.image_shape[1:]) <= 1024, f"images must be at most 1024 pixels a side (got {self.image_shape})")
        _require(
            len(self.channels) == 2 and all(1 <= c <= 1024 for c in self.channels),
            f"channels must be two sizes between 1 and 1024 (got {self.channels})",
        )
        if self.arch != "mlp":
            _, h, w = self.image_shape
            _require(h % 4 == 0 and w % 4 == 0, f"the {self.arch} model needs height and width divisible by 4 (got {h}x{w})")
        _require(self.num_classes >= 1, f"number of classes must be at least 1 (got {self.num_classes})")

    @property
    def conditional(self) -> bool:
        """Whether encoder and decoder are given the class label."""
        return self.variant == "conditional" or (self.variant == "beta" and self.label_given)

    @property
    def pixels(self) -> int:
        c, h, w = self.image_shape
        return c * h * w

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "ModelConfig":
        return _from_dict(cls, d)


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 20
    batch_size: int = 128
    # the engine's bare default (108.3 nats against 113.0 at 1e-3, MLP 1024); new runs get the schema's 3e-3
    lr: float = 2e-3
    beta: float = 1.0
    capacity: float | None = None  # target KL in nats (Burgess et al. 2018); None: plain beta
    capacity_epochs: float = 10.0  # epochs over which the capacity target ramps from 0 to C
    kl_schedule: str = "constant"
    warmup_epochs: float = 0.0  # linear: epochs to ramp the KL weight 0 -> 1; cyclical: cycle length
    free_bits: float = 0.0  # per-dimension KL floor, nats (Kingma et al. 2016)
    seed: int = 0
    device: str = "auto"
    precision: str = "auto"  # auto: bf16 autocast where the hardware does bf16 natively, else fp32
    probe_size: int = 2000
    progress_interval: float = 0.1  # seconds between host syncs / Progress messages
    snapshot_interval: float = 1.0  # seconds between Snapshot messages
    augment: str = "auto"  # random shifts/rotations/scaling on the device; auto: light below AUGMENT_AUTO_MAX images
    # measured (digits, MLP 1024, latent 20, light augmentation, 100 epochs): cosine 106.3 nats
    # held-out, onecycle 106.6; AdamW decay 0.05 on top of cosine changed nothing (106.3)
    lr_schedule: str = "cosine"  # cosine: linear warm-up, then cosine decay to 0; onecycle: Smith's schedule
    lr_warmup: float = 0.05  # fraction of the run's steps spent warming the learning rate up (cosine)
    weight_decay: float = 0.0  # decoupled (AdamW), per step, relative to the learning rate
    objective: str = "elbo"  # iwae: the importance-weighted bound with iwae_k samples (Burda et al. 2015)
    iwae_k: int = 5
    binarize: bool = False  # train and validate on pixels drawn as 0/1 with the grey level as probability
    classes: tuple[int, ...] | None = None  # train and validate on these labels only; None: all
    logdir: str | None = None  # TensorBoard: each run writes its event files into a folder of its own in here

    def __post_init__(self) -> None:
        if self.classes is not None:
            _require(
                isinstance(self.classes, (tuple, list)) and len(self.classes) > 0
                and all(isinstance(c, int) and not isinstance(c, bool) and 0 <= c < 2**31 for c in self.classes),
                f"classes must be a list of labels >= 0 (got {self.classes!r})",
            )
            object.__setattr__(self, "classes", tuple(sorted(set(self.classes))))
        if self.kl_schedule == "constant" and self.warmup_epochs > 0:
            object.__setattr__(self, "kl_schedule", "linear")
        _require(isinstance(self.epochs, int) and 1 <= self.epochs <= 100_000, f"epochs must be a whole number >= 1 (got {self.epochs})")
        _require(
            isinstance(self.batch_size, int) and 1 <= self.batch_size <= 1_000_000,
            f"batch size must be a whole number >= 1 (got {self.batch_size})",
        )
        _require(_finite(self.lr) and self.lr > 0, f"learning rate must be a positive number (got {self.lr})")
        _require(_finite(self.beta) and self.beta >= 0, f"beta must be a number >= 0 (got {self.beta})")
        _require(
            self.capacity is None or (_finite(self.capacity) and self.capacity >= 0),
            f"capacity must be a number >= 0 nats (got {self.capacity})",
        )
        _require(_finite(self.capacity_epochs) and self.capacity_epochs >= 0, "capacity ramp must be >= 0 epochs")
        _require(self.kl_schedule in KL_SCHEDULES, f"KL schedule must be one of {', '.join(KL_SCHEDULES)} (got {self.kl_schedule!r})")
        _require(_finite(self.warmup_epochs) and self.warmup_epochs >= 0, f"warm-up epochs must be >= 0 (got {self.warmup_epochs})")
        _require(
            self.kl_schedule != "cyclical" or self.warmup_epochs > 0,
            "the cyclical KL schedule needs a cycle length: set warm-up epochs > 0",
        )
        _require(_finite(self.free_bits) and self.free_bits >= 0, f"free bits must be a number >= 0 nats (got {self.free_bits})")
        _require(isinstance(self.seed, int) and 0 <= self.seed < 2**63, f"seed must be a whole number >= 0 (got {self.seed})")
        _require(self.device in DEVICES, f"device must be one of {', '.join(DEVICES)} (got {self.device!r})")
        _require(self.precision in PRECISIONS, f"precision must be one of {', '.join(PRECISIONS)} (got {self.precision!r})")
        _require(isinstance(self.probe_size, int) and self.probe_size >= 1, "probe size must be >= 1")
        _require(_finite(self.progress_interval) and self.progress_interval > 0, "progress interval must be > 0 seconds")
        _require(_finite(self.snapshot_interval) and self.snapshot_interval > 0, "snapshot interval must be > 0 seconds")
        _require(self.augment in AUGMENTS, f"augment must be one of {', '.join(AUGMENTS)} (got {self.augment!r})")
        _require(self.lr_schedule in LR_SCHEDULES, f"LR schedule must be one of {', '.join(LR_SCHEDULES)} (got {self.lr_schedule!r})")
        _require(_finite(self.lr_warmup) and 0 <= self.lr_warmup < 1, f"LR warm-up must be a fraction in [0, 1) (got {self.lr_warmup})")
        _require(_finite(self.weight_decay) and self.weight_decay >= 0, f"weight decay must be a number >= 0 (got {self.weight_decay})")
        _require(self.objective in OBJECTIVES, f"objective must be one of {', '.join(OBJECTIVES)} (got {self.objective!r})")
        _require(isinstance(self.iwae_k, int) and 1 <= self.iwae_k <= 1000, f"IWAE samples must be a whole number from 1 to 1000 (got {self.iwae_k})")
        _require(isinstance(self.binarize, bool), f"binarize must be true or false (got {self.binarize!r})")
        _require(self.logdir is None or (isinstance(self.logdir, str) and self.logdir.strip() != "" and "\0" not in self.logdir),
                 f"the TensorBoard folder must be a folder name (got {self.logdir!r})")
        _require(
            self.objective == "elbo" or (self.free_bits == 0 and self.capacity is None),
            "the IWAE objective cannot be combined with free bits or a capacity target",
        )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "TrainConfig":
        return _from_dict(cls, d)

    def replace(self, **changes: Any) -> "TrainConfig":
        return dataclasses.replace(self, **changes)


AUGMENT_AUTO_MAX = 20_000  # training images; larger sets gain little from augmentation in a short run


def resolved_augment(augment: str, n_train: int) -> str:
    if augment != "auto":
        return augment
    return "light" if n_train < AUGMENT_AUTO_MAX else "none"


# images a run sees when no epoch count is given: on the digits that is 89 epochs, which take
# less than twice the wall time of the tutorial loop's 50 (measured side by side)
AUTO_EPOCH_IMAGES = 400_000


def auto_epochs(n_train: int) -> int:
    """Epochs for about 400k training images: 89 on the 4,500 digits, 10 on MNIST's 60,000."""
    return int(min(200, max(10, round(AUTO_EPOCH_IMAGES / max(1, n_train)))))


# training images of each built-in set, known before it is read or downloaded (the digits' count
# is checked against the embedded file by a test)
BUILTIN_TRAIN_IMAGES = {"digits": 4500, "mnist": 60_000, "fashion-mnist": 60_000, "kmnist": 60_000, "cifar10": 50_000}


def default_epochs(dataset: str) -> int | None:
    """``auto_epochs`` of a built-in set; None for a folder, whose size is known once it is read."""
    n = BUILTIN_TRAIN_IMAGES.get(dataset)
    return None if n is None else auto_epochs(n)


def likelihood_label(likelihood: str, binarize: bool = False) -> str:
    """What a reported -ELBO is measured against: figures are comparable only under one label."""
    if binarize:
        return f"{likelihood}-binarized"
    return likelihood


def _from_dict(cls, d: Mapping[str, Any]):
    if not isinstance(d, Mapping):
        raise ConfigError(f"{cls.__name__} must be a mapping, got {type(d).__name__}")
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = set(d) - names
    if unknown:
        raise ConfigError(f"unknown {cls.__name__} settings: {', '.join(sorted(map(str, unknown)))}")
    try:
        return cls(**dict(d))
    except TypeError as exc:  # wrong types that comparisons choke on
        raise ConfigError(f"invalid {cls.__name__}: {exc}") from None


