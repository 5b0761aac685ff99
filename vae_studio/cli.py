"""Command line: no sub-command opens the window; train / evaluate / sample run the core headless.

Every bad argument ends in one line on stderr and exit status 2; a failure during the work (a
dataset that cannot be read, a non-finite loss) in one line and status 1 or 2. Never a traceback,
unless VAE_STUDIO_DEBUG is set: an error nobody foresaw is one line too, and its traceback goes
to the log file that line names.

Numbers are bounded here, at the edge, to what the engine can hold: a value that passed argparse
but overflowed later inside PyTorch or NumPy would surface as an internal error, or as a long run
that fails at its first step.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path

from . import __version__

EXIT_USAGE = 2
MAX_SEED = 2**63 - 1  # what TrainConfig and torch.Generator.manual_seed accept
MAX_EPOCHS = 100_000
MAX_BATCH = 1_000_000
MAX_PNG_SAMPLES = 10_000  # a 100 x 100 grid; beyond it the image itself needs gigabytes
# modules under vae_studio/ that define add_commands(subparsers): one per family of commands
EXTRA_COMMAND_MODULES: tuple[str, ...] = ("cli_apps", "cli_generate")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, not argparse's usage block
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _number(kind, name: str, lo=None, hi=None, lo_open=False):
    def parse(text: str):
        shown = repr(text) if len(text) <= 40 else repr(text[:37] + "...")
        try:
            value = kind(text)
        except (ValueError, OverflowError):
            raise argparse.ArgumentTypeError(f"{name} must be {'a whole number' if kind is int else 'a number'}, not {shown}") from None
        if isinstance(value, float) and not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{name} must be finite, not {shown}")
        if lo is not None and (value <= lo if lo_open else value < lo):
            raise argparse.ArgumentTypeError(f"{name} must be {'>' if lo_open else '>='} {lo} (got {shown.strip(chr(39))})")
        if hi is not None and value > hi:
            raise argparse.ArgumentTypeError(f"{name} must be <= {hi:,} (got {shown.strip(chr(39))})")
        return value

    return parse


def _setting_type(name: str):
    """An argparse type that checks a value against the setting's one declaration."""
    from .core.errors import ConfigError
    from .core.settings import SCHEMA

    spec = SCHEMA[name]
    flag = "--" + name.replace("_", "-")

    def parse(text: str):
        value: object = text
        if spec.kind in (int, float):
            try:
                value = spec.kind(text)
            except (ValueError, OverflowError):
                shown = repr(text) if len(text) <= 40 else repr(text[:37] + "...")
                raise argparse.ArgumentTypeError(f"{flag} must be {'a whole number' if spec.kind is int else 'a number'}, not {shown}") from None
        try:
            return spec.check(name, value)
        except ConfigError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return parse


def _add_setting(p: argparse.ArgumentParser, name: str, default=None, help_default=True) -> None:
    """One option of ``RunSettings``, with its type, range, choices and help from the schema."""
    from .core.settings import SAME, SCHEMA, RunSettings

    spec = SCHEMA[name]
    shown = spec.cli_default if spec.cli_default is not SAME else getattr(RunSettings, name, None)
    if default is not None:
        shown = default
    if isinstance(shown, tuple):
        shown = ",".join(map(str, shown))
    text = spec.help.replace("%", "%%")
    if spec.lo is not None and spec.kind in (int, float):
        text += f" [{spec.lo:g} to {spec.hi:g}{spec.unit_text}]"
    if help_default and shown is not None and not spec.optional:
        text += f" (default {shown})"
    if spec.kind is bool:  # --binarize / --no-binarize; left out: None, the default
        p.add_argument("--" + name.replace("_", "-"), default=default, help=text, action=argparse.BooleanOptionalAction)
        return
    kw = {"choices": spec.choices} if spec.choices else {"type": _setting_type(name), "metavar": spec.metavar or name.upper()}
    p.add_argument("--" + name.replace("_", "-"), default=default, help=text, **kw)


