"""The settings of a run, each declared once: type, default, range, unit, choices and help.

``RunSettings`` is what a person chooses for a run (the control panel's form, the settings file,
``vae-studio train``'s options). Each field carries a :class:`Setting` in its metadata; the CLI's
argparse options, the window's widgets and their ranges, the settings file and the checkpoint
round trip are all derived from it, and :func:`problems` holds the rules that tie settings
together. It becomes the engine's two frozen configs with ``model_config`` and ``train_config``.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Mapping

from . import config as C
from .errors import ConfigError

BUILTIN_DATASETS = ("digits", "mnist", "fashion-mnist", "kmnist", "cifar10")
VARIANT_NAMES = {"vanilla": "Vanilla VAE", "conditional": "Conditional VAE", "beta": "β-VAE"}
SAME = "same as the window"  # a Setting's cli_default when the command line uses the window's default
BETA_VARIANT_DEFAULT = 4.0  # what the β panel and `--variant beta` start from
# the β panel's latent size, as in Higgins et al.: with 2 dimensions there is nothing for β to
# prune; at 10, β = 4 leaves 6 of them active where β = 1 keeps all 10 (scripts/quality_evidence.py)
BETA_VARIANT_LATENT = 10
# each variant's starting prior (measured, README): the learned mixture for the vanilla VAE; N(0, I) for β
# (under the mixture β = 4 kept all 10 dimensions active) and for the conditional VAE (the same -ELBO,
# and its prior samples stay readable: 76% of the worst class against 44%)
VARIANT_PRIORS = {"vanilla": "mixture", "conditional": "standard", "beta": "standard"}


@dataclass(frozen=True)
class Setting:
    """How one setting is typed, bounded, explained and shown; ``RunSettings`` fields carry one."""

    label: str  # the form's label
    help: str  # tooltip and --help text
    group: str  # the form's box: data, model, beta, kl, training, device
    kind: type = float
    lo: float | None = None
    hi: float | None = None
    choices: tuple[str, ...] = ()
    choice_labels: Mapping[str, str] = field(default_factory=dict)
    unit: str = ""
    decimals: int = 2
    step: float = 1.0
    log_scale: bool = False  # spin boxes step by factors (learning rates)
    shapes_model: bool = False  # fixed once a model exists
    optional: bool = False  # None means "off" (a check box in the form; the option left out on the command line)
    cli: bool = True  # an option of `vae-studio train`
    form: bool = True  # a field of the window's control panel
    cli_default: Any = SAME  # where the command line's default differs from the window's
    metavar: str | None = None
    example: str = "400 or 512,256"  # a list setting's example values, for its error messages
    items: str = "sizes"  # what a list setting's items are called
    placeholder: str = ""  # an optional text setting's value when switched on in the form with nothing typed

    def check(self, name: str, value: Any) -> Any:
        """``value`` as this setting's type, or ConfigError naming the setting and its range."""
        if value is None and self.optional:
            return None
        what = self.label.lower()
        if self.kind is tuple:
            try:
                items = tuple(int(v) for v in (value.split(",") if isinstance(value, str) else value) if str(v).strip())
            except (TypeError, ValueError):
                raise ConfigError(f"{what} takes whole numbers like {self.example} (got {value!r})") from None
            if not items and self.optional:
                return None  # an empty list of an optional setting: off
            if not items or len(items) > 64 or any(not (self.lo <= v <= self.hi) for v in items):
                raise ConfigError(f"{what} must be 1 to 64 {self.items} of {int(self.lo)} to {int(self.hi)} each (got {str(value)[:40]!r})")
            return items
        if self.choices:
            if value not in self.choices:
                raise ConfigError(f"{what} must be one of {', '.join(self.choices)} (got {value!r})")
            return value
        if self.kind is str:
            if not isinstance(value, str) or not value.strip() or "\0" in value:
                raise ConfigError(f"{what} must be a non-empty text (got {value!r})")
            return value
        if self.kind is bool:
            if not isinstance(value, bool):
                raise ConfigError(f"{what} must be true or false (got {value!r})")
            return value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{what} must be a number (got {value!r})")
        if self.kind is int and (not float(value).is_integer() if isinstance(value, float) else False):
            raise ConfigError(f"{what} must be a whole number (got {value!r})")
        if not math.isfinite(value):
            raise ConfigError(f"{what} must be finite (got {value!r})")
        if (self.lo is not None and value < self.lo) or (self.hi is not None and value > self.hi):
            raise ConfigError(f"{what} must be between {_num(self.lo)} and {_num(self.hi)}{self.unit_text} (got {_num(value)})")
        return self.kind(value)

    def clamp(self, value: Any) -> Any:
        """The nearest allowed value of a number (a settings file from elsewhere)."""
        if self.lo is not None:
            value = max(self.lo, value)
        if self.hi is not None:
            value = min(self.hi, value)
        return self.kind(value)

    @property
    def unit_text(self) -> str:
        return f" {self.unit}" if self.unit else ""


