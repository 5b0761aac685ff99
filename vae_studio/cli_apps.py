"""The applications of a trained model: ``denoise``, ``score`` (anomaly scores) and ``synth``
(a synthetic labelled IDX folder from a conditional model).

Bad arguments end in one line and exit status 2, like every command; so do a checkpoint or a
dataset that does not fit the command (``synth`` with a model that is not conditional).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
from pathlib import Path

from .cli import _add_data_args, _add_setting, _number, dataset_for

MAX_DENOISE_IMAGES = 10_000
MAX_GRID_COLUMNS = 16
MAX_PER_CLASS = 1_000_000
LEVEL_RANGES = {"gaussian": (0.0, 10.0), "saltpepper": (0.0, 1.0), "occlusion": (0.0, 1.0)}


def _classes(text: str) -> tuple[int, ...]:
    try:
        items = tuple(sorted({int(t) for t in text.split(",") if t.strip()}))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--anomalous-classes takes labels like 7 or 3,5 (got {text[:40]!r})") from None
    if not items or any(not 0 <= c <= 255 for c in items):
        raise argparse.ArgumentTypeError(f"--anomalous-classes takes labels from 0 to 255 (got {text[:40]!r})")
    return items


def add_commands(sub) -> None:
    from .core.anomaly import DEFAULT_IWAE_SAMPLES
    from .core.complexity import COMPRESSORS
    from .core.corruption import NOISES
    from .core.denoise import DEFAULT_ITERATIONS, METHODS

    d = sub.add_parser("denoise", help="corrupt held-out images and restore them with the model; PSNR against a median filter")
    d.add_argument("checkpoint", type=Path, metavar="CKPT")
    _add_data_args(d, None)
    d.add_argument("--split", choices=("train", "test"), default="test")
    d.add_argument("--noise", choices=NOISES, required=True,
                   help="gaussian: N(0, L^2) added and clipped; saltpepper: a fraction L of the pixels set to 0 or 1; "
                   "occlusion: a box of side L (a fraction of the image) blanked at random")
    d.add_argument("--level", type=_number(float, "--level", 0, 10), required=True, metavar="L",
                   help="sigma, the fraction p, or the box side (0 to 1 for the last two)")
    d.add_argument("--n", type=_number(int, "--n", 1, MAX_DENOISE_IMAGES), default=100, help="images (default 100)")
    d.add_argument("--method", choices=METHODS, default="fit",
                   help="fit (default): the code that best explains the corrupted image under the noise model; "
                   "encoder: one encode-decode pass, iterated with the known pixels kept for an occlusion")
    d.add_argument("--iterations", type=_number(int, "--iterations", 1, 1000), default=DEFAULT_ITERATIONS,
                   help=f"encode-decode passes of the encoder method's inpainting (default {DEFAULT_ITERATIONS})")
    _add_setting(d, "seed", default=0)
    d.add_argument("--out", type=Path, metavar="GRID.png", help="also write a PNG grid: rows clean, corrupted, median, VAE")
    d.add_argument("--json", action="store_true", help="end with one JSON line: psnr_noisy, psnr_denoised, psnr_median (dB)")
    d.set_defaults(run=_denoise)

    s = sub.add_parser("score", help="per-image anomaly scores to a CSV; AUROC for chosen anomalous classes")
    s.add_argument("checkpoint", type=Path, metavar="CKPT")
    _add_data_args(s, None)
    s.add_argument("--split", choices=("train", "test"), default="test")
    s.add_argument("--iwae-samples", type=_number(int, "--iwae-samples", 1, 10_000), default=DEFAULT_IWAE_SAMPLES,
                   metavar="K", help=f"posterior draws per image for every score (default {DEFAULT_IWAE_SAMPLES})")
    s.add_argument("--compressors", default=None, metavar="C[,C...]",
                   help="also Serrà et al.'s score with a real compressor (NLL in bits minus compressed bits), one "
                   f"column per compressor of: {', '.join(COMPRESSORS)}")
    s.add_argument("--anomalous-classes", type=_classes, metavar="C[,C...]",
                   help="labels that count as anomalous: the JSON line adds each score's AUROC against the rest")
    s.add_argument("--out", type=Path, required=True, metavar="SCORES.csv", help="one row per image")
    _add_setting(s, "seed", default=0)
    _add_setting(s, "device", default="cpu")
    s.add_argument("--json", action="store_true", help="end with one JSON line of the means (and AUROCs)")
    s.set_defaults(run=_score)

    y = sub.add_parser("synth", help="generated labelled images from a conditional model, as an MNIST-format IDX folder")
    y.add_argument("checkpoint", type=Path, metavar="CKPT")
    y.add_argument("--per-class", type=_number(int, "--per-class", 1, MAX_PER_CLASS), required=True, metavar="N")
    y.add_argument("--out", type=Path, required=True, metavar="FOLDER", help="created if need be; its IDX files are replaced")
    y.add_argument("--sampler", choices=("prior", "posterior"), default="posterior",
                   help="posterior (default): the per-class mixture the checkpoint stores; prior: the model's prior")
    y.add_argument("--temperature", type=_number(float, "--temperature", 0, 100, lo_open=True), default=1.0, metavar="T")
    _add_setting(y, "seed", default=0)
    _add_setting(y, "device", default="cpu")
    y.add_argument("--json", action="store_true")
    y.set_defaults(run=_synth)


# -- denoise -------------------------------------------------------------------------------------
def _denoise(args) -> int:
    import numpy as np
    import torch

    from .core import load_checkpoint
    from .core.atomic import check_writable
    from .core.corruption import NOISE_LABELS
    from .core.data import to_float
    from .core.denoise import denoise
    from .core.errors import ConfigError, DataError

    lo, hi = LEVEL_RANGES[args.noise]
    if not lo <= args.level <= hi:
        raise ConfigError(f"--level for {args.noise} must be between {lo:g} and {hi:g} (got {args.level:g})")
    if args.out is not None:
        if args.out.suffix.lower() != ".png":
            raise ConfigError(f"--out must end in .png (got {args.out.name!r})")
        check_writable(args.out, "--out")
    bundle = load_checkpoint(args.checkpoint)
    model = bundle["_model"]
    dataset = dataset_for(args, bundle)
    split = dataset.split(args.split)
    n = min(args.n, len(split))
    pick = torch.from_numpy(np.sort(np.random.default_rng(args.seed).choice(len(split), n, replace=False)))
    part = split.subset(pick)
    clean = to_float(part.images).numpy()
    labels = part.labels.numpy() if model.conditional else None
    if labels is not None and n and int(labels.max()) >= model.cfg.num_classes:
        raise DataError(f"this conditional model knows {model.cfg.num_classes} classes, but {dataset.name} has labels up "
                        f"to {int(labels.max())}; a conditional model restores an image given its class")
    result = denoise(model, clean, args.noise, args.level, args.seed, labels, args.method, args.iterations)
    summary = result.summary()
    if args.out is not None:
        _write_grid(args.out, result)
    if args.json:
        print(json.dumps({"checkpoint": str(args.checkpoint), "dataset": dataset.name, "split": args.split, **summary,
                          **({"out": str(args.out)} if args.out else {})}))
        return 0
    gain = summary["psnr_denoised"] - summary["psnr_noisy"]
    print(f"{NOISE_LABELS[args.noise]} {args.level:g} on {n:,} images of {dataset.name} ({args.split}); "
          f"VAE method: {result.method}")
    print(f"  PSNR corrupted {summary['psnr_noisy']:7.2f} dB")
    print(f"  PSNR VAE       {summary['psnr_denoised']:7.2f} dB  ({gain:+.2f} dB)")
    print(f"  PSNR median    {summary['psnr_median']:7.2f} dB  (3x3 median filter)")
    if args.out is not None:
        print(f"wrote {args.out} (rows: clean, corrupted, median, VAE)")
    return 0


def _write_grid(path: Path, result) -> None:
    import torch
    from torchvision.utils import save_image

    from .core.atomic import atomic_write

    cols = min(MAX_GRID_COLUMNS, len(result.clean))
    rows = [result.clean, result.corrupted.images, result.median, result.denoised]
    tiles = [torch.as_tensor(r[:cols]).reshape(cols, -1, *r.shape[-2:]) for r in rows]
    with atomic_write(path) as f:
        save_image(torch.cat(tiles), f, nrow=cols, padding=2, pad_value=0.5, format="png")


# -- score ---------------------------------------------------------------------------------------
def _score(args) -> int:
    import sys

    from .core import load_checkpoint, resolve_device
    from .core.anomaly import UNCALIBRATED, anomalous, score_split
    from .core.atomic import atomic_write, check_writable
    from .core.complexity import COMPRESSORS
    from .core.data import binarized
    from .core.errors import ConfigError, DataError

    compressors = []
    for c in (args.compressors or "").split(","):
        c = c.strip()
        if c and c not in COMPRESSORS:
            raise ConfigError(f"--compressors takes names from {', '.join(COMPRESSORS)} (got {c!r})")
        if c and c not in compressors:
            compressors.append(c)
    check_writable(args.out, "--out")
    bundle = load_checkpoint(args.checkpoint)
    device = resolve_device(args.device)
    model = bundle["_model"].to(device)
    dataset = dataset_for(args, bundle)
    split = dataset.split(args.split)
    binarize = bundle["train_config"].binarize
    if binarize:  # scored as such a model was validated: on one fixed 0/1 draw of the pixels
        split = binarized(split, args.seed)
    positive = None
    if args.anomalous_classes is not None:
        positive = anomalous(split.labels.numpy(), args.anomalous_classes)
        if positive.all() or not positive.any():
            what = "every image" if positive.all() else "no image"
            raise ConfigError(f"--anomalous-classes {','.join(map(str, args.anomalous_classes))} marks {what} of "
                              f"{dataset.name} ({args.split}); an AUROC needs anomalous and normal images")
    try:
        calibration = _calibration(args, bundle, dataset, model, device, binarize)
    except DataError as exc:
        calibration = None
        print(f"vae-studio: warning: the model's training images cannot be read ({exc}); the score column is "
              f"the uncalibrated {UNCALIBRATED}", file=sys.stderr)
    table = score_split(model, split, args.iwae_samples, args.seed, device, calibration, compressors)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(table.csv_columns())
    for row in table.rows():
        writer.writerow([row[0], row[1], *(f"{v:.6g}" for v in row[2:])])
    with atomic_write(args.out, "w") as f:
        f.write(buf.getvalue())
    means = {name: float(v.mean()) for name, v in table.scores.items()}
    result = {"checkpoint": str(args.checkpoint), "dataset": dataset.name, "split": args.split, "n_images": len(table),
              "likelihood": table.likelihood + ("-binarized" if binarize else ""), "iwae_samples": args.iwae_samples,
              "score": table.recommended, "calibrated_on": None if calibration is None else calibration.n_images,
              "out": str(args.out), "means": means}
    if positive is not None:
        result["anomalous_classes"] = list(args.anomalous_classes)
        result["n_anomalous"] = int(positive.sum())
        result["auroc"] = table.aurocs(positive)
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"scored {len(table):,} images of {dataset.name} ({args.split}) with k = {args.iwae_samples}; "
          f"wrote {args.out}; the column 'score' is {table.recommended} (higher = more anomalous)")
    for name, mean in means.items():
        auc = f"   AUROC {result['auroc'][name]:.3f}" if positive is not None else ""
        print(f"  {name:<16} mean {mean:12.2f}{auc}")
    return 0


def _calibration(args, bundle, dataset, model, device, binarize: bool):
    """The recommended score's calibration, from the training images of the checkpoint's own dataset."""
    from .core.anomaly import Calibration
    from .core.data import binarized, class_subset

    own = dataset if args.dataset is None else dataset_for(
        argparse.Namespace(dataset=None, data_dir=args.data_dir, checkpoint=args.checkpoint), bundle)
    train = class_subset(own.train, bundle["train_config"].classes)
    if binarize:
        train = binarized(train, args.seed)
    return Calibration.fit(model, train, args.iwae_samples, args.seed, device)


# -- synth ---------------------------------------------------------------------------------------
def _synth(args) -> int:
    from .cli import _stored_sampler
    from .core import load_checkpoint, resolve_device
    from .core.synth import require_conditional, synthesize, test_count, write_folder

    bundle = load_checkpoint(args.checkpoint)
    model = bundle["_model"]
    require_conditional(model)  # exit 2 before any work
    device = resolve_device(args.device)
    model = model.to(device)
    classes = bundle["train_config"].classes or tuple(range(model.cfg.num_classes))
    posterior = None
    if args.sampler == "posterior":
        posterior = _stored_sampler(bundle, args.checkpoint)
        if posterior is None:  # a checkpoint from before samplers were stored: fit one now
            from .cli import load_data
            from .core.data import class_subset
            from .core.sampler import fit_posterior_sampler

            train = class_subset(load_data(bundle["dataset"], image_shape=model.cfg.image_shape).train, bundle["train_config"].classes)
            posterior = fit_posterior_sampler(model, train, device, seed=args.seed)
    kw = dict(classes=classes, posterior=posterior, sampler=args.sampler, temperature=args.temperature, device=device)
    train = synthesize(model, args.per_class, seed=args.seed, **kw)
    test = synthesize(model, test_count(args.per_class), seed=args.seed + 1_000_003, **kw)
    names = list(bundle.get("class_names") or [])
    write_folder(args.out, train, test, names if len(names) == model.cfg.num_classes else None)
    summary = {"checkpoint": str(args.checkpoint), "out": str(args.out), "classes": list(classes),
               "per_class": args.per_class, "n_train": len(train.labels), "n_test": len(test.labels),
               "sampler": args.sampler, "temperature": args.temperature}
    if args.json:
        print(json.dumps(summary))
        return 0
    print(f"wrote {len(train.labels):,} generated images ({args.per_class:,} of each of {len(classes)} classes) and "
          f"{len(test.labels):,} more as the t10k split to {args.out} ({args.sampler} sampler, temperature "
          f"{args.temperature:g}); read it back with --dataset {args.out}")
    return 0
