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


def _hidden(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(p) for p in text.split(",") if p.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"--hidden takes sizes like 400 or 512,256 (got {text!r})") from None
    if not sizes or any(s < 1 for s in sizes):
        raise argparse.ArgumentTypeError(f"--hidden takes positive sizes like 400 or 512,256 (got {text!r})")
    return sizes


def _add_data_args(p: argparse.ArgumentParser, default: str | None) -> None:
    p.add_argument(
        "--dataset", default=default, metavar="NAME|PATH",
        help="digits (built in, the default), mnist, fashion-mnist, kmnist, or a folder of MNIST-format IDX files"
        + ("" if default else "; default: the dataset the checkpoint was trained on"),
    )
    p.add_argument("--data-dir", metavar="DIR", help="where torchvision datasets are kept and downloaded (default: a per-user cache folder)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto", help="auto picks CUDA when present")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="vae-studio", description="Train, watch and explore variational autoencoders. Without a command, opens the window.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="{train,evaluate,sample}", parser_class=_Parser)

    t = sub.add_parser("train", help="train a model headless and write a checkpoint")
    t.add_argument("--variant", choices=("vanilla", "conditional", "beta"), default="vanilla")
    t.add_argument("--beta", type=_number(float, "--beta", lo=0), help="weight of the KL term (default 1; 4 for --variant beta)")
    t.add_argument("--capacity", type=_number(float, "--capacity", lo=0), metavar="C", help="beta variant: target KL in nats the model is pushed towards (Burgess et al.)")
    t.add_argument("--capacity-epochs", type=_number(float, "--capacity-epochs", lo=0), default=10.0, metavar="E", help="epochs over which the capacity target ramps from 0 to C")
    _add_data_args(t, "digits")
    t.add_argument("--arch", choices=("mlp", "conv", "resnet"), default="mlp", help="mlp (default), conv, or resnet: residual conv blocks, SiLU")
    t.add_argument("--likelihood", choices=("bernoulli", "gaussian", "continuous-bernoulli"), default="bernoulli",
                   help="bernoulli (default; cross-entropy on grey pixels), gaussian (learned sigma), continuous-bernoulli (a normalised density on [0, 1])")
    t.add_argument("--latent-dim", type=_number(int, "--latent-dim", 1, 512), default=10, metavar="N")
    t.add_argument("--hidden", type=_hidden, default=(1024,), metavar="H[,H...]", help="hidden layer sizes (default 1024)")
    t.add_argument("--epochs", type=_number(int, "--epochs", 1), metavar="E", help="default: about 400,000 images' worth (89 epochs of the digits, 10 of MNIST)")
    t.add_argument("--batch-size", type=_number(int, "--batch-size", 1), default=128, metavar="B")
    t.add_argument("--lr", type=_number(float, "--lr", 0, lo_open=True), default=2e-3, metavar="LR", help="peak learning rate (default 2e-3)")
    t.add_argument("--kl-schedule", choices=("constant", "linear", "cyclical"), help="constant (default), linear warm-up, or cyclical; --warmup-epochs alone means linear")
    t.add_argument("--warmup-epochs", type=_number(float, "--warmup-epochs", 0), default=0.0, metavar="W", help="epochs to ramp the KL weight from 0 to 1 (the cycle length for cyclical)")
    t.add_argument("--free-bits", type=_number(float, "--free-bits", 0), default=0.0, metavar="L", help="per-dimension KL floor in nats: dimensions below it are not pushed further towards the prior")
    t.add_argument("--augment", choices=("auto", "none", "light", "strong"), default="auto", help="random shifts, rotations and scaling on the device; auto (default): light below 20,000 training images")
    t.add_argument("--lr-schedule", choices=("constant", "cosine", "onecycle"), default="cosine", help="cosine (default): short warm-up, then cosine decay to 0")
    t.add_argument("--weight-decay", type=_number(float, "--weight-decay", 0), default=0.0, metavar="WD", help="decoupled (AdamW) weight decay (default 0)")
    t.add_argument("--objective", choices=("elbo", "iwae"), default="elbo", help="elbo (default) or the importance-weighted bound with --iwae-k samples")
    t.add_argument("--iwae-k", type=_number(int, "--iwae-k", 1, 1000), default=5, metavar="K", help="samples per image for --objective iwae (default 5)")
    t.add_argument("--binarize", action="store_true", help="train and validate on pixels drawn as 0/1 each step (dynamic binarisation)")
    t.add_argument("--keep", choices=("best", "last"), default="best", help="write the weights of the epoch with the lowest held-out -ELBO (default) or of the last epoch")
    t.add_argument("--seed", type=_number(int, "--seed", 0), default=0, metavar="S")
    t.add_argument("--precision", choices=("auto", "fp32", "bf16"), default="auto", help="auto: bf16 matrix products where the hardware runs them natively (CUDA, AVX-512 BF16 / AMX CPUs), else fp32")
    t.add_argument("--out", type=Path, metavar="FILE", help="checkpoint to write (default: vae-VARIANT.pt)")
    t.add_argument("--json", action="store_true", help="end with one JSON line of the validation figures")

    e = sub.add_parser("evaluate", help="held-out -ELBO, IWAE NLL, active units and KL per dimension of a checkpoint")
    e.add_argument("checkpoint", type=Path, metavar="CKPT")
    _add_data_args(e, None)
    e.add_argument("--split", choices=("train", "test"), default="test")
    e.add_argument("--iwae-samples", type=_number(int, "--iwae-samples", 1, 100_000), metavar="K", help="also estimate -log p(x) with K importance samples")
    e.add_argument("--seed", type=_number(int, "--seed", 0), default=0, metavar="S")
    e.add_argument("--json", action="store_true")

    s = sub.add_parser("sample", help="decode samples from the prior to a PNG grid or an .npy array")
    s.add_argument("checkpoint", type=Path, metavar="CKPT")
    s.add_argument("--out", type=Path, required=True, metavar="FILE", help=".png for an image grid, .npy for an (N, H, W) array in [0, 1]")
    s.add_argument("--n", type=_number(int, "--n", 1, 100_000), default=64)
    s.add_argument("--label", type=_number(int, "--label", 0), help="class to generate; required for conditional models")
    s.add_argument("--sampler", choices=("prior", "posterior"), default="posterior",
                   help="posterior (default): a Gaussian mixture fitted to the training set's codes (per class for conditional models); prior: N(0, I)")
    s.add_argument("--temperature", type=_number(float, "--temperature", 0, lo_open=True), default=1.0, metavar="T", help="scales the spread of the draws (default 1)")
    s.add_argument("--seed", type=_number(int, "--seed", 0), default=0, metavar="S")
    s.add_argument("--device", choices=("auto", "cpu", "cuda"), default="cpu")
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

    from .core import ModelConfig, TrainConfig, Trainer, load_dataset, make_bundle, save_checkpoint
    from .core.checkpoint import select_weights
    from .core.config import auto_epochs, resolve_beta
    from .core.device import describe_device
    from .core.errors import ConfigError, TrainingError
    from .core.trainer import Validation

    beta = resolve_beta(args.variant, args.beta, args.capacity)
    schedule = args.kl_schedule or ("linear" if args.warmup_epochs > 0 else "constant")
    if schedule != "constant" and args.warmup_epochs <= 0:
        raise ConfigError(f"--kl-schedule {schedule} needs --warmup-epochs > 0")
    train_cfg = TrainConfig(
        epochs=args.epochs or 1, batch_size=args.batch_size, lr=args.lr, beta=beta, capacity=args.capacity,
        capacity_epochs=args.capacity_epochs, kl_schedule=schedule, warmup_epochs=args.warmup_epochs,
        free_bits=args.free_bits, seed=args.seed, device=args.device, precision=args.precision,
        augment=args.augment, lr_schedule=args.lr_schedule, weight_decay=args.weight_decay,
        objective=args.objective, iwae_k=args.iwae_k, binarize=args.binarize,
    )
    out = args.out or Path(f"vae-{args.variant}.pt")
    if out.is_dir() or not out.resolve().parent.is_dir():
        raise ConfigError(f"--out {out}: give a file name in an existing folder")
    dataset = load_dataset(args.dataset, args.data_dir)
    if args.epochs is None:
        train_cfg = train_cfg.replace(epochs=auto_epochs(len(dataset.train)))
    model_cfg = ModelConfig(
        variant=args.variant, arch=args.arch, latent_dim=args.latent_dim, hidden=args.hidden,
        image_shape=dataset.image_shape, num_classes=dataset.num_classes, likelihood=args.likelihood,
    )
    trainer = Trainer(model_cfg, train_cfg, dataset)
    log = sys.stderr if args.json else sys.stdout
    print(
        f"training a {args.variant} VAE ({args.arch}, latent {args.latent_dim}) on {dataset.name}: "
        f"{len(dataset.train):,} training / {len(dataset.test):,} held-out images, {describe_device(trainer.device)}"
        f"{', bf16' if trainer.bf16 else ''}; augmentation {trainer.augment}, {train_cfg.lr_schedule} learning rate, "
        f"{train_cfg.objective} objective, {trainer.likelihood} likelihood",
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
    if error is not None:
        save_checkpoint(out, make_bundle(trainer))
        print(f"vae-studio: error: {error}; the last good weights were saved to {out}", file=sys.stderr)
        return 1
    bundle = select_weights(make_bundle(trainer), args.keep)
    weights_epoch = bundle.get("weights_epoch", trainer.epoch)
    if weights_epoch != trainer.epoch:
        trainer.restore_best()
    recon, kl, _ = trainer.validate() if last_val is None or last_val.step != trainer.step or weights_epoch != trainer.epoch else (last_val.recon, last_val.kl, None)
    try:
        bundle["posterior_sampler"] = _fit_sampler(trainer.model, dataset.train, trainer.device, train_cfg.seed).to_dict()
    except Exception as exc:  # a sampler is a convenience; the weights are saved regardless
        print(f"vae-studio: warning: the posterior sampler could not be fitted ({exc}); sample will use the prior", file=sys.stderr)
    save_checkpoint(out, bundle)
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
        "likelihood": trainer.likelihood,
        "keep": args.keep,
        "weights_epoch": weights_epoch,
        "best_epoch": trainer.best_epoch,
        "last_neg_elbo": last_val.neg_elbo if last_val is not None else None,
        "augment": trainer.augment,
        "lr_schedule": train_cfg.lr_schedule,
        "objective": train_cfg.objective,
    }
    if train_cfg.objective == "iwae":
        summary["neg_iwae"] = trainer.validate_iwae()
        summary["iwae_k"] = train_cfg.iwae_k
    which = f"epoch {weights_epoch} of {trainer.epoch}" + (" (the best held-out -ELBO)" if args.keep == "best" else "")
    print(f"validation -ELBO {recon + kl:.2f} nats, {trainer.likelihood} likelihood (recon {recon:.2f}, KL {kl:.2f}); "
          f"{summary['samples_per_s']:,.0f} img/s; saved the weights of {which} to {out}", file=log)
    if args.json:
        print(json.dumps(summary))
    return 130 if trainer.stopping else 0


