"""``vae-studio train``: train headless with a progress line, validate every epoch, write one checkpoint.

Bad settings end before any work with one line (exit 2); a failure during training still writes the
last good weights (exit 1); Ctrl-C, SIGTERM and SIGHUP finish the step, save and exit.
"""

from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path

from .cli import _first_line, _one_line


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
        p = self.last
        rate = f"  {p.samples_per_s:,.0f} img/s" if p else ""
        self._out(
            ("\r\x1b[K" if self.tty else "")
            + f"epoch {v.epoch:>{len(str(self.epochs))}}/{self.epochs}  train -ELBO {v.train_recon + v.train_kl:8.2f}"
            f"  val -ELBO {v.neg_elbo:8.2f} (recon {v.recon:.2f}, KL {v.kl:.2f}){rate}\n"
        )

    def _draw(self, p, end: str) -> None:
        width = 24
        frac = min(1.0, p.epoch / max(1, p.epochs))
        bar = "#" * int(frac * width) + "-" * (width - int(frac * width))
        eta = "--:--" if not math.isfinite(p.eta) else time.strftime("%M:%S", time.gmtime(p.eta)) if p.eta < 3600 else f"{p.eta / 3600:.1f} h"
        self._out(
            f"\r\x1b[K[{bar}] {frac:4.0%}  -ELBO {p.neg_elbo:8.2f} (recon {p.recon:.2f}, KL {p.kl:.2f})"
            f"  {p.samples_per_s:,.0f} img/s  ETA {eta}{end}"
        )

    def close(self) -> None:
        if self.tty:
            self._out("\r\x1b[K")

    def _out(self, text: str) -> None:
        if self.stream is None:
            return
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # the terminal has gone (SIGHUP, a closed pipe): train on, still save
            self.stream = None


def _say(text: str, stream) -> None:
    try:
        print(text, file=stream, flush=True)
    except (OSError, ValueError):
        pass


def _final_bundle(trainer) -> dict:
    """The run's bundle, even when memory is short (a run that ended in an out-of-memory error)."""
    from .core import make_bundle
    from .core.checkpoint import bundle_of

    try:
        return make_bundle(trainer)
    except (MemoryError, RuntimeError):
        # make_bundle copies every tensor so the trainer can go on; this one will not: save the
        # live tensors themselves, which needs no memory beyond what the run already holds
        return bundle_of(
            trainer.model_cfg, trainer.cfg, trainer.dataset, step=trainer.step, epoch=trainer.epoch,
            elapsed=trainer.elapsed, model_state={k: v.detach() for k, v in trainer.model.state_dict().items()},
            optimizer_state=trainer.optimizer.state_dict(), history=trainer.history.to_dict(),
        )


_STOP_SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")  # Ctrl-C, kill, a closed terminal: all finish the step and save


