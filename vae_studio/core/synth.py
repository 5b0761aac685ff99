"""Synthetic labelled images from a conditional model, written as an MNIST-format IDX folder.

Codes come from the samplers of :mod:`.sampler` (by default the per-class Gaussian mixture a
checkpoint stores, else the prior) and are decoded for each class; the decoder's mean images are
quantised to 8 bits. The folder holds ``train-images-idx3-ubyte`` / ``train-labels-idx1-ubyte``
(``per_class`` images of each class), a ``t10k-*`` pair drawn separately (a tenth as many, at
least one per class) so that loaders which expect both splits read it, and ``classes.txt``;
``load_dataset(folder)`` reads it back.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .atomic import atomic_write
from .errors import ConfigError, OutputError
from .idx import write_idx
from .models import VAE
from .sampler import PosteriorSampler, sample_codes

DECODE_CHUNK = 4096  # decoder activations for more codes than this at once cost more memory than time


@dataclass(frozen=True)
class Synthetic:
    images: np.ndarray  # uint8 (N, H, W), or (N, C, H, W) for more than one channel
    labels: np.ndarray  # uint8 (N,)


def require_conditional(model: VAE) -> None:
    if not model.conditional:
        raise ConfigError(
            f"synthetic labelled images need a conditional model (this one is {model.cfg.variant}): "
            "train one with --variant conditional"
        )


@torch.no_grad()
def synthesize(model: VAE, per_class: int, *, classes=None, posterior: PosteriorSampler | None = None,
               sampler: str = "posterior", temperature: float = 1.0, seed: int = 0,
               device: torch.device | str = "cpu") -> Synthetic:
    """``per_class`` generated images of each class (all the model knows unless ``classes``),
    class by class; the posterior sampler needs ``posterior`` (a checkpoint's stored one)."""
    require_conditional(model)
    if per_class < 1:
        raise ConfigError(f"the number of images per class must be at least 1 (got {per_class})")
    classes = list(range(model.cfg.num_classes)) if classes is None else [int(c) for c in classes]
    if posterior is not None and sampler == "posterior":
        # a model trained on some classes has codes fitted for those only
        missing = [c for c in classes if c not in posterior.mixtures]
        if missing:
            raise ConfigError(f"the model's posterior sampler holds no codes for class {missing[0]}; "
                              "use the prior sampler, or the classes it was trained on")
    was_training = model.training
    model.eval()
    images, labels = [], []
    try:
        for i, c in enumerate(classes):
            codes = sample_codes(sampler, per_class, model.cfg.latent_dim, posterior=posterior, label=c,
                                 temperature=temperature, seed=seed + i, prior=model.prior)
            z = torch.as_tensor(codes, dtype=torch.float32, device=device)
            for j in range(0, per_class, DECODE_CHUNK):
                zc = z[j : j + DECODE_CHUNK]
                y = torch.full((len(zc),), c, dtype=torch.long, device=device)
                images.append(model.decode_mean(zc, y).float().cpu())
            labels.append(np.full(per_class, c, dtype=np.uint8))
    finally:
        model.train(was_training)
    x = torch.cat(images).mul_(255.0).round_().clamp_(0, 255).to(torch.uint8).numpy()
    return Synthetic(x[:, 0] if x.shape[1] == 1 else x, np.concatenate(labels))


def write_folder(folder: str | os.PathLike, train: Synthetic, test: Synthetic | None = None,
                 class_names=None) -> Path:
    """An IDX folder: the train pair, the t10k pair when given, and classes.txt when named.

    IDX holds grey images only: colour images are written as PNG files in ``train/`` and ``test/``
    folders of one subfolder per class, the layout :func:`load_dataset` reads as a folder of images.
    """
    folder = Path(folder)
    try:
        if folder.exists() and not folder.is_dir():
            raise OutputError(f"{folder} is a file; --out takes a folder (it is created if need be)")
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create the folder {folder}: {exc.strerror or exc}") from None
    if train.images.ndim == 4:
        return _write_png_folder(folder, train, test, class_names)
    try:
        for prefix, part in (("train", train), ("t10k", test)):
            if part is None:
                continue
            write_idx(folder / f"{prefix}-images-idx3-ubyte", part.images)
            write_idx(folder / f"{prefix}-labels-idx1-ubyte", part.labels)
        if class_names:
            with atomic_write(folder / "classes.txt", "w") as f:
                f.write("".join(f"{name}\n" for name in class_names))
    except OSError as exc:
        raise OutputError(f"cannot write into {folder}: {exc.strerror or exc}") from None
    return folder


def _write_png_folder(folder: Path, train: Synthetic, test: Synthetic | None, class_names) -> Path:
    from PIL import Image

    try:
        for split, part in (("train", train), ("test", test)):
            if part is None:
                continue
            for i, (img, label) in enumerate(zip(part.images, part.labels)):
                name = class_names[label] if class_names else str(int(label))
                sub = folder / split / name
                sub.mkdir(parents=True, exist_ok=True)
                with atomic_write(sub / f"{i:06d}.png", "wb") as f:
                    Image.fromarray(np.ascontiguousarray(img.transpose(1, 2, 0))).save(f, format="PNG")
    except OSError as exc:
        raise OutputError(f"cannot write into {folder}: {exc.strerror or exc}") from None
    return folder


def test_count(per_class: int) -> int:
    """Images per class of the separately drawn t10k split."""
    return max(1, per_class // 10)


TEST_SEED_OFFSET = 1_000_003  # the t10k split's codes are drawn apart from the train split's


def export_folder(model: VAE, folder: str | os.PathLike, per_class: int, *, classes=None,
                  posterior: PosteriorSampler | None = None, sampler: str = "posterior", temperature: float = 1.0,
                  seed: int = 0, class_names=None, device: torch.device | str = "cpu") -> tuple[Synthetic, Synthetic]:
    """What ``vae-studio synth`` writes: ``per_class`` images of each class as the train split,
    :func:`test_count` more drawn apart as the t10k split, and classes.txt when the names fit."""
    kw = dict(classes=classes, posterior=posterior, sampler=sampler, temperature=temperature, device=device)
    train = synthesize(model, per_class, seed=seed, **kw)
    test = synthesize(model, test_count(per_class), seed=seed + TEST_SEED_OFFSET, **kw)
    names = list(class_names or [])
    write_folder(folder, train, test, names if len(names) == model.cfg.num_classes else None)
    return train, test
