"""Small folders of generated images for the tests of image-folder datasets (no download).

Each class is a shape of its own colour (red discs, green squares, blue triangles) on a dark
background of random tint, at a random place and size, in pictures of random sizes and aspect
ratios, so loading has to crop and resize them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

CLASSES = ("disc", "square", "triangle")
_HUES = {"disc": (220, 60, 50), "square": (60, 200, 80), "triangle": (70, 90, 230)}


def shape_picture(rng: np.random.Generator, kind: str, grey: bool = False):
    from PIL import Image, ImageDraw

    w, h = (int(v) for v in rng.integers(28, 56, size=2))
    bg = tuple(int(v) for v in rng.integers(0, 50, size=3))
    im = Image.new("RGB", (w, h), bg)
    d = ImageDraw.Draw(im)
    side = min(w, h)
    r = side * rng.uniform(0.2, 0.35)
    cx, cy = w / 2 + rng.uniform(-0.15, 0.15) * side, h / 2 + rng.uniform(-0.15, 0.15) * side
    colour = tuple(int(np.clip(c + rng.integers(-30, 30), 0, 255)) for c in _HUES[kind])
    if kind == "disc":
        d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=colour)
    elif kind == "square":
        d.rectangle((cx - r, cy - r, cx + r, cy + r), fill=colour)
    else:
        d.polygon([(cx, cy - r), (cx - r, cy + r), (cx + r, cy + r)], fill=colour)
    return im.convert("L") if grey else im


def make_image_folder(root: Path, per_class: int = 60, classes=CLASSES, flat: bool = False, grey: bool = False,
                      seed: int = 0, ext: str = ".png") -> Path:
    """``per_class`` pictures of each class under ``root``: one subfolder per class, or all in
    ``root`` itself (``flat``: no labels)."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    for kind in classes:
        folder = root if flat else root / kind
        folder.mkdir(exist_ok=True)
        for i in range(per_class):
            shape_picture(rng, kind, grey).save(folder / f"{kind}-{i:03d}{ext}")
    return root
