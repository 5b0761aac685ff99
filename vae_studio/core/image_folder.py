"""A folder of ordinary images (PNG, JPEG, BMP) as uint8 tensors, decoded with Pillow.

Three layouts are understood: one subfolder per class (``torchvision.datasets.ImageFolder``'s,
class names from the folder names, images anywhere below them), ``train/`` and ``test/`` (or
``val/``) each holding such class folders, and a flat folder of images without labels. Files that
are not images, or that Pillow cannot read, are skipped and named in a note; a folder with no
readable image at all is an error.

Decoding is most of the cost, and Pillow releases the GIL while it decodes and resizes, so the
images are read by a pool of threads; JPEGs are decoded at a reduced scale when that still leaves
enough pixels (``Image.draft``).
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from .errors import DataError
from .image_format import default_size

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp"})
HELD_OUT_FOLDERS = ("test", "val", "valid", "validation")
GREY_MODES = frozenset({"1", "L", "LA", "La", "I", "F", "I;16", "I;16L", "I;16B", "I;16N"})
SHOWN_SKIPPED = 3  # names in the note about skipped files
PROGRESS_INTERVAL = 0.1  # seconds between progress reports
MAX_THREADS = 8  # decoding threads, at most one per CPU

Progress = Callable[[int, int], None]  # (images decoded, images in all)


@dataclass(frozen=True)
class FolderImages:
    images: torch.Tensor  # uint8 (N, C, S, S)
    labels: torch.Tensor  # int64 (N,); all 0 without class folders
    held_out: torch.Tensor | None  # bool (N,) for a train/test layout, else None
    class_names: tuple[str, ...]  # () for a flat folder: the images have no labels
    notes: tuple[str, ...]


@dataclass
class _Scan:
    files: list[tuple[Path, int, bool]]  # path, label, held out
    class_names: tuple[str, ...]
    skipped: list[tuple[str, str]]  # (name relative to the folder, why)


def holds_images(folder: Path) -> bool:
    """Whether ``folder`` or a folder below it holds a file named like an image."""
    try:
        for _, _, files in os.walk(folder):
            if any(Path(f).suffix.lower() in IMAGE_SUFFIXES for f in files):
                return True
    except OSError:
        return False
    return False


def load_image_folder(folder: Path, image_size: int | None = None, channels: int | None = None,
                      progress: Progress | None = None) -> FolderImages:
    """Every readable image below ``folder``, centre-cropped and resized to ``image_size`` px.

    ``channels`` None: 1 when every image is stored as greyscale, else 3. ``image_size`` None: 28
    for grey, 32 for colour.
    """
    scan = _scan(folder)
    paths = [p for p, _, _ in scan.files]
    total = len(paths) + len(scan.skipped)  # every file looked at, for the note
    if not paths:
        raise DataError(_no_images(folder, scan.skipped))
    if channels is None:  # headers only, and the first colour file settles it
        channels = 3 if any(map(_is_colour, paths)) else 1
    with ThreadPoolExecutor(max_workers=max(1, min(MAX_THREADS, os.cpu_count() or 1))) as pool:
        size = image_size or default_size(channels)
        out = np.empty((len(paths), size, size, channels), dtype=np.uint8)
        keep = np.zeros(len(paths), dtype=bool)
        last = 0.0
        for i, result in enumerate(pool.map(lambda p: _decode(p, size, channels), paths)):
            if isinstance(result, str):
                scan.skipped.append((_relative(paths[i], folder), result))
            else:
                out[i], keep[i] = result, True
            now = time.perf_counter()
            if progress is not None and (now - last >= PROGRESS_INTERVAL or i + 1 == len(paths)):
                last = now
                progress(i + 1, len(paths))
    if not keep.any():
        raise DataError(_no_images(folder, scan.skipped))
    labels = np.array([label for _, label, _ in scan.files], dtype=np.int64)[keep]
    held = np.array([h for _, _, h in scan.files], dtype=bool)[keep]
    images = torch.from_numpy(out[keep]).permute(0, 3, 1, 2).contiguous()
    notes = (_skipped_note(scan.skipped, total),) if scan.skipped else ()
    splits = any(h for _, _, h in scan.files)
    return FolderImages(images, torch.from_numpy(labels), torch.from_numpy(held) if splits else None, scan.class_names, notes)


# -- what is in the folder ------------------------------------------------------------------------
def _scan(folder: Path) -> _Scan:
    try:
        dirs, files = _entries(folder)
        by_name = {d.name.lower(): d for d in dirs}
        held = next((by_name[n] for n in HELD_OUT_FOLDERS if n in by_name), None)
        if "train" in by_name and held is not None:
            train, test = _classes(by_name["train"], folder), _classes(held, folder)
            if bool(train[0]) == bool(test[0]) and any(ps for part in (train, test) for ps in part[1]):
                outside = [(_relative(p, folder), "outside the train and test folders") for p in files]
                return _join(train, test, outside)
        names, per_class, skipped = _classes(folder, folder)
    except OSError as exc:
        raise DataError(f"cannot read the dataset folder {folder}: {exc.strerror or exc}") from None
    return _Scan([(p, c, False) for c, ps in enumerate(per_class) for p in ps], names, skipped)


def _entries(folder: Path) -> tuple[list[Path], list[Path]]:
    dirs, files = [], []
    for p in sorted(folder.iterdir()):
        if p.name.startswith("."):  # .DS_Store, .git: never the person's images
            continue
        (dirs if p.is_dir() else files).append(p)
    return dirs, files


def _classes(folder: Path, root: Path) -> tuple[tuple[str, ...], list[list[Path]], list[tuple[str, str]]]:
    """(class names, image files per class, skipped files) of one folder: its subfolders that
    hold images are the classes; without any, its own images form one unlabelled class."""
    dirs, files = _entries(folder)
    skipped: list[tuple[str, str]] = []
    names, per_class = [], []
    for d in dirs:
        images = []
        for top, subdirs, found in os.walk(d):
            subdirs[:] = sorted(s for s in subdirs if not s.startswith("."))
            for f in sorted(found):
                if f.startswith("."):
                    continue
                p = Path(top) / f
                if p.suffix.lower() in IMAGE_SUFFIXES:
                    images.append(p)
                else:
                    skipped.append((_relative(p, root), "not an image"))
        if images:
            names.append(d.name)
            per_class.append(images)
    loose = [p for p in files if p.suffix.lower() in IMAGE_SUFFIXES]
    skipped += [(_relative(p, root), "not an image") for p in files if p.suffix.lower() not in IMAGE_SUFFIXES]
    if names:
        skipped += [(_relative(p, root), "outside the class folders") for p in loose]
        return tuple(names), per_class, skipped
    return (), [loose], skipped


def _join(train, test, outside: list[tuple[str, str]]) -> _Scan:
    names = tuple(sorted(set(train[0]) | set(test[0])))
    files = []
    for (own, per_class, _), held in ((train, False), (test, True)):
        for name, paths in zip(own or ("",), per_class):
            label = names.index(name) if names else 0
            files += [(p, label, held) for p in paths]
    return _Scan(files, names, train[2] + test[2] + outside)


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return path.name


# -- decoding -------------------------------------------------------------------------------------
def _is_colour(path: Path) -> bool:
    """From the file's header only: whether it stores colour (a palette of greys does not)."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            if im.mode in GREY_MODES:
                return False
            if im.mode in ("P", "PA"):
                palette = im.getpalette() or []
                rgb = np.asarray(palette[: len(palette) // 3 * 3]).reshape(-1, 3)
                return not (rgb == rgb[:, :1]).all()
            return True
    except Exception:  # noqa: BLE001 - unreadable files are reported by the decoding pass
        return False


def _decode(path: Path, size: int, channels: int) -> np.ndarray | str:
    """(size, size, channels) uint8, or why the file cannot be used."""
    from PIL import Image

    mode = "L" if channels == 1 else "RGB"
    try:
        with Image.open(path) as im:
            if im.format == "JPEG":
                im.draft(mode, (size, size))  # decode at 1/2, 1/4 or 1/8 scale while that is still enough
            im = _in_mode(im, mode)
            w, h = im.size
            side = min(w, h)
            box = ((w - side) / 2, (h - side) / 2, (w + side) / 2, (h + side) / 2)
            im = im.resize((size, size), Image.Resampling.BICUBIC, box=box, reducing_gap=3.0)
            a = np.asarray(im, dtype=np.uint8)
    except Exception as exc:  # noqa: BLE001 - a damaged file can fail anywhere in a decoder
        return _reason(exc)
    return a[..., None] if a.ndim == 2 else a


def _in_mode(im, mode: str):
    from PIL import Image

    if im.mode in ("I", "F") or im.mode.startswith("I;16"):
        # 16-bit and float greys: scaled to 8 bits, where a plain convert would clip them
        a = np.asarray(im, dtype=np.float64)
        top = 65535.0 if im.mode.startswith("I;16") else max(255.0, float(a.max()) if a.size else 255.0)
        im = Image.fromarray(np.clip(np.round(a * (255.0 / top)), 0, 255).astype(np.uint8))
    elif im.mode in ("P", "PA"):
        im = im.convert("RGBA")  # a palette's transparency needs RGBA on the way to RGB or L
    return im if im.mode == mode else im.convert(mode)


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    first = text[0] if text else type(exc).__name__
    if first.startswith("cannot identify image file"):
        return "not a readable image"
    return first if len(first) <= 60 else first[:57] + "..."


def _skipped_note(skipped: list[tuple[str, str]], total: int) -> str:
    shown = ", ".join(f"{name} ({why})" for name, why in skipped[:SHOWN_SKIPPED])
    more = f" and {len(skipped) - SHOWN_SKIPPED:,} more" if len(skipped) > SHOWN_SKIPPED else ""
    return f"skipped {len(skipped):,} of {total:,} files: {shown}{more}"


def _no_images(folder: Path, skipped: list[tuple[str, str]]) -> str:
    head = (f"{folder} holds no images: put PNG, JPEG or BMP files in it (one subfolder per class, or all in the "
            "folder itself for unlabelled images), or the MNIST-format IDX files train-images-idx3-ubyte and "
            "train-labels-idx1-ubyte")
    if not skipped:
        return head
    return head + f"; {_skipped_note(skipped, len(skipped))}"
