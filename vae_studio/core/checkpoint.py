"""One-file run bundles: weights, optimizer state, configs, dataset, seed, step and loss history.

Saving is atomic (temp file + rename), so a crash or a full disk never leaves a half-written
checkpoint in place of a good one. Loading treats every file as untrusted: ``torch.load`` with
``weights_only=True`` (it refuses pickles that would run code), then a schema check, then the
weights are loaded into a freshly built model, which checks every tensor's name and shape.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as _dt
import math
import os
import pickle
import re
from pathlib import Path
from typing import Any

import torch

from .atomic import atomic_write
from .budget import state_sizes
from .config import ModelConfig, TrainConfig
from .errors import CheckpointError, ConfigError
from .models import build_model
from .history import COLUMNS as HISTORY_COLUMNS, History
from . import resume

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
        history=trainer.history.to_dict(), **{**best_of(trainer), **continuation_of(trainer), **extra},
    )


def continuation_of(trainer) -> dict:
    """What continuing the run needs beyond weights and Adam's state: random streams, the place in
    the epoch (:mod:`resume`), each earlier continuation's rates, the TensorBoard folder."""
    out = {"resume": resume.record(trainer), "kl_per_dim": [float(v) for v in trainer.last_kl_per_dim]}
    if trainer.resumes:
        out["resumed"] = [dict(r) for r in trainer.resumes]
    if trainer.tensorboard_dir:
        out["tensorboard_dir"] = str(trainer.tensorboard_dir)
    return out


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
    lowest held-out -ELBO, where the bundle has it) or "last". ``weights_epoch`` says which. The
    other weights stay in the bundle (``best_model_state`` or ``last_model_state``), so a run
    saved either way can be resumed from its last step and still knows its best epoch."""
    if keep not in ("best", "last"):
        raise ValueError(f"keep must be 'best' or 'last' (got {keep!r})")
    out = dict(bundle)
    if keep == "best" and out.get("best_model_state") is not None:
        out["last_model_state"] = out["model_state"]  # what a resumed run continues from
        out["model_state"] = out.pop("best_model_state")
        out["weights_epoch"] = out["best_epoch"]
    elif keep == "last" and out.get("last_model_state") is not None:
        out["best_model_state"] = out["model_state"]
        out["model_state"] = out.pop("last_model_state")
        out["weights_epoch"] = out["epoch"]
    else:
        return out
    if "_model" in out:  # a loaded bundle: its ready-built model gets the chosen weights
        model = build_model(out["model_config"])
        model.load_state_dict(out["model_state"])
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
    try:
        if path.is_dir():
            raise CheckpointError(f"{path} is a folder; give a file name such as {path / 'run.pt'}")
        if not path.parent.exists():
            raise CheckpointError(f"cannot save to {path}: the folder {path.parent} does not exist")
        with atomic_write(path) as f:
            torch.save(bundle, f)
    except OSError as exc:
        raise CheckpointError(f"cannot save to {path}: {exc.strerror or exc}; nothing was overwritten") from None
    except RuntimeError as exc:  # PyTorch's zip writer reports a failed write (a full disk) so
        raise CheckpointError(f"cannot save to {path}: {_short(exc)}; nothing was overwritten") from None
    return path


def load_checkpoint(path: str | os.PathLike) -> dict:
    """Load and validate a bundle; :class:`CheckpointError` names what is wrong with the file."""
    path = Path(path)
    try:
        if not path.exists():
            raise CheckpointError(f"no checkpoint at {path}")
        if path.is_dir():
            raise CheckpointError(f"{path} is a folder, not a checkpoint file")
    except OSError as exc:  # a name too long for the file system, a loop of links
        raise CheckpointError(f"cannot open {path}: {exc.strerror or exc}") from None
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
    except MemoryError:
        raise CheckpointError(f"{path} is too large to open in the memory this machine has free") from None
    except Exception as exc:  # noqa: BLE001 - random bytes reach the unpickler's every corner (IndexError, ...)
        raise CheckpointError(f"{path} is corrupt or truncated and cannot be read ({_short(exc)})") from None
    return validate_bundle(bundle, path)


def validate_bundle(bundle: Any, path: str | os.PathLike = "checkpoint") -> dict:
    """Check every field of a loaded bundle; :class:`CheckpointError` for the first that is wrong.

    Nothing is built from a field before its type and size are known to be right: the model's
    weights are counted on the meta device (no memory) and compared with what the file holds, so a
    small file that declares a huge model is refused at once instead of after allocating it.
    """
    if not isinstance(bundle, dict) or bundle.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a VAE Studio run (a PyTorch file, but of another kind)")
    version = bundle.get("schema_version")
    if not _is_int(version):
        raise CheckpointError(f"{path} has no valid schema version")
    if version > SCHEMA_VERSION:
        raise CheckpointError(
            f"{path} was written by a newer VAE Studio (schema {version}; this version reads up to "
            f"{SCHEMA_VERSION}); upgrade VAE Studio to open it"
        )
    missing = [k for k in REQUIRED if k not in bundle]
    if missing:
        raise CheckpointError(f"{path} is incomplete: missing {', '.join(missing)}")
    for key, ok, what in _TOP_LEVEL:
        if key in bundle and not ok(bundle[key]):
            raise CheckpointError(f"{path} has an invalid {key.replace('_', ' ')}: it must be {what}")
    try:
        for key, cls in (("model_config", ModelConfig), ("train_config", TrainConfig)):
            _check_types(cls, bundle[key])
        bundle["model_config"] = ModelConfig.from_dict(bundle["model_config"])
        bundle["train_config"] = TrainConfig.from_dict(bundle["train_config"])
    except (ConfigError, TypeError, ValueError, OverflowError) as exc:
        raise CheckpointError(f"{path} has invalid settings: {_short(exc)}") from None
    classes, known = bundle["train_config"].classes, bundle["model_config"].num_classes
    if classes is not None and max(classes) >= known:
        raise CheckpointError(f"{path} has invalid settings: it trains on class {max(classes)}, but its model knows "
                              f"{known} classes")
    state = bundle["model_state"]
    if not isinstance(state, dict) or not all(isinstance(k, str) and torch.is_tensor(v) for k, v in state.items()):
        raise CheckpointError(f"{path} has no valid model weights")
    try:
        expected = state_sizes(bundle["model_config"])
    except ValueError as exc:
        raise CheckpointError(f"{path} has invalid settings: {exc}") from None
    stored = {k: tuple(v.shape) for k, v in state.items()}
    if stored != expected:
        wrong = sorted(set(stored) ^ set(expected)) or sorted(k for k in stored if stored[k] != expected[k])
        raise CheckpointError(
            f"{path}: the weights do not fit the model its settings describe ({_numel(expected.values()):,} values "
            f"expected, {_numel(stored.values()):,} stored; first difference: {wrong[0]})"
        )
    try:
        model = build_model(bundle["model_config"])
        model.load_state_dict(state)
    except Exception as exc:  # noqa: BLE001 - a dtype no copy accepts, say: still the file's fault
        raise CheckpointError(f"{path}: the weights do not fit the model its settings describe ({_short(exc)})") from None
    for name, t in model.state_dict().items():
        if t.is_floating_point() and not torch.isfinite(t).all():
            raise CheckpointError(f"{path}: the weight {name} holds NaN or infinite values")
    best = bundle.get("best_model_state")
    if best is not None:
        if not isinstance(best, dict) or best.keys() != bundle["model_state"].keys() or any(
            not torch.is_tensor(best[k]) or best[k].shape != v.shape or (v.is_floating_point() and not torch.isfinite(best[k]).all())
            for k, v in bundle["model_state"].items()
        ):
            raise CheckpointError(f"{path}: the best epoch's weights do not fit the model")
    last = bundle.get("last_model_state")
    if last is not None and not _same_shapes(last, bundle["model_state"]):
        raise CheckpointError(f"{path}: the last epoch's weights do not fit the model")
    _check_continuation(bundle, path)
    for key in ("best_epoch", "weights_epoch"):
        if key in bundle and not (isinstance(bundle[key], int) and bundle[key] >= 0):
            raise CheckpointError(f"{path} has an invalid {key}")
    if "best_neg_elbo" in bundle and not (_is_real(bundle["best_neg_elbo"]) and not math.isnan(bundle["best_neg_elbo"])):
        raise CheckpointError(f"{path} has an invalid best_neg_elbo")
    curves = set(HISTORY_COLUMNS)
    for key, values in bundle["history"].items():
        if key not in curves or not isinstance(values, (list, tuple)) or not all(_is_real(v) for v in values):
            raise CheckpointError(f"{path} has an invalid loss history (entry {str(key)[:40]!r})")
    try:
        History.from_dict(bundle["history"])
    except (ConfigError, TypeError, ValueError, OverflowError, AttributeError) as exc:
        raise CheckpointError(f"{path} has an invalid loss history ({_short(exc)})") from None
    _check_optimizer_state(bundle.get("optimizer_state"), model, path)
    bundle["_model"] = model.eval()
    return bundle


def _same_shapes(state: Any, like: dict) -> bool:
    return isinstance(state, dict) and state.keys() == like.keys() and all(
        torch.is_tensor(state[k]) and state[k].shape == v.shape
        and (not v.is_floating_point() or (state[k].is_floating_point() and bool(torch.isfinite(state[k]).all())))
        for k, v in like.items())


def _check_continuation(bundle: dict, path) -> None:
    rec = bundle.get("resume")
    if rec is not None and (why := resume.problem(rec)):
        raise CheckpointError(f"{path} cannot be resumed: {why}")
    kl = bundle.get("kl_per_dim")
    if kl is not None and not (isinstance(kl, (list, tuple)) and len(kl) == bundle["model_config"].latent_dim
                               and all(_is_real(v) and math.isfinite(v) for v in kl)):
        raise CheckpointError(f"{path} has an invalid KL per dimension")
    runs = bundle.get("resumed")
    if runs is not None and not (isinstance(runs, list) and all(
            isinstance(r, dict) and all(isinstance(k, str) and _is_real(v) for k, v in r.items()) for r in runs)):
        raise CheckpointError(f"{path} has an invalid record of its continuations")
    folder = bundle.get("tensorboard_dir")
    if folder is not None and not (isinstance(folder, str) and 0 < len(folder) < 4096 and "\0" not in folder):
        raise CheckpointError(f"{path} has an invalid TensorBoard folder")


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_real(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _numel(shapes) -> int:
    total = 0
    for shape in shapes:
        n = 1
        for s in shape:
            n *= s
        total += n
    return total


_TOP_LEVEL = (
    ("dataset", lambda v: isinstance(v, str) and 0 < len(v) < 4096 and "\0" not in v, "a dataset name or folder"),
    ("class_names", lambda v: isinstance(v, (list, tuple)) and all(isinstance(c, str) for c in v), "a list of names"),
    ("seed", lambda v: _is_int(v) and 0 <= v < 2**63, "a whole number >= 0"),
    ("step", lambda v: _is_int(v) and 0 <= v < 2**63, "a whole number >= 0"),
    ("epoch", lambda v: _is_int(v) and 0 <= v < 2**63, "a whole number >= 0"),
    ("elapsed", lambda v: _is_real(v) and math.isfinite(v) and v >= 0, "a number of seconds >= 0"),
    ("history", lambda v: isinstance(v, dict), "a mapping of loss curves"),
    ("optimizer_state", lambda v: v is None or isinstance(v, dict), "the optimizer's state or nothing"),
    ("created", lambda v: isinstance(v, str), "a date"),
    ("torch_version", lambda v: isinstance(v, str), "a version string"),
)


def _conforms(value: Any, annotation: str) -> bool:
    """Does ``value`` have the type a config field is annotated with (a simple subset of annotations)?"""
    for option in annotation.replace(" ", "").split("|"):
        if option == "None" and value is None:
            return True
        if option == "str" and isinstance(value, str):
            return True
        if option == "int" and _is_int(value):
            return True
        if option == "float" and _is_real(value):
            return True
        if option == "bool" and isinstance(value, bool):
            return True
        if option.startswith("tuple[") and isinstance(value, (list, tuple)):
            items = option[len("tuple["):-1].split(",")
            if items[-1] == "..." and all(_conforms(v, items[0]) for v in value):
                return True
            if items[-1] != "..." and len(value) == len(items) and all(_conforms(v, t) for v, t in zip(value, items)):
                return True
        if option not in ("None", "str", "int", "float", "bool") and not option.startswith("tuple["):
            return True  # a kind this check does not know: the config's own validation decides
    return False


def _check_types(cls, d: Any) -> None:
    if not isinstance(d, dict):
        raise ConfigError(f"{cls.__name__} must be a mapping, not {type(d).__name__}")
    fields = {f.name: f.type if isinstance(f.type, str) else getattr(f.type, "__name__", "") for f in dataclasses.fields(cls)}
    for key, value in d.items():
        if key in fields and not _conforms(value, fields[key]):
            shown = repr(value) if len(repr(value)) < 60 else type(value).__name__
            raise ConfigError(f"{key} must be of type {fields[key]}, not {shown}")


def _check_optimizer_state(opt_state: Any, model: torch.nn.Module, path) -> None:
    """Adam's state must match the model's parameters in number and shape, or Continue would fail mid-step."""
    if opt_state is None:
        return
    bad = CheckpointError(f"{path} has an optimizer state that does not fit its model")
    params = list(model.parameters())
    groups = opt_state.get("param_groups")
    states = opt_state.get("state")
    if not isinstance(groups, list) or not isinstance(states, dict) or not all(isinstance(g, dict) for g in groups):
        raise bad
    ids = [i for g in groups for i in (g.get("params") if isinstance(g.get("params"), list) else [None])]
    if len(ids) != len(params) or not all(_is_int(i) for i in ids) or len(set(ids)) != len(ids):
        raise bad
    for g in groups:
        for key in ("lr", "eps", "weight_decay"):
            if key in g and not (_is_real(g[key]) and math.isfinite(g[key])):
                raise bad
        betas = g.get("betas", (0.9, 0.999))
        if not (isinstance(betas, (list, tuple)) and len(betas) == 2 and all(_is_real(b) for b in betas)):
            raise bad
    shape_of = dict(zip(ids, (tuple(p.shape) for p in params)))
    for pid, st in states.items():
        if pid not in shape_of or not isinstance(st, dict):
            raise bad
        for key, value in st.items():
            if not torch.is_tensor(value):
                raise bad
            if key == "step":
                if value.numel() != 1 or not torch.isfinite(value.float()).all():
                    raise bad
            elif tuple(value.shape) != shape_of[pid] or not value.is_floating_point():
                raise bad
    try:
        probe = torch.optim.Adam(model.parameters())
        probe.load_state_dict(copy.deepcopy(opt_state))
    except Exception:  # noqa: BLE001
        raise bad from None


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    first = text[0] if text else type(exc).__name__
    return first if len(first) < 200 else first[:197] + "..."
