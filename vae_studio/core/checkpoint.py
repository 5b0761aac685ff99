"""One-file run bundles: weights, optimizer state, configs, dataset, seed, step and loss history.

Saving is atomic (temp file + rename), so a crash or a full disk never leaves a half-written
checkpoint in place of a good one. Loading treats every file as untrusted: ``torch.load`` with
``weights_only=True`` (it refuses pickles that would run code), then a schema check, then the
weights are loaded into a freshly built model, which checks every tensor's name and shape.
"""

from __future__ import annotations

import copy
import datetime as _dt
import os
import pickle
import re
import zipfile
from pathlib import Path
from typing import Any

import torch

from .atomic import atomic_write
from .config import ModelConfig, TrainConfig
from .errors import CheckpointError, ConfigError
from .models import build_model

FORMAT = "vae-studio-run"
SCHEMA_VERSION = 1
REQUIRED = ("format", "schema_version", "model_config", "train_config", "model_state", "dataset", "step", "epoch", "history")


def make_bundle(trainer, **extra: Any) -> dict:
    """Everything needed to rebuild and continue a run, from a :class:`Trainer`."""
    return bundle_of(
        trainer.model_cfg, trainer.cfg, trainer.dataset, step=trainer.step, epoch=trainer.epoch,
        elapsed=trainer.elapsed,
        # private copies: on the CPU .cpu() would alias the live tensors, and a bundle may be
        # written after the trainer has moved on
        model_state={k: v.detach().to("cpu", copy=True) for k, v in trainer.model.state_dict().items()},
        optimizer_state=copy.deepcopy(trainer.optimizer.state_dict()),
        history=trainer.history.to_dict(), **{**best_of(trainer), **extra},
    )


def best_of(trainer) -> dict:
    """The best epoch's bookkeeping, and its weights when they are not the ones being saved."""
    if not getattr(trainer, "best_epoch", 0):
        return {}
    out = {"best_epoch": trainer.best_epoch, "best_neg_elbo": trainer.best_neg_elbo, "weights_epoch": trainer.epoch}
    if trainer.best_epoch != trainer.epoch:
        out["best_model_state"] = trainer.best_state()
    return out


def select_weights(bundle: dict, keep: str = "best") -> dict:
    """``bundle`` with the weights ``keep`` names as its model weights: "best" (the epoch with the
    lowest held-out -ELBO, where the bundle has it) or "last". ``weights_epoch`` says which."""
    if keep not in ("best", "last"):
        raise ValueError(f"keep must be 'best' or 'last' (got {keep!r})")
    out = dict(bundle)
    best = out.pop("best_model_state", None)
    if keep == "best" and best is not None:
        out["model_state"] = best
        out["weights_epoch"] = out["best_epoch"]
        if "_model" in out:  # a loaded bundle: its ready-built model gets the chosen weights
            model = build_model(out["model_config"])
            model.load_state_dict(best)
            out["_model"] = model.eval()
    return out


def bundle_of(model_cfg: ModelConfig, train_cfg: TrainConfig, dataset, *, step: int, epoch: int, elapsed: float,
              model_state: dict, optimizer_state: dict | None, history: dict, **extra: Any) -> dict:
    """A bundle from its parts; ``optimizer_state`` None: Continue starts Adam afresh."""
    bundle = {
        "format": FORMAT,
        "schema_version": SCHEMA_VERSION,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "torch_version": str(torch.__version__),
        "model_config": model_cfg.to_dict(),
        "train_config": train_cfg.to_dict(),
        "dataset": dataset.name,
        "class_names": list(dataset.class_names),
        "seed": train_cfg.seed,
        "step": step,
        "epoch": epoch,
        "elapsed": elapsed,
        "model_state": model_state,
        "optimizer_state": optimizer_state,
        "history": history,
    }
    bundle.update(extra)
    return bundle