def _fit_sampler(model, split, device, seed: int = 0):
    from .core.sampler import fit_posterior_sampler

    return fit_posterior_sampler(model, split, device, seed=seed)


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
    result = evaluate(model, split, device, iwae_samples=args.iwae_samples, seed=args.seed,
                      binarize=bundle["train_config"].binarize)
    d = {"checkpoint": str(args.checkpoint), "dataset": dataset.name, "split": args.split, **result.to_dict()}
    if args.json:
        print(json.dumps(d))
        return 0
    print(f"{args.checkpoint} on {dataset.name} ({args.split}, {len(split):,} images)")
    print(f"  likelihood   {result.likelihood:>10}")
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
    posterior = None
    if args.sampler == "posterior":
        posterior = _stored_sampler(bundle, args.checkpoint)
        if posterior is None:  # a checkpoint from before samplers were stored: fit one now
            from .core import load_dataset

            posterior = _fit_sampler(model, load_dataset(bundle["dataset"]).train, device, args.seed)
    from .core.sampler import sample_codes

    codes = sample_codes(args.sampler, args.n, cfg.latent_dim, posterior=posterior, label=args.label,
                         temperature=args.temperature, seed=args.seed)
    z = torch.as_tensor(codes, dtype=torch.float32).to(device)
    y = None if args.label is None else torch.full((args.n,), args.label, dtype=torch.long, device=device)
    images = model.decode_mean(z, y).cpu()
    with atomic_write(args.out) as f:
        if suffix == ".npy":
            np.save(f, images[:, 0].numpy().astype(np.float32))
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