def train(args) -> int:
    import signal

    from .cli import load_data
    from .core import Trainer, save_checkpoint
    from .core.atomic import check_writable
    from .core.checkpoint import select_weights
    from .core.config import auto_epochs
    from .core.data import check_classes, class_subset
    from .core.cli_settings import from_cli
    from .core.tensorboard_log import check_available
    from .core.device import describe_device
    from .core.image_format import describe as describe_format
    from .core.errors import VaeStudioError
    from .core.trainer import Validation

    log = sys.stderr if args.json else sys.stdout
    state = None
    if args.resume is not None:
        from .cli_resume import resume_plan

        settings, train_cfg, model_cfg, dataset, state, out = resume_plan(args, log)
    else:
        settings = from_cli(vars(args))
        train_cfg = settings.train_config()
        out = args.out or Path(f"vae-{settings.variant}.pt")
        check_writable(out, "--out")  # now, not after an hour of training
        if train_cfg.logdir:
            check_available()
        dataset = load_data(settings.dataset, args.data_dir, settings.image_format())
        check_classes(dataset, train_cfg.classes)
        if args.epochs is None:  # about 400k images' worth: long enough to learn, short enough to wait for
            train_cfg = train_cfg.replace(epochs=auto_epochs(len(class_subset(dataset.train, train_cfg.classes))))
        model_cfg = settings.model_config(dataset.image_shape, dataset.num_classes)
    trainer = Trainer(model_cfg, train_cfg, dataset, state=state)  # refuses a model too large for the free memory
    print(
        f"training a {settings.variant} VAE ({settings.arch}, latent {settings.latent_dim}) on {dataset.name} "
        f"({describe_format(dataset.image_shape)}{'' if dataset.labelled else ', unlabelled'}): "
        f"{len(trainer.train_split):,} training / {len(trainer.val_split):,} held-out images"
        f"{' of classes ' + ','.join(map(str, train_cfg.classes)) if train_cfg.classes else ''}, {describe_device(trainer.device)}"
        f"{', bf16' if trainer.bf16 else ''}; augmentation {trainer.augment}, {train_cfg.lr_schedule} learning rate, "
        f"{train_cfg.objective} objective, {trainer.likelihood} likelihood",
        file=log,
    )
    bar = _ProgressLine(sys.stderr, train_cfg.epochs)
    received: list[int] = []

    def stop(signum, _frame) -> None:  # finish the step, save, exit
        received.append(signum)
        trainer.stop()

    previous = {}
    for name in _STOP_SIGNALS:
        if hasattr(signal, name):
            try:
                previous[name] = signal.signal(getattr(signal, name), stop)
            except (ValueError, OSError):  # not the main thread, or a signal this platform lacks
                pass
    error: str | None = None
    last_val = None
    try:
        for msg in trainer.run():
            if isinstance(msg, Validation):
                last_val = msg
                bar.epoch_done(msg)
            elif hasattr(msg, "samples_per_s"):
                bar.update(msg)
    except VaeStudioError as exc:
        error = str(exc)
    except Exception as exc:  # noqa: BLE001 - whatever it was, the weights of the last good step are saved
        from .logfile import report_internal

        _, log = report_internal(exc, "training", echo=False)
        error = f"internal error during training: {type(exc).__name__}: {_first_line(exc)}" + (f" (details in {log})" if log else "")
    finally:
        for name, handler in previous.items():
            signal.signal(getattr(signal, name), handler)
        bar.close()
    if error is not None:
        save_checkpoint(out, _final_bundle(trainer))
        _say(f"vae-studio: error: {_one_line(error)}; the last good weights were saved to {out}", sys.stderr)
        return 1
    bundle = select_weights(_final_bundle(trainer), args.keep)
    weights_epoch = bundle.get("weights_epoch", trainer.epoch)
    if weights_epoch != trainer.epoch:
        trainer.restore_best()
    recon, kl, _ = trainer.validate() if last_val is None or last_val.step != trainer.step or weights_epoch != trainer.epoch else (last_val.recon, last_val.kl, None)
    try:
        bundle["posterior_sampler"] = _fit_sampler(trainer.model, trainer.train_split, trainer.device, train_cfg.seed).to_dict()
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
        "classes": list(train_cfg.classes) if train_cfg.classes else None,
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
        "resumed_from_step": state["step"] if state is not None else None,
        "tensorboard_dir": trainer.tensorboard_dir,
    }
    if train_cfg.objective == "iwae":
        summary["neg_iwae"] = trainer.validate_iwae()
        summary["iwae_k"] = train_cfg.iwae_k
    which = f"epoch {weights_epoch} of {trainer.epoch}" + (" (the best held-out -ELBO)" if args.keep == "best" else "")
    _say(f"validation -ELBO {recon + kl:.2f} nats, {trainer.likelihood} likelihood (recon {recon:.2f}, KL {kl:.2f}); "
         f"{summary['samples_per_s']:,.0f} img/s; saved the weights of {which} to {out}", log)
    if trainer.tensorboard_dir:
        _say(f"TensorBoard events in {trainer.tensorboard_dir} (view them with: tensorboard --logdir "
             f"{Path(trainer.tensorboard_dir).parent})", log)
    if args.json:
        _say(json.dumps(summary), sys.stdout)
    if trainer.stopping:
        return 128 + int(received[0]) if received else 130
    return 0


def _fit_sampler(model, split, device, seed: int = 0):
    from .core.sampler import fit_posterior_sampler

    return fit_posterior_sampler(model, split, device, seed=seed)