def _num(x: float | None) -> str:
    return "–" if x is None else f"{x:,g}" if abs(x) < 1e6 else f"{x:.3g}"


def setting(default: Any, **kw: Any):
    return field(default=default, metadata={"setting": Setting(**kw)})


@dataclass(frozen=True)
class RunSettings:
    dataset: str = setting(
        "digits", label="Dataset", group="data", kind=str, shapes_model=True, metavar="NAME|PATH",
        help="The images to learn from: digits (built in, 5k MNIST digits, no download), mnist, fashion-mnist, "
        "kmnist and cifar10 (fetched once), or a folder: of PNG/JPEG/BMP images, one subfolder per class (or none, "
        "for unlabelled images), or of MNIST-format IDX files (train-*/t10k-*).",
    )
    image_size: str = setting(
        "auto", label="Image size", group="data", kind=str, choices=("auto", "28", "32", "64"), shapes_model=True,
        choice_labels={"auto": "Auto", "28": "28 × 28", "32": "32 × 32", "64": "64 × 64"},
        help="The square size in pixels every image is centre-cropped and resized to. Auto: a built-in set's or IDX "
        "folder's own size (MNIST 28, CIFAR-10 32); for a folder of pictures 28 if grey, 32 if colour.",
    )
    channels: str = setting(
        "auto", label="Colour", group="data", kind=str, choices=("auto", "1", "3"), shapes_model=True,
        choice_labels={"auto": "Auto", "1": "Grey", "3": "Colour (RGB)"},
        help="Grey (1 channel) or colour (3 channels, RGB). Auto: grey when every image is stored as greyscale, "
        "else colour. Colour images made grey keep their luminance.",
    )
    classes: tuple | None = setting(
        None, label="Classes", group="data", kind=tuple, lo=0, hi=255, optional=True, shapes_model=True,
        metavar="C[,C...]", example="0 or 0,1,2", items="labels",
        help="Train on these classes only (labels, comma-separated, e.g. 0,1,2); empty: every class. Labels keep "
        "the dataset's numbering, so a class left out can be scored as the anomaly.",
    )
    variant: str = setting(
        "vanilla", label="Variant", group="model", kind=str, choices=C.VARIANTS, shapes_model=True,
        choice_labels={"vanilla": "Vanilla", "conditional": "Conditional", "beta": "β"},
        help="Vanilla learns p(x|z); conditional also gives the class label to encoder and decoder, so z only has "
        "to hold the style; β weights the KL term by β to trade detail for a tidier latent space.",
    )
    latent_dim: int = setting(
        2, label="Latent dims", group="model", kind=int, lo=1, hi=512, shapes_model=True, cli_default=10, metavar="N",
        help="Number of dimensions of z: 2 lets you see the latent space directly; more dimensions reconstruct "
        "better but must be projected to be seen.",
    )
    arch: str = setting(
        "mlp", label="Architecture", group="model", kind=str, choices=C.ARCHS, shapes_model=True,
        choice_labels={"mlp": "MLP", "conv": "Convolutional", "resnet": "Residual conv"},
        help="MLP: fully connected layers, fast on a CPU; conv: convolutional layers that see local strokes, "
        "sharper digits but slower without a GPU; resnet: convolutional with residual blocks and SiLU.",
    )
    likelihood: str = setting(
        "bernoulli", label="Likelihood", group="model", kind=str, choices=C.LIKELIHOODS, shapes_model=True,
        choice_labels={"bernoulli": "Bernoulli", "gaussian": "Gaussian", "continuous-bernoulli": "Continuous Bernoulli"},
        help="How a decoded image is scored against the real one: Bernoulli treats pixels as ink probabilities "
        "(the usual choice for digits; on grey pixels not a normalised density, so its nats compare only with "
        "other Bernoulli runs); Gaussian uses a squared error with a learned noise level; continuous Bernoulli "
        "is a normalised density on [0, 1] (Loaiza-Ganem & Cunningham 2019).",
    )
    # measured side by side on the digits (scripts/quality_evidence.py, 89 epochs, held-out -ELBO):
    # 512,512 with skip connections 105.1 nats at latent 20 and 144.8 at latent 2, against 106.6 and
    # 155.8 for one layer of 1024, in slightly less time
    hidden: tuple = setting(
        (512, 512), label="Hidden sizes", group="model", kind=tuple, lo=1, hi=8192, shapes_model=True, metavar="H[,H...]",
        help="Sizes of the encoder's hidden layers, comma-separated (e.g. 512,256); the decoder mirrors them. "
        "Wider layers learn more detail but train more slowly.",
    )
    residual: bool = setting(
        True, label="Skip connections", group="model", kind=bool, shapes_model=True,
        help="Hidden layers of equal width add their input back (h + relu(W h)), so a deeper network keeps what "
        "the layer before found and trains like a shallow one. Off: a plain MLP, as in the classic tutorial.",
    )
    # the mixture, measured (README): about 3 nats at latent 10 and 20, the latent-2 map as clean or
    # cleaner (77% 5-NN over 3 seeds); the other variants start elsewhere (VARIANT_PRIORS)
    prior: str = setting(
        "mixture", label="Prior", group="model", kind=str, choices=C.PRIORS, shapes_model=True,
        choice_labels={"standard": "N(0, I)", "mixture": "Learned mixture"},
        help="What the KL term pulls the codes towards: the classic N(0, I), or a mixture of Gaussians learned "
        "with the model, which can take the clusters' shape and charges fewer nats for the same code (about "
        "3 on the digits at latent 10 and 20). The β and conditional variants start with N(0, I): β's push "
        "towards separate factors comes from its independent dimensions, and a conditional model's prior samples "
        "read better under it. Free bits need N(0, I).",
    )
    prior_components: int = setting(
        500, label="Mixture components", group="model", kind=int, lo=2, hi=4096, shapes_model=True, metavar="K",
        help="Number of Gaussians in the learned mixture prior (not used by N(0, I)).",
    )
    beta: float = setting(
        1.0, label="β (KL weight)", group="beta", lo=0.0, hi=1000.0, decimals=2, step=0.5, metavar="B",
        help="Weight of the KL term in the β variant: β > 1 pushes the code towards the prior for smoother, more "
        "disentangled factors at the cost of blurrier reconstructions; β = 1 is the plain ELBO. It can be "
        "changed while training. Default 4 for the β variant; the other variants train with β = 1.",
    )
    # given the label, β = 4's dimensions each move one property and keep the class (quality evidence)
    beta_label: bool = setting(
        True, label="Give the label", group="beta", kind=bool, shapes_model=True,
        help="β variant: give the class label to the encoder and decoder, as the conditional VAE does, so z only "
        "has to hold the style and β splits it into single properties (slant, width, thickness). Off: the "
        "classic β-VAE, whose dimensions then also change which digit is drawn. Needs labelled data.",
    )
    capacity: float | None = setting(
        None, label="Capacity target C", group="beta", lo=0.0, hi=1000.0, decimals=1, unit="nats", optional=True,
        metavar="C",
        help="Burgess et al.'s controlled capacity (β variant): instead of pushing the KL down, the objective is "
        "β·|KL − C|, with the target C raised from 0 over the ramp, so the code takes in information gradually.",
    )
    capacity_epochs: float = setting(
        10.0, label="Ramp", group="beta", lo=0.0, hi=10_000.0, decimals=1, unit="epochs", metavar="E",
        help="Epochs over which the capacity target rises linearly from 0 to C.",
    )
    kl_schedule: str = setting(
        "constant", label="KL schedule", group="kl", kind=str, choices=C.KL_SCHEDULES,
        choice_labels={"constant": "Constant", "linear": "Linear warm-up", "cyclical": "Cyclical"},
        help="How the KL weight moves over training: constant keeps it at 1; linear warm-up ramps it from 0 to 1; "
        "cyclical repeats the ramp, which helps against posterior collapse. On the command line, "
        "--warmup-epochs alone means linear.",
    )
    warmup_epochs: float = setting(
        0.0, label="Warm-up epochs", group="kl", lo=0.0, hi=10_000.0, decimals=1, unit="epochs", metavar="W",
        help="Epochs the KL weight takes to ramp from 0 to 1 (one cycle for the cyclical schedule), so the decoder "
        "learns to use z before the KL term pulls it towards the prior.",
    )
    free_bits: float = setting(
        0.0, label="Free bits", group="kl", lo=0.0, hi=100.0, decimals=2, step=0.05, unit="nats", metavar="L",
        help="A KL floor in nats per latent dimension: dimensions below it are not pushed further towards the "
        "prior, which keeps more of them in use. Needs the N(0, I) prior.",
    )
    objective: str = setting(
        "elbo", label="Objective", group="kl", kind=str, choices=C.OBJECTIVES,
        choice_labels={"elbo": "ELBO", "iwae": "IWAE-k"},
        help="ELBO: the VAE's usual bound; IWAE: the importance-weighted bound with k samples per image "
        "(Burda et al. 2015), tighter, and slower by about k.",
    )
    iwae_k: int = setting(
        5, label="IWAE samples k", group="kl", kind=int, lo=1, hi=1000, metavar="K",
        help="Samples per image for the IWAE objective.",
    )
    binarize: bool = setting(
        False, label="Binarise pixels", group="kl", kind=bool,
        help="Train and validate on pixels drawn as 0/1 with their grey level as probability (dynamic "
        "binarisation), the setting the literature's likelihoods are reported in.",
    )
    epochs: int = setting(
        C.default_epochs("digits"), label="Epochs", group="training", kind=int, lo=1, hi=100_000, metavar="E",
        help="How many passes over the training set to make in total (a continued run trains up to this count). "
        "Default: about 400,000 images' worth, 89 epochs of the built-in digits (the latent-2 map's 5-NN accuracy "
        "77%, against 63% after 20), 10 of MNIST's 60,000.",
    )
    batch_size: int = setting(
        128, label="Batch size", group="training", kind=int, lo=1, hi=65_536, metavar="B",
        help="Images per gradient step: larger batches give smoother, faster steps per image but fewer updates "
        "per epoch.",
    )
    # 3e-3: 101.8 nats at latent 20 with the mixture prior (3 seeds) against 102.2 at 2e-3, 103.1 at
    # 1.5e-3 and 102.4 at 4e-3; N(0, I) 104.9 against 105.1; the latent-2 map the same within its noise
    lr: float = setting(
        3e-3, label="Learning rate", group="training", lo=1e-7, hi=1e7, log_scale=True, metavar="LR",
        help="Adam's peak step size (the schedule moves it): too low learns slowly, too high makes the loss jump "
        "or become non-finite.",
    )
    lr_schedule: str = setting(
        "cosine", label="LR schedule", group="training", kind=str, choices=C.LR_SCHEDULES,
        choice_labels={"constant": "Constant", "cosine": "Cosine", "onecycle": "One-cycle"},
        help="How the learning rate moves over the planned epochs: cosine warms up briefly, then decays to 0 so "
        "the last epochs settle; one-cycle rises then falls (Smith); constant keeps it fixed.",
    )
    weight_decay: float = setting(
        0.0, label="Weight decay", group="training", lo=0.0, hi=1.0, decimals=4, step=0.01, metavar="WD",
        help="Decoupled (AdamW) weight decay: shrinks the weights a little every step.",
    )
    augment: str = setting(
        "auto", label="Augmentation", group="training", kind=str, choices=C.AUGMENTS,
        choice_labels={"auto": "Auto", "none": "None", "light": "Light", "strong": "Strong"},
        help="Random sub-pixel shifts, small rotations and scaling of each batch, on the device: more to learn "
        "from a small image set. Auto: light below 20,000 training images.",
    )
    seed: int = setting(
        0, label="Seed", group="training", kind=int, lo=0, hi=2**31 - 1, metavar="S",
        help="Seed for the initial weights and batch order: the same seed and settings give the same run.",
    )
    device: str = setting(
        "auto", label="Device", group="device", kind=str, choices=C.DEVICES,
        choice_labels={"auto": "Auto", "cpu": "CPU", "cuda": "CUDA"},
        help="Where training runs: auto uses a CUDA GPU when there is one, otherwise the CPU.",
    )
    logdir: str | None = setting(
        None, label="Log to TensorBoard", group="training", kind=str, optional=True, metavar="DIR",
        placeholder="~/vae-studio-runs",
        help="Write TensorBoard event files: the loss curves, every epoch a grid of reconstructions and prior "
        "samples, and at the end the held-out codes with their images for the Projector. Each run gets a folder "
        "of its own in DIR; view them with `tensorboard --logdir DIR`. Needs the tensorboard package "
        "(pip install tensorboard).",
    )
    precision: str = setting(
        "auto", label="Precision", group="device", kind=str, choices=C.PRECISIONS, form=False,
        help="auto: bf16 matrix products where the hardware runs them natively (CUDA, AVX-512 BF16 / AMX CPUs), "
        "else fp32.",
    )

    def __post_init__(self) -> None:
        for name, spec in SCHEMA.items():
            object.__setattr__(self, name, spec.check(name, getattr(self, name)))

    # -- derived ----------------------------------------------------------------------------
    def replace(self, **changes: Any) -> "RunSettings":
        return dataclasses.replace(self, **changes)

    def effective_beta(self) -> float:
        """The KL weight this variant trains with: β only in the β variant, 1 otherwise."""
        return self.beta if self.variant == "beta" else 1.0

    def capacity_target(self) -> float | None:
        return self.capacity if self.variant == "beta" else None

    def image_format(self) -> tuple[int | None, int | None]:
        """(size, channels) to load the dataset with; None where the data decides."""
        return tuple(None if v == "auto" else int(v) for v in (self.image_size, self.channels))

    def model_config(self, image_shape=(1, 28, 28), num_classes: int = 10) -> C.ModelConfig:
        return C.ModelConfig(variant=self.variant, arch=self.arch, latent_dim=self.latent_dim, hidden=self.hidden,
                             residual=self.residual, prior=self.prior, prior_components=self.prior_components,
                             label_given=self.variant == "beta" and self.beta_label, image_shape=tuple(image_shape),
                             num_classes=num_classes, likelihood=self.likelihood)

    def train_config(self) -> C.TrainConfig:
        problem = next(iter(problems(self)), None)
        if problem:
            raise ConfigError(problem)
        return C.TrainConfig(
            epochs=self.epochs, batch_size=self.batch_size, lr=self.lr, beta=self.effective_beta(),
            kl_schedule=self.kl_schedule, warmup_epochs=self.warmup_epochs if self.kl_schedule != "constant" else 0.0,
            free_bits=self.free_bits, capacity=self.capacity_target(), capacity_epochs=self.capacity_epochs,
            seed=self.seed, device=self.device, precision=self.precision, augment=self.augment,
            lr_schedule=self.lr_schedule, weight_decay=self.weight_decay, objective=self.objective,
            iwae_k=self.iwae_k, binarize=self.binarize, classes=self.classes, logdir=self.logdir,
        )

    @classmethod
    def from_configs(cls, model: C.ModelConfig, train: C.TrainConfig, dataset: str) -> "RunSettings":
        """The settings a checkpoint's two configs were made from."""
        c, h, w = model.image_shape
        return cls(
            dataset=str(dataset), variant=model.variant,
            image_size=str(h) if h == w and str(h) in SCHEMA["image_size"].choices else "auto",
            channels=str(c) if str(c) in SCHEMA["channels"].choices else "auto", arch=model.arch, likelihood=model.likelihood,
            latent_dim=model.latent_dim, hidden=tuple(model.hidden), residual=model.residual, prior=model.prior,
            prior_components=model.prior_components, epochs=train.epochs,
            **({"beta_label": model.label_given} if model.variant == "beta" else {}),
            batch_size=min(train.batch_size, SCHEMA["batch_size"].hi), lr=SCHEMA["lr"].clamp(train.lr),
            beta=SCHEMA["beta"].clamp(train.beta), kl_schedule=train.kl_schedule,
            warmup_epochs=SCHEMA["warmup_epochs"].clamp(train.warmup_epochs),
            free_bits=SCHEMA["free_bits"].clamp(train.free_bits),
            capacity=None if train.capacity is None else SCHEMA["capacity"].clamp(train.capacity),
            capacity_epochs=SCHEMA["capacity_epochs"].clamp(train.capacity_epochs),
            seed=min(train.seed, SCHEMA["seed"].hi), device=train.device, precision=train.precision,
            augment=train.augment, lr_schedule=train.lr_schedule, weight_decay=SCHEMA["weight_decay"].clamp(train.weight_decay),
            objective=train.objective, iwae_k=train.iwae_k, binarize=train.binarize, classes=train.classes, logdir=train.logdir,
        )

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["hidden"] = list(self.hidden)
        d["classes"] = None if self.classes is None else list(self.classes)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> tuple["RunSettings", list[str]]:
        """Settings from outside (a settings file): each value checked against its declaration; a
        number out of range is clamped, anything else unusable falls back to the default. Returns
        the settings and one note per value that was changed."""
        notes: list[str] = []
        values: dict[str, Any] = {}
        if not isinstance(d, Mapping):
            return cls(), ["the saved settings were unreadable; the defaults are used"]
        for name, spec in SCHEMA.items():
            if name not in d:
                continue
            raw = d[name]
            try:
                values[name] = spec.check(name, raw)
                continue
            except ConfigError:
                pass
            number = isinstance(raw, (int, float)) and not isinstance(raw, bool) and not math.isnan(raw)
            if number and spec.kind in (int, float) and not spec.choices:
                values[name] = spec.clamp(raw)
                notes.append(f"{spec.label.lower()} {_num(raw)} is outside {_num(spec.lo)}–{_num(spec.hi)}; "
                             f"using {_num(values[name])}")
            else:
                notes.append(f"{spec.label.lower()} {raw!r} is not usable; using the default")
        return cls(**values), notes

    def cli_args(self) -> list[str]:
        """The ``vae-studio train`` options that give these settings (the inverse of :func:`cli_settings.from_cli`)."""
        args = []
        for name, spec in SCHEMA.items():
            value = getattr(self, name)
            if not spec.cli or value is None or (spec.group == "beta" and self.variant != "beta"):
                continue
            flag = "--" + name.replace("_", "-")
            if isinstance(value, bool):  # a switch: --flag or --no-flag, whatever the default
                args.append(flag if value else "--no-" + flag[2:])
                continue
            text = ",".join(map(str, value)) if isinstance(value, tuple) else repr(value) if isinstance(value, float) else str(value)
            args += [flag, text]
        return args

    def describe(self) -> str:
        """A short name for the run list, e.g. "β-VAE β=4 · 2-D · MLP"."""
        if self.variant == "beta":
            head = f"β-VAE β={self.beta:g}" + (f" C={self.capacity:g}" if self.capacity is not None else "")
            head += "" if self.beta_label else " without labels"
        else:
            head = VARIANT_NAMES[self.variant]
        extra = [f"{self.latent_dim}-D", "MLP" if self.arch == "mlp" else "conv"]
        if self.prior != VARIANT_PRIORS.get(self.variant):  # named where it is not the variant's own
            extra.append("learned prior" if self.prior == "mixture" else "N(0, I) prior")
        if self.kl_schedule != "constant":
            extra.append(f"{self.kl_schedule} KL")
        if self.free_bits > 0:
            extra.append(f"λ={self.free_bits:g}")
        if self.classes is not None:
            extra.append("classes " + ",".join(map(str, self.classes)))
        return " · ".join([head, *extra])


SCHEMA: dict[str, Setting] = {f.name: f.metadata["setting"] for f in dataclasses.fields(RunSettings)}
MODEL_SETTINGS = tuple(name for name, s in SCHEMA.items() if s.shapes_model)


def problems(s: RunSettings) -> list[str]:
    """The rules that tie settings together, as sentences; empty when the settings can train."""
    out = []
    if s.kl_schedule == "cyclical" and s.warmup_epochs <= 0:
        out.append("the cyclical KL schedule needs a cycle length: set warm-up epochs above 0")
    if s.kl_schedule == "linear" and s.warmup_epochs <= 0:
        out.append("a linear KL warm-up needs warm-up epochs above 0")
    if s.objective == "iwae" and (s.free_bits > 0 or (s.variant == "beta" and s.capacity is not None)):
        out.append("the IWAE objective cannot be combined with free bits or a capacity target")
    if s.prior == "mixture" and s.free_bits > 0:
        out.append("free bits need the N(0, I) prior: a mixture's KL does not split by dimension")
    return out