def _add_data_args(p: argparse.ArgumentParser, default: str | None) -> None:
    p.add_argument(
        "--dataset", default=default, metavar="NAME|PATH",
        help="digits (built in, the default), mnist, fashion-mnist, kmnist, cifar10, or a folder of images (one "
        "subfolder per class, or none) or of MNIST-format IDX files"
        + ("" if default else "; default: the dataset the checkpoint was trained on"),
    )
    p.add_argument("--data-dir", metavar="DIR", help="where torchvision datasets are kept and downloaded (default: a per-user cache folder)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="vae-studio", description="Train, watch and explore variational autoencoders. Without a command, opens the window.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    t = sub.add_parser("train", help="train a model headless and write a checkpoint")
    from .core.settings import SCHEMA

    for name, spec in SCHEMA.items():
        if spec.cli:
            _add_setting(t, name)
    t.add_argument("--data-dir", metavar="DIR", help="where torchvision datasets are kept and downloaded (default: a per-user cache folder)")
    t.add_argument("--resume", type=Path, metavar="CKPT",
                   help="continue a saved run up to --epochs in total (default: its planned count), with its optimizer state, "
                   "schedule, random state, history and settings; options that shape the model are refused, the learning "
                   "rate, beta and the other training settings may change (--out defaults to CKPT)")
    t.add_argument("--keep", choices=("best", "last"), default="best", help="write the weights of the epoch with the lowest held-out -ELBO (default) or of the last epoch")
    t.add_argument("--out", type=Path, metavar="FILE", help="checkpoint to write (default: vae-VARIANT.pt)")
    t.add_argument("--json", action="store_true", help="end with one JSON line of the validation figures")

    e = sub.add_parser("evaluate", help="held-out -ELBO, IWAE NLL, active units and KL per dimension of a checkpoint")
    e.add_argument("checkpoint", type=Path, metavar="CKPT")
    _add_data_args(e, None)
    _add_setting(e, "device", default="auto")
    e.add_argument("--split", choices=("train", "test"), default="test")
    e.add_argument("--iwae-samples", type=_number(int, "--iwae-samples", 1, 100_000), metavar="K", help="also estimate -log p(x) with K importance samples")
    _add_setting(e, "seed", default=0)
    e.add_argument("--json", action="store_true")

    s = sub.add_parser("sample", help="decode samples from the prior to a PNG grid or an .npy array")
    s.add_argument("checkpoint", type=Path, metavar="CKPT")
    s.add_argument("--out", type=Path, required=True, metavar="FILE",
                   help=".png for an image grid, .npy for an array in [0, 1]: (N, H, W) grey or (N, 3, H, W) colour")
    s.add_argument("--n", type=_number(int, "--n", 1, 100_000), default=64)
    s.add_argument("--label", type=_number(int, "--label", 0, 255), help="class to generate; required for conditional models")
    s.add_argument("--sampler", choices=("prior", "posterior"), default="posterior",
                   help="posterior (default): a Gaussian mixture fitted to the training set's codes (per class for conditional models); prior: the model's prior, N(0, I) or its learned mixture")
    s.add_argument("--temperature", type=_number(float, "--temperature", 0, 100, lo_open=True), default=1.0, metavar="T", help="scales the spread of the draws (default 1)")
    _add_setting(s, "seed", default=0)
    _add_setting(s, "device", default="cpu")
    t.set_defaults(run=_train)
    e.set_defaults(run=_evaluate)
    s.set_defaults(run=_sample)
    # further commands live in their own modules; each adds its parsers with set_defaults(run=...)
    import importlib

    for name in EXTRA_COMMAND_MODULES:
        importlib.import_module(f"{__package__}.{name}").add_commands(sub)
    sub.metavar = "{" + ",".join(sub.choices) + "}"
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        parser = build_parser()  # its options come from the settings schema, in the core
    except (ImportError, OSError) as exc:
        return _report(exc, None)
    args = parser.parse_args(argv)
    try:
        if args.command is None:
            return _gui()
        return args.run(args)
    except KeyboardInterrupt:
        print("vae-studio: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if os.environ.get("VAE_STUDIO_DEBUG"):
            raise
        return _report(exc, args.command)


def _first_line(exc: BaseException, limit: int = 300) -> str:
    lines = str(exc).strip().splitlines()
    text = lines[0] if lines else type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _report(exc: BaseException, command: str | None) -> int:
    """One line on stderr for an exception that ended a command; its exit status."""
    # looked up, never imported: importing the core imports PyTorch, which may be what failed
    errors = sys.modules.get(f"{__package__}.core.errors")
    if errors is not None and isinstance(exc, errors.VaeStudioError):
        print(f"vae-studio: error: {_one_line(str(exc))}", file=sys.stderr)
        return exc.exit_code
    if isinstance(exc, ImportError) or (isinstance(exc, OSError) and ".so" in str(exc)):
        what = "PyTorch" if "torch" in f"{getattr(exc, 'name', '')} {exc}" else "a library VAE Studio needs"
        print(f"vae-studio: error: {what} could not be loaded ({_first_line(exc)}); reinstall it "
              "(pip install --force-reinstall vae-studio)", file=sys.stderr)
        return 1
    from .logfile import report_internal

    _, log = report_internal(exc, f"running vae-studio {command or ''}".rstrip(), echo=False)
    where = f"details in {log}" if log else "set VAE_STUDIO_DEBUG=1 for details"
    print(f"vae-studio: internal error: {type(exc).__name__}: {_first_line(exc)} ({where})", file=sys.stderr)
    return 1


def _one_line(text: str) -> str:
    return " ".join(text.split("\n"))


def _gui() -> int:
    try:
        from .gui.launch import run_app
    except ImportError as exc:
        if not any(q in f"{exc.name} {exc}" for q in ("PySide", "Qt", "pyqtgraph", "superqt")):
            raise  # PyTorch or NumPy: main's handler names it
        print(
            f"vae-studio: error: the window needs Qt, which could not be loaded ({exc}); "
            "the headless commands (train, evaluate, sample, denoise, score, synth) still work",
            file=sys.stderr,
        )
        return 1
    return run_app()


class _LoadLine:
    """Progress while a folder of images decodes: a counter on a terminal, a line at the start
    and one at the end otherwise (a log keeps two lines, not hundreds)."""

    def __init__(self, stream, source: str):
        self.stream, self.source = stream, source
        self.tty = stream.isatty()
        self.t0 = None
        self.total = 0

    def __call__(self, done: int, total: int) -> None:
        import time

        if self.t0 is None:
            self.t0, self.total = time.perf_counter(), total
            if not self.tty:
                self._out(f"reading {total:,} images from {self.source}\n")
        if self.tty:
            self._out(f"\r\x1b[Kreading images from {self.source}: {done:,} / {total:,}")

    def close(self) -> None:
        import time

        if self.t0 is not None:
            self._out(("\r\x1b[K" if self.tty else "") + f"read {self.total:,} images in {time.perf_counter() - self.t0:.1f} s\n")

    def _out(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):
            pass


def load_data(source: str, data_dir=None, image_format=(None, None), image_shape=None):
    """A dataset as the commands load it: progress on stderr while a folder of images decodes,
    then its notes (files skipped). ``image_shape``: load it the way that model takes it."""
    from .core.data import load_dataset, load_for_model

    line = _LoadLine(sys.stderr, source)
    try:
        if image_shape is not None:
            dataset = load_for_model(source, image_shape, data_dir, progress=line)
        else:
            size, channels = image_format
            dataset = load_dataset(source, data_dir, image_size=size, channels=channels, progress=line)
    finally:
        line.close()
    for note in dataset.notes:
        print(f"vae-studio: note: {note}", file=sys.stderr)
    return dataset


def _train(args) -> int:
    from .cli_train import train

    return train(args)


# -- evaluate ------------------------------------------------------------------------------------
def _evaluate(args) -> int:
    from .core import evaluate, load_checkpoint, resolve_device

    bundle = load_checkpoint(args.checkpoint)
    device = resolve_device(args.device)
    dataset = dataset_for(args, bundle)
    model = bundle["_model"].to(device)
    split = dataset.split(args.split)
    result = evaluate(model, split, device, iwae_samples=args.iwae_samples, seed=args.seed,
                      binarize=bundle["train_config"].binarize)
    d = {"checkpoint": str(args.checkpoint), "dataset": dataset.name, "split": args.split, **result.to_dict()}
    if args.json:
        print(json.dumps(d))
        return 0
    print(f"{args.checkpoint} on {dataset.name} ({args.split}, {len(split):,} images)")
    print(f"  likelihood   {result.likelihood:>10}")
    mixture = model.cfg.prior == "mixture"
    print(f"  prior        {'mixture of ' + str(model.cfg.prior_components) if mixture else 'N(0, I)':>10}")
    print(f"  -ELBO        {result.neg_elbo:10.3f} nats per image")
    print(f"  recon        {result.recon:10.3f}")
    print(f"  KL           {result.kl:10.3f}")
    if result.nll_iwae is not None:
        print(f"  NLL (IWAE)   {result.nll_iwae:10.3f}   k = {result.iwae_samples}")
    print(f"  active units {result.active_units:4d} of {len(result.kl_per_dim)}")
    print("  KL per dim   " + " ".join(f"{v:.2f}" for v in result.kl_per_dim)
          + ("   (each to the prior's marginal: they need not add up to the KL)" if mixture else ""))
    return 0


def dataset_for(args, bundle: dict):
    """The dataset a command on a checkpoint reads: ``--dataset``, else the one it was trained on;
    refused with one line when it is gone or its images are not the model's shape."""
    from .core.data import BUILTIN_SOURCES
    from .core.errors import DataError

    source = args.dataset or bundle["dataset"]
    if args.dataset is None and source not in BUILTIN_SOURCES and not _is_dir(Path(source).expanduser()):
        relative = "" if Path(source).is_absolute() else ", a path relative to the folder training ran in"
        raise DataError(f"{args.checkpoint} was trained on the dataset folder {source}{relative}, which is not there "
                        "(moved or deleted?); give its current location with --dataset")
    shape = tuple(bundle["model_config"].image_shape)
    dataset = load_data(source, args.data_dir, image_shape=shape)
    if tuple(dataset.image_shape) != shape:
        raise DataError(f"{dataset.name} has {dataset.image_shape} images but the model expects {shape}")
    return dataset


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:  # a name too long for the file system, say
        return False


# -- sample --------------------------------------------------------------------------------------
def _sample(args) -> int:
    import numpy as np
    import torch

    from .core import load_checkpoint, resolve_device
    from .core.atomic import atomic_write, check_writable
    from .core.errors import ConfigError

    suffix = args.out.suffix.lower()
    if suffix not in (".png", ".npy"):
        raise ConfigError(f"--out must end in .png (image grid) or .npy (array), not {args.out.name!r}")
    if suffix == ".png" and args.n > MAX_PNG_SAMPLES:
        raise ConfigError(f"--n must be <= {MAX_PNG_SAMPLES:,} for a .png grid (got {args.n:,}); write .npy for more")
    check_writable(args.out, "--out")
    bundle = load_checkpoint(args.checkpoint)
    model = bundle["_model"]
    cfg = model.cfg
    if cfg.conditional and args.label is None:
        raise ConfigError(f"this model is given the class label ({cfg.variant}): give --label (0 to {cfg.num_classes - 1}) "
                          "to choose the class")
    if not cfg.conditional and args.label is not None:
        raise ConfigError(f"--label only applies to models given the class label; this one is {cfg.variant} without")
    if args.label is not None and args.label >= cfg.num_classes:
        raise ConfigError(f"--label must be between 0 and {cfg.num_classes - 1} (got {args.label})")
    device = resolve_device(args.device)
    model = model.to(device)
    posterior = None
    if args.sampler == "posterior":
        posterior = _stored_sampler(bundle, args.checkpoint)
        if posterior is None:  # a checkpoint from before samplers were stored: fit one now
            from .core.sampler import fit_posterior_sampler

            dataset = load_data(bundle["dataset"], image_shape=cfg.image_shape)
            posterior = fit_posterior_sampler(model, dataset.train, device, seed=args.seed)
    from .core.sampler import sample_codes

    codes = sample_codes(args.sampler, args.n, cfg.latent_dim, posterior=posterior, label=args.label,
                         temperature=args.temperature, seed=args.seed, prior=model.prior)
    z = torch.as_tensor(codes, dtype=torch.float32).to(device)
    y = None if args.label is None else torch.full((args.n,), args.label, dtype=torch.long, device=device)
    # in chunks: a decoder's hidden layers for 100,000 samples at once could need gigabytes
    images = torch.cat([model.decode_mean(z[i : i + 4096], None if y is None else y[i : i + 4096]).cpu()
                        for i in range(0, args.n, 4096)])
    with atomic_write(args.out) as f:
        if suffix == ".npy":  # (N, H, W) grey, (N, 3, H, W) colour
            np.save(f, (images[:, 0] if images.shape[1] == 1 else images).numpy().astype(np.float32))
        else:
            from torchvision.utils import save_image

            save_image(images, f, nrow=max(1, int(math.ceil(math.sqrt(args.n)))), padding=2, pad_value=0.5, format="png")
    print(f"wrote {args.n} samples ({args.sampler} sampler, temperature {args.temperature:g}) to {args.out}")
    return 0


def _stored_sampler(bundle: dict, path):
    from .core.errors import CheckpointError
    from .core.sampler import PosteriorSampler

    stored = bundle.get("posterior_sampler")
    if stored is None:
        return None
    try:
        sampler = PosteriorSampler.from_dict(stored)
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{path} holds an unreadable posterior sampler ({exc}); use --sampler prior") from None
    if sampler.dim != bundle["model_config"].latent_dim:
        raise CheckpointError(f"{path}: its posterior sampler does not fit the model's latent space; use --sampler prior")
    return sampler