def save_checkpoint(path: str | os.PathLike, bundle: dict) -> Path:
    path = Path(path)
    if path.is_dir():
        raise CheckpointError(f"{path} is a folder; give a file name such as {path / 'run.pt'}")
    if not path.parent.exists():
        raise CheckpointError(f"cannot save to {path}: the folder {path.parent} does not exist")
    try:
        with atomic_write(path) as f:
            torch.save(bundle, f)
    except OSError as exc:
        raise CheckpointError(f"cannot save to {path}: {exc.strerror or exc}; nothing was overwritten") from None
    return path


def load_checkpoint(path: str | os.PathLike) -> dict:
    """Load and validate a bundle; :class:`CheckpointError` names what is wrong with the file."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"no checkpoint at {path}")
    if path.is_dir():
        raise CheckpointError(f"{path} is a folder, not a checkpoint file")
    try:
        bundle = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        found = re.search(r"Unsupported global: GLOBAL ([\w.]+)", str(exc))
        if not found:
            raise CheckpointError(f"{path} is corrupt or truncated and cannot be read (not a PyTorch file)") from None
        raise CheckpointError(
            f"{path} was refused: it holds objects other than weights and settings, which could run code "
            f"when loaded (it refers to {found.group(1)}). VAE Studio opens only plain run files."
        ) from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, ValueError, KeyError, OSError, AttributeError, TypeError) as exc:
        raise CheckpointError(f"{path} is corrupt or truncated and cannot be read ({_short(exc)})") from None
    return validate_bundle(bundle, path)


def validate_bundle(bundle: Any, path: str | os.PathLike = "checkpoint") -> dict:
    if not isinstance(bundle, dict) or bundle.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a VAE Studio run (a PyTorch file, but of another kind)")
    version = bundle.get("schema_version")
    if not isinstance(version, int):
        raise CheckpointError(f"{path} has no valid schema version")
    if version > SCHEMA_VERSION:
        raise CheckpointError(
            f"{path} was written by a newer VAE Studio (schema {version}; this version reads up to "
            f"{SCHEMA_VERSION}); upgrade VAE Studio to open it"
        )
    missing = [k for k in REQUIRED if k not in bundle]
    if missing:
        raise CheckpointError(f"{path} is incomplete: missing {', '.join(missing)}")
    try:
        bundle["model_config"] = ModelConfig.from_dict(bundle["model_config"])
        bundle["train_config"] = TrainConfig.from_dict(bundle["train_config"])
    except ConfigError as exc:
        raise CheckpointError(f"{path} has invalid settings: {exc}") from None
    if not isinstance(bundle["model_state"], dict) or not all(torch.is_tensor(v) for v in bundle["model_state"].values()):
        raise CheckpointError(f"{path} has no valid model weights")
    try:
        model = build_model(bundle["model_config"])
        model.load_state_dict(bundle["model_state"])
    except (RuntimeError, ValueError) as exc:
        raise CheckpointError(f"{path}: the weights do not fit the model its settings describe ({_short(exc)})") from None
    for name, t in bundle["model_state"].items():
        if t.is_floating_point() and not torch.isfinite(t).all():
            raise CheckpointError(f"{path}: the weight {name} holds NaN or infinite values")
    best = bundle.get("best_model_state")
    if best is not None:
        if not isinstance(best, dict) or best.keys() != bundle["model_state"].keys() or any(
            not torch.is_tensor(best[k]) or best[k].shape != v.shape or (v.is_floating_point() and not torch.isfinite(best[k]).all())
            for k, v in bundle["model_state"].items()
        ):
            raise CheckpointError(f"{path}: the best epoch's weights do not fit the model")
    for key in ("best_epoch", "weights_epoch"):
        if key in bundle and not (isinstance(bundle[key], int) and bundle[key] >= 0):
            raise CheckpointError(f"{path} has an invalid {key}")
    if not isinstance(bundle["history"], dict):
        raise CheckpointError(f"{path} has an invalid loss history")
    bundle["_model"] = model.eval()
    return bundle


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    first = text[0] if text else type(exc).__name__
    return first if len(first) < 200 else first[:197] + "..."
