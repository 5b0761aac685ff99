"""Dataset sources behind one interface, and a device-resident batcher.

A source becomes a :class:`Dataset`: uint8 images (N, C, H, W) and int64 labels for a training
and a held-out split, every image of one square size with 1 (grey) or 3 (colour) channels
(:mod:`image_format`). Training keeps the whole split on the training device and draws batches
as index gathers on a shuffled permutation, so there is no per-sample Python work and no
DataLoader process; MNIST is 47 MB as uint8.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import torch

from .errors import ConfigError, DataError
from .idx import read_idx
from .image_format import conform, model_format

TORCHVISION_SOURCES = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST", "kmnist": "KMNIST", "cifar10": "CIFAR10"}
BUILTIN_SOURCES = ("digits", *TORCHVISION_SOURCES)
DIGIT_NAMES = tuple(str(i) for i in range(10))
_SPLIT_SEED = 0
_HELD_OUT_FRACTION = 0.1
_IDX_STEMS = ("train-images", "train-labels", "t10k-images", "t10k-labels")


@dataclass(frozen=True)
class Split:
    images: torch.Tensor  # uint8 (N, C, H, W); (N, H, W) is taken as one channel
    labels: torch.Tensor  # int64 (N,)

    def __post_init__(self) -> None:
        if self.images.dtype == torch.uint8 and self.images.ndim == 3:
            object.__setattr__(self, "images", self.images.unsqueeze(1))
        if self.images.dtype != torch.uint8 or self.images.ndim != 4:
            raise DataError(f"images must be uint8 (N, C, H, W), got {self.images.dtype} {tuple(self.images.shape)}")
        if self.labels.shape != (self.images.shape[0],):
            raise DataError(f"{self.images.shape[0]} images but {tuple(self.labels.shape)} labels")

    def __len__(self) -> int:
        return self.images.shape[0]

    def subset(self, index: torch.Tensor) -> "Split":
        return Split(self.images[index], self.labels[index])


@dataclass(frozen=True)
class Dataset:
    name: str
    train: Split
    test: Split
    class_names: tuple[str, ...]  # () for images without labels (a flat folder)
    notes: tuple[str, ...] = ()  # what loading had to tell (files skipped), one sentence each

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(int(s) for s in self.train.images.shape[1:])

    @property
    def labelled(self) -> bool:
        return bool(self.class_names)

    @property
    def num_classes(self) -> int:
        """Classes a model is built for: 1 for unlabelled images, which all carry label 0."""
        return max(1, len(self.class_names))

    def split(self, which: str) -> Split:
        if which not in ("train", "test"):
            raise DataError(f"split must be 'train' or 'test' (got {which!r})")
        return self.train if which == "train" else self.test


def class_subset(split: Split, classes) -> Split:
    """The images of ``split`` whose label is one of ``classes`` (None: all of them)."""
    if classes is None:
        return split
    keep = torch.isin(split.labels, torch.as_tensor(list(classes), dtype=split.labels.dtype))
    return split.subset(torch.nonzero(keep).flatten())


def check_classes(dataset: Dataset, classes) -> None:
    """A ConfigError naming the first of ``classes`` the dataset has no training images of."""
    if classes is None:
        return
    present = set(torch.unique(dataset.train.labels).tolist())
    for c in classes:
        if c not in present:
            known = sorted(present)
            span = f"{known[0]} to {known[-1]}" if known == list(range(known[0], known[-1] + 1)) else ", ".join(map(str, known))
            raise ConfigError(f"class {c} is not in {dataset.name}, whose classes are {span}")
    if len(class_subset(dataset.test, classes)) == 0:
        raise DataError(f"{dataset.name} holds no held-out images of the classes {', '.join(map(str, classes))}, "
                        "so training could not be validated")


def default_data_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "vae-studio" / "datasets"


def describe_sources() -> str:
    return ("digits (built in), mnist, fashion-mnist, kmnist, cifar10, or a folder of images (PNG, JPEG, BMP; "
            "one subfolder per class, or none) or of MNIST-format IDX files")


def load_dataset(
    source: str = "digits",
    data_dir: str | os.PathLike | None = None,
    download: bool = True,
    *,
    image_size: int | None = None,
    channels: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Dataset:
    """Load a dataset by name or folder path; raise :class:`DataError` with a fix on failure.

    ``image_size`` and ``channels`` give every image one square size and 1 or 3 channels; None
    chooses (:mod:`image_format`). ``progress(done, total)`` is called while a folder of images
    decodes.
    """
    if source == "digits":
        return _conformed(_load_digits(), image_size, channels)
    if source in TORCHVISION_SOURCES:
        root = Path(data_dir) if data_dir else default_data_dir()
        return _conformed(_load_torchvision(source, root, download), image_size, channels)
    if not isinstance(source, str) or not source or "\0" in source:
        raise DataError(f"invalid dataset {source!r}: use {describe_sources()}")
    path = Path(source).expanduser()
    try:
        if path.is_dir():
            # stored absolute, so a run trained here can be evaluated or continued from anywhere
            folder = path.resolve()
            if _has_idx(folder):
                return _conformed(_load_idx_folder(folder), image_size, channels)
            return _load_image_folder(folder, image_size, channels, progress)
        exists = path.exists()
    except OSError as exc:  # a name too long, a loop of links
        raise DataError(f"cannot read the dataset folder {path}: {exc.strerror or exc}") from None
    if exists:
        raise DataError(f"{path} is a file; --dataset takes a folder of images or IDX files, or one of: {describe_sources()}")
    if path.is_absolute() or os.sep in source or (os.altsep and os.altsep in source):
        raise DataError(f"the dataset folder {path} does not exist (moved or deleted?); give its current location")
    raise DataError(f"unknown dataset {source!r}: use {describe_sources()}")


def load_for_model(source: str, image_shape, data_dir: str | os.PathLike | None = None, **kw) -> Dataset:
    """``source`` loaded the way a model of ``image_shape`` (C, H, W) takes its images."""
    size, channels = model_format(image_shape)
    dataset = load_dataset(source, data_dir, image_size=size, channels=channels, **kw)
    if dataset.image_shape != tuple(image_shape):
        raise DataError(f"{dataset.name} has {dataset.image_shape} images but the model expects {tuple(image_shape)}")
    return dataset


def _conformed(ds: Dataset, image_size: int | None, channels: int | None) -> Dataset:
    train, test = (conform(s.images, image_size, channels) for s in (ds.train, ds.test))
    if train is ds.train.images and test is ds.test.images:
        return ds
    return Dataset(ds.name, Split(train, ds.train.labels), Split(test, ds.test.labels), ds.class_names, ds.notes)


def _load_image_folder(folder: Path, image_size, channels, progress) -> Dataset:
    from .image_folder import load_image_folder

    found = load_image_folder(folder, image_size, channels, progress)
    whole = Split(found.images, found.labels)
    if found.held_out is not None and found.held_out.any() and not found.held_out.all():
        train, test = whole.subset(~found.held_out), whole.subset(found.held_out)
    else:
        train, test = _stratified_split(whole, str(folder))
    return Dataset(str(folder), train, test, found.class_names, found.notes)


def _has_idx(folder: Path) -> bool:
    return any(_find(folder, stem) is not None for stem in _IDX_STEMS)


def _load_digits() -> Dataset:
    folder = resources.files("vae_studio.resources") / "digits"
    try:
        with resources.as_file(folder / "digits-images-idx3-ubyte.gz") as img, resources.as_file(
            folder / "digits-labels-idx1-ubyte.gz"
        ) as lab:
            images, labels = _read_pair(img, lab)
    except FileNotFoundError as exc:
        raise DataError(f"the built-in digits are missing from this installation ({exc}); reinstall VAE Studio") from None
    whole = Split(torch.from_numpy(images), torch.from_numpy(labels.astype(np.int64)))
    train, test = _stratified_split(whole)
    return Dataset("digits", train, test, DIGIT_NAMES)


def _stratified_split(whole: Split, name: str = "the dataset") -> tuple[Split, Split]:
    """Hold out the same fraction of every class, with a fixed seed so the split never moves.

    A class with a single image stays whole in training; if that leaves nothing held out, one
    image of the whole set is.
    """
    if len(whole) < 2:
        raise DataError(f"{name} holds {len(whole)} image{'s' if len(whole) != 1 else ''}; at least 2 are needed "
                        "(one to train on, one held out to validate)")
    g = torch.Generator().manual_seed(_SPLIT_SEED)
    held = []
    for c in torch.unique(whole.labels):
        members = torch.nonzero(whole.labels == c).flatten()
        members = members[torch.randperm(len(members), generator=g)]
        if len(members) >= 2:
            held.append(members[: max(1, round(len(members) * _HELD_OUT_FRACTION))])
    if not held:
        held.append(torch.randperm(len(whole), generator=g)[:1])
    held_idx = torch.sort(torch.cat(held)).values
    mask = torch.ones(len(whole), dtype=torch.bool)
    mask[held_idx] = False
    return whole.subset(torch.nonzero(mask).flatten()), whole.subset(held_idx)


def _read_pair(images_path: Path, labels_path: Path) -> tuple[np.ndarray, np.ndarray]:
    images = read_idx(images_path, expected_ndim=3)
    labels = read_idx(labels_path, expected_ndim=1)
    if len(images) != len(labels):
        raise DataError(f"{images_path} holds {len(images)} images but {labels_path} holds {len(labels)} labels")
    return images, labels


def _find(folder: Path, stem: str) -> Path | None:
    # torchvision's layout names them e.g. train-images-idx3-ubyte; some mirrors use a dot
    try:
        matches = sorted(p for p in folder.iterdir() if p.is_file() and p.name.startswith(stem) and not p.name.endswith(".tmp"))
    except OSError as exc:
        raise DataError(f"cannot read the dataset folder {folder}: {exc.strerror or exc}") from None
    plain = [p for p in matches if not p.name.endswith(".gz")]
    return (plain or matches or [None])[0]


def _load_idx_folder(folder: Path) -> Dataset:
    splits: dict[str, Split] = {}
    for split, prefix in (("train", "train"), ("test", "t10k")):
        img, lab = _find(folder, f"{prefix}-images"), _find(folder, f"{prefix}-labels")
        if img is None and lab is None:
            continue
        if img is None or lab is None:
            have, missing = (img, "labels") if lab is None else (lab, "images")
            raise DataError(f"{folder} has {have.name} but no matching {prefix}-{missing} file")
        images, labels = _read_pair(img, lab)
        splits[split] = Split(torch.from_numpy(images), torch.from_numpy(labels.astype(np.int64)))
    if not splits:
        raise DataError(
            f"{folder} holds no MNIST-format IDX files (expected train-images-idx3-ubyte[.gz] and "
            "train-labels-idx1-ubyte[.gz], and/or the t10k-* pair) and no images"
        )
    for split, part in splits.items():
        if len(part) == 0:
            prefix = "train" if split == "train" else "t10k"
            raise DataError(f"{folder}: the {prefix}-images file holds no images")
    if len(splits) == 1:  # carve the missing split out of the one that is there
        only = next(iter(splits.values()))
        splits["train"], splits["test"] = _stratified_split(only, str(folder))
    train, test = splits["train"], splits["test"]
    if train.images.shape[1:] != test.images.shape[1:]:
        raise DataError(
            f"{folder}: training images are {tuple(train.images.shape[1:])} but test images are {tuple(test.images.shape[1:])}"
        )
    n_classes = int(max(train.labels.max(), test.labels.max())) + 1
    return Dataset(str(folder), train, test, _folder_class_names(Path(folder), n_classes))


KNOWN_CLASS_NAMES = {  # what a folder of a well-known set is recognised by, and its classes
    "fashionmnist": ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                     "Ankle boot"),
    "kmnist": ("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"),
}


def _folder_class_names(folder: Path, n_classes: int) -> tuple[str, ...]:
    """Names for an IDX folder's labels: a ``classes.txt`` beside the files (one name a line),
    else those of Fashion-MNIST or KMNIST when the folder is theirs, else the label numbers."""
    listed = folder / "classes.txt"
    if listed.is_file():
        try:
            names = [line.strip() for line in listed.read_text(encoding="utf-8").splitlines() if line.strip()]
        except (OSError, UnicodeDecodeError):
            names = []
        if len(names) >= n_classes:
            return tuple(names[:n_classes])
    parts = [p.lower().replace("-", "").replace("_", "") for p in folder.resolve().parts[-3:]]
    for key, names in KNOWN_CLASS_NAMES.items():
        if any(part == key for part in parts) and n_classes <= len(names):
            return names[:n_classes]
    return tuple(str(i) for i in range(n_classes))


def _load_torchvision(name: str, root: Path, download: bool) -> Dataset:
    try:
        from torchvision import datasets
    except Exception as exc:  # torchvision is a dependency, but a broken install should still read clearly
        raise DataError(f"torchvision is needed for {name} but could not be imported ({exc})") from None
    cls = getattr(datasets, TORCHVISION_SOURCES[name])
    try:
        root.mkdir(parents=True, exist_ok=True)
        parts = [cls(root=str(root), train=train, download=download) for train in (True, False)]
    except Exception as exc:
        hint = (
            "connect to the internet once so it can be downloaded"
            if download
            else "allow downloading"
        )
        head = f"{name} is not available under {root} ({_first_line(exc)}); {hint}"
        where = "cifar-10-batches-py" if name == "cifar10" else f"{cls.__name__}/raw"
        files = "its images" if name == "cifar10" else "its IDX files"
        raise DataError(
            f"{head}, or point --data-dir at a folder holding {where}, or pass --dataset with a folder of images or IDX files",
            window_text=f"{head}, or choose Dataset → “{FOLDER_CHOICE}” and pick a folder holding {files} "
            f"(for example {where}), or train on the built-in digits",
        ) from None
    train, test = (Split(_tensor_images(p.data), torch.as_tensor(p.targets, dtype=torch.int64)) for p in parts)
    return Dataset(name, train, test, tuple(str(c).split(" - ")[-1] for c in parts[0].classes))


def _tensor_images(data) -> torch.Tensor:
    """torchvision's image arrays as uint8 (N, C, H, W): MNIST's are (N, H, W) tensors, CIFAR's
    (N, H, W, 3) NumPy arrays."""
    t = torch.as_tensor(np.asarray(data) if not torch.is_tensor(data) else data).to(torch.uint8)
    return t.unsqueeze(1) if t.ndim == 3 else t.permute(0, 3, 1, 2).contiguous()


FOLDER_CHOICE = "Folder of images…"  # the window's dataset item for a folder


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


class DeviceBatches:
    """Shuffled mini-batches gathered from a split that lives on the training device.

    Images stay uint8 on the device (a quarter of the float size) and are converted per batch,
    on the device. The permutation comes from a seeded CPU generator, so runs are reproducible
    on any device.
    """

    def __init__(
        self,
        split: Split,
        batch_size: int,
        device: torch.device,
        generator: torch.Generator,
        drop_last: bool = False,
    ):
        self.images = split.images.to(device)
        self.labels = split.labels.to(device)
        self.batch_size = batch_size
        self.device = device
        self.generator = generator
        self.drop_last = drop_last and len(split) >= batch_size

    def __len__(self) -> int:
        n = self.images.shape[0]
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        n = self.images.shape[0]
        perm = torch.randperm(n, generator=self.generator).to(self.device, non_blocking=True)
        for i in range(len(self)):
            idx = perm[i * self.batch_size : (i + 1) * self.batch_size]
            yield to_float(self.images[idx]), self.labels[idx]


def binarized(split: Split, seed: int = 0) -> Split:
    """One fixed draw of 0/1 pixels (stored as 0/255) with the grey level as probability: the
    held-out set of a run trained on dynamically binarised digits, the same draw every time."""
    g = torch.Generator().manual_seed(seed)
    ink = torch.rand(split.images.shape, generator=g) < split.images.to(torch.float32) / 255.0
    return Split(ink.to(torch.uint8) * 255, split.labels)


def to_float(images_u8: torch.Tensor) -> torch.Tensor:
    """uint8 (N, C, H, W) -> float32 (N, C, H, W) in [0, 1]; (N, H, W) gains its channel axis."""
    x = images_u8.unsqueeze(1) if images_u8.ndim == 3 else images_u8
    return x.to(torch.float32).div_(255.0)
