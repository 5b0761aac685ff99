"""Command line: no sub-command opens the window; train / evaluate / sample run the core headless.

Every bad argument ends in one line on stderr and exit status 2; a failure during the work (a
dataset that cannot be read, a non-finite loss) in one line and status 1 or 2. Never a traceback,
unless VAE_STUDIO_DEBUG is set.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

from . import __version__

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, not argparse's usage block
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _number(kind, name: str, lo=None, hi=None, lo_open=False):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be {'a whole number' if kind is int else 'a number'}, not {text!r}") from None
        if isinstance(value, float) and not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{name} must be finite, not {text!r}")
        if lo is not None and (value <= lo if lo_open else value < lo):
            raise argparse.ArgumentTypeError(f"{name} must be {'>' if lo_open else '>='} {lo} (got {text})")
        if hi is not None and value > hi:
            raise argparse.ArgumentTypeError(f"{name} must be <= {hi} (got {text})")
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
            except ValueError:
                raise argparse.ArgumentTypeError(f"{flag} must be {'a whole number' if spec.kind is int else 'a number'}, not {text!r}") from None
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
    kw = {"choices": spec.choices} if spec.choices else {"type": _setting_type(name), "metavar": spec.metavar or name.upper()}
    p.add_argument("--" + name.replace("_", "-"), default=default, help=text, **kw)


def _add_data_args(p: argparse.ArgumentParser, default: str | None) -> None:
    p.add_argument(
        "--dataset", default=default, metavar="NAME|PATH",
        help="digits (built in, the default), mnist, fashion-mnist, kmnist, or a folder of MNIST-format IDX files"
        + ("" if default else "; default: the dataset the checkpoint was trained on"),
    )
    p.add_argument("--data-dir", metavar="DIR", help="where torchvision datasets are kept and downloaded (default: a per-user cache folder)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="vae-studio", description="Train, watch and explore variational autoencoders. Without a command, opens the window.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="{train,evaluate,sample}", parser_class=_Parser)

    t = sub.add_parser("train", help="train a model headless and write a checkpoint")
    from .core.settings import SCHEMA

    for name, spec in SCHEMA.items():
        if spec.cli:
            _add_setting(t, name)
    t.add_argument("--data-dir", metavar="DIR", help="where torchvision datasets are kept and downloaded (default: a per-user cache folder)")
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
    s.add_argument("--out", type=Path, required=True, metavar="FILE", help=".png for an image grid, .npy for an (N, H, W) array in [0, 1]")
    s.add_argument("--n", type=_number(int, "--n", 1, 100_000), default=64)
    s.add_argument("--label", type=_number(int, "--label", 0), help="class to generate; required for conditional models")
    _add_setting(s, "seed", default=0)
    _add_setting(s, "device", default="cpu")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command is None:
            return _gui()
        return {"train": _train, "evaluate": _evaluate, "sample": _sample}[args.command](args)
    except KeyboardInterrupt:
        print("vae-studio: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        from .core.errors import VaeStudioError

        if os.environ.get("VAE_STUDIO_DEBUG"):
            raise
        if isinstance(exc, VaeStudioError):
            print(f"vae-studio: error: {exc}", file=sys.stderr)
            return exc.exit_code
        print(f"vae-studio: internal error: {type(exc).__name__}: {exc} (set VAE_STUDIO_DEBUG=1 for details)", file=sys.stderr)
        return 1


def _gui() -> int:
    try:
        from .gui.app import run_app
    except ImportError as exc:
        print(
            f"vae-studio: error: the window needs Qt, which could not be loaded ({exc}); "
            "the headless commands (train, evaluate, sample) still work",
            file=sys.stderr,
        )
        return 1
    return run_app()


# -- train ---------------------------------------------------------------------------------------
class _ProgressLine:
    """A one-line progress bar on a terminal; one line per epoch when output is a file or pipe."""

    def __init__(self, stream, epochs: int):
        self.stream = stream
        self.tty = stream.isatty()
        self.epochs = epochs
        self.last = None

    def update(self, p) -> None:
        self.last = p
        if self.tty:
            self._draw(p, end="")

    def epoch_done(self, v) -> None:
        if self.tty:
            self.stream.write("\r\x1b[K")
        p = self.last
        rate = f"  {p.samples_per_s:,.0f} img/s" if p else ""
        self.stream.write(
            f"epoch {v.epoch:>{len(str(self.epochs))}}/{self.epochs}  train -ELBO {v.train_recon + v.train_kl:8.2f}"
            f"  val -ELBO {v.neg_elbo:8.2f} (recon {v.recon:.2f}, KL {v.kl:.2f}){rate}\n"
        )
        self.stream.flush()

    def _draw(self, p, end: str) -> None:
        width = 24
        frac = min(1.0, p.epoch / max(1, p.epochs))
        bar = "#" * int(frac * width) + "-" * (width - int(frac * width))
        eta = "--:--" if not math.isfinite(p.eta) else time.strftime("%M:%S", time.gmtime(p.eta)) if p.eta < 3600 else f"{p.eta / 3600:.1f} h"
        self.stream.write(
            f"\r\x1b[K[{bar}] {frac:4.0%}  -ELBO {p.neg_elbo:8.2f} (recon {p.recon:.2f}, KL {p.kl:.2f})"
            f"  {p.samples_per_s:,.0f} img/s  ETA {eta}{end}"
        )
        self.stream.flush()

    def close(self) -> None:
        if self.tty:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


def _train(args) -> int:
    import signal

    from .core import Trainer, load_dataset, make_bundle, save_checkpoint
    from .core.settings import from_cli
    from .core.device import describe_device
    from .core.errors import ConfigError, TrainingError
    from .core.trainer import Validation

    settings = from_cli(vars(args))
    train_cfg = settings.train_config()
    out = args.out or Path(f"vae-{settings.variant}.pt")
    if out.is_dir() or not out.resolve().parent.is_dir():
        raise ConfigError(f"--out {out}: give a file name in an existing folder")
    dataset = load_dataset(settings.dataset, args.data_dir)
    model_cfg = settings.model_config(dataset.image_shape, dataset.num_classes)
    trainer = Trainer(model_cfg, train_cfg, dataset)
    log = sys.stderr if args.json else sys.stdout
    print(
        f"training a {settings.variant} VAE ({settings.arch}, latent {settings.latent_dim}) on {dataset.name}: "
        f"{len(dataset.train):,} training / {len(dataset.test):,} held-out images, {describe_device(trainer.device)}"
        f"{', bf16' if trainer.bf16 else ''}",
        file=log,
    )
    bar = _ProgressLine(sys.stderr, train_cfg.epochs)
    previous = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, lambda *_: trainer.stop())  # Ctrl-C: finish the step, save, exit
    error: TrainingError | None = None
    last_val = None
    try:
        for msg in trainer.run():
            if isinstance(msg, Validation):
                last_val = msg
                bar.epoch_done(msg)
            elif hasattr(msg, "samples_per_s"):
                bar.update(msg)
    except TrainingError as exc:
        error = exc
    finally:
        signal.signal(signal.SIGINT, previous)
        bar.close()
    save_checkpoint(out, make_bundle(trainer))
    if error is not None:
        print(f"vae-studio: error: {error}; the last good weights were saved to {out}", file=sys.stderr)
        return 1
    recon, kl, _ = trainer.validate() if last_val is None or last_val.step != trainer.step else (last_val.recon, last_val.kl, None)
    summary = {
        "epochs": trainer.epoch,
        "steps": trainer.step,
        "train_seconds": round(trainer.elapsed, 3),
        "samples_per_s": round(trainer.samples_seen / trainer.elapsed, 1) if trainer.elapsed > 0 else 0.0,
        "neg_elbo": recon + kl,
        "recon": recon,
        "kl": kl,
        "device": str(trainer.device),
        "precision": "bf16" if trainer.bf16 else "fp32",
        "dataset": dataset.name,
        "checkpoint": str(out),
        "stopped_early": trainer.stopping,
    }
    print(f"validation -ELBO {recon + kl:.2f} nats (recon {recon:.2f}, KL {kl:.2f}); {summary['samples_per_s']:,.0f} img/s; saved {out}", file=log)
    if args.json:
        print(json.dumps(summary))
    return 130 if trainer.stopping else 0


# -- evaluate ------------------------------------------------------------------------------------
def _evaluate(args) -> int:
    from .core import evaluate, load_checkpoint, load_dataset, resolve_device

    bundle = load_checkpoint(args.checkpoint)
    device = resolve_device(args.device)
    dataset = load_dataset(args.dataset or bundle["dataset"], args.data_dir)
    model = bundle["_model"].to(device)
    if tuple(dataset.image_shape) != tuple(model.cfg.image_shape):
        from .core.errors import DataError

        raise DataError(f"{dataset.name} has {dataset.image_shape} images but the model expects {model.cfg.image_shape}")
    split = dataset.split(args.split)
    result = evaluate(model, split, device, iwae_samples=args.iwae_samples, seed=args.seed)
    d = {"checkpoint": str(args.checkpoint), "dataset": dataset.name, "split": args.split, **result.to_dict()}
    if args.json:
        print(json.dumps(d))
        return 0
    print(f"{args.checkpoint} on {dataset.name} ({args.split}, {len(split):,} images)")
    print(f"  -ELBO        {result.neg_elbo:10.3f} nats per image")
    print(f"  recon        {result.recon:10.3f}")
    print(f"  KL           {result.kl:10.3f}")
    if result.nll_iwae is not None:
        print(f"  NLL (IWAE)   {result.nll_iwae:10.3f}   k = {result.iwae_samples}")
    print(f"  active units {result.active_units:4d} of {len(result.kl_per_dim)}")
    print("  KL per dim   " + " ".join(f"{v:.2f}" for v in result.kl_per_dim))
    return 0


# -- sample --------------------------------------------------------------------------------------
def _sample(args) -> int:
    import numpy as np
    import torch

    from .core import load_checkpoint, resolve_device
    from .core.atomic import atomic_write
    from .core.errors import ConfigError

    suffix = args.out.suffix.lower()
    if suffix not in (".png", ".npy"):
        raise ConfigError(f"--out must end in .png (image grid) or .npy (array), not {args.out.name!r}")
    if not args.out.resolve().parent.is_dir():
        raise ConfigError(f"--out {args.out}: the folder does not exist")
    bundle = load_checkpoint(args.checkpoint)
    model = bundle["_model"]
    cfg = model.cfg
    if cfg.conditional and args.label is None:
        raise ConfigError(f"this is a conditional model: give --label (0 to {cfg.num_classes - 1}) to choose the class")
    if not cfg.conditional and args.label is not None:
        raise ConfigError(f"--label only applies to conditional models; this one is {cfg.variant}")
    if args.label is not None and args.label >= cfg.num_classes:
        raise ConfigError(f"--label must be between 0 and {cfg.num_classes - 1} (got {args.label})")
    device = resolve_device(args.device)
    model = model.to(device)
    gen = torch.Generator().manual_seed(args.seed)
    z = torch.randn(args.n, cfg.latent_dim, generator=gen).to(device)
    y = None if args.label is None else torch.full((args.n,), args.label, dtype=torch.long, device=device)
    images = model.decode_mean(z, y).cpu()
    with atomic_write(args.out) as f:
        if suffix == ".npy":
            np.save(f, images[:, 0].numpy().astype(np.float32))
        else:
            from torchvision.utils import save_image

            save_image(images, f, nrow=max(1, int(math.ceil(math.sqrt(args.n)))), padding=2, pad_value=0.5, format="png")
    print(f"wrote {args.n} samples to {args.out}")
    return 0
