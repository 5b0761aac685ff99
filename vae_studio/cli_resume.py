"""``vae-studio train --resume CKPT``: what the resumed run trains with, checked before any work.

The checkpoint fixes the model: an option that would change it ends here with one line and exit
status 2. Training settings may change (the learning rate and β are the usual ones); each
continuation is recorded in the checkpoint (:attr:`Trainer.resumes`) and named on the terminal.
"""

from __future__ import annotations

from pathlib import Path

# TrainConfig fields no setting declares: the run keeps the ones it was saved with
_ENGINE_ONLY = ("probe_size", "progress_interval", "snapshot_interval", "lr_warmup")


def resume_plan(args, log):
    """(settings, train config, model config, dataset, bundle, output path) of a resumed run."""
    from .cli import load_data
    from .core import load_checkpoint
    from .core.data import check_classes
    from .core.atomic import check_writable
    from .core.data import BUILTIN_SOURCES
    from .core.errors import ConfigError, DataError
    from .core.settings import SCHEMA, RunSettings
    from .core.tensorboard_log import check_available

    bundle = load_checkpoint(args.resume)
    stored = bundle["train_config"]
    base = RunSettings.from_configs(bundle["model_config"], stored, bundle["dataset"])
    settings = resumed(base, vars(args))
    fresh = settings.train_config()
    train_cfg = fresh.replace(**{k: getattr(stored, k) for k in _ENGINE_ONLY})
    done, into = bundle["epoch"], (bundle.get("resume") or {}).get("steps_into_epoch", 0)
    if done >= train_cfg.epochs and not into:
        raise ConfigError(f"{args.resume} has already trained {done} epoch{'s' if done != 1 else ''} of its "
                          f"{stored.epochs}; give --epochs above {done} to train further")
    out = args.out or Path(args.resume)
    check_writable(out, "--out")
    if train_cfg.logdir:
        check_available()
    source = settings.dataset
    if args.dataset is None and source not in BUILTIN_SOURCES and not Path(source).expanduser().is_dir():
        raise DataError(f"{args.resume} was trained on the dataset folder {source}, which is not there "
                        "(moved or deleted?); give its current location with --dataset")
    model_cfg = bundle["model_config"]
    dataset = load_data(source, args.data_dir, image_shape=model_cfg.image_shape)  # resized as the model was trained
    check_classes(dataset, train_cfg.classes)
    changes = [f"{name.replace('_', '-')} {_shown(getattr(base, name))} -> {_shown(getattr(settings, name))}"
               for name, spec in SCHEMA.items()
               if not spec.shapes_model and getattr(base, name) != getattr(settings, name) and name != "epochs"]
    where = f"epoch {done} of {stored.epochs}" + (f", {into} steps into the next" if into else "")
    print(f"resuming {args.resume} at step {bundle['step']:,} ({where}); training up to {train_cfg.epochs} epochs"
          + (f"; {', '.join(changes)}" if changes else ""), file=log, flush=True)
    return settings, train_cfg, model_cfg, dataset, bundle, out


def _shown(value) -> str:
    return "off" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def resumed(base, values: dict):
    """The settings of a resumed run: ``base`` (the checkpoint's) with the command line's options
    (None: not given). An option that would change the model is refused, because the saved weights
    fix it; a dataset folder may be given anew (it moved), a built-in dataset may not change."""
    from .core.errors import ConfigError
    from .core.settings import BUILTIN_DATASETS, SCHEMA, problems

    given = {k: v for k, v in values.items() if k in SCHEMA and SCHEMA[k].cli and v is not None}
    for name, value in given.items():
        spec, flag = SCHEMA[name], "--" + name.replace("_", "-")
        stored = getattr(base, name)
        moved_folder = name == "dataset" and value not in BUILTIN_DATASETS and stored not in BUILTIN_DATASETS
        if spec.shapes_model and value != stored and not moved_folder:
            if isinstance(stored, bool):  # a switch: name the flag the checkpoint was made with
                fixed = flag if stored else "--no-" + flag[2:]
            else:
                fixed = f"{flag} " + (",".join(map(str, stored)) if isinstance(stored, tuple) else str(stored))
            raise ConfigError(f"{flag} cannot change when resuming: it shapes the model, which the checkpoint fixes "
                              f"({fixed}); start a new run to change it")
    if base.variant != "beta":
        if given.get("beta", 1.0) != 1.0:
            raise ConfigError(f"--beta {given['beta']:g} needs the beta variant (this run is {base.variant}, trained with beta = 1)")
        if "capacity" in given:
            raise ConfigError("--capacity needs the beta variant")
    if given.get("warmup_epochs", 0) > 0 and "kl_schedule" not in given and base.kl_schedule == "constant":
        given["kl_schedule"] = "linear"
    s = base.replace(**given)
    problem = next(iter(problems(s)), None)
    if problem:
        raise ConfigError(problem.replace("warm-up epochs", "--warmup-epochs"))
    return s
