#!/usr/bin/env python3
"""Write a folder of coloured shapes, one subfolder per shape, to try image folders offline.

    python scripts/make_shapes.py /tmp/shapes --per-class 1000
    vae-studio train --dataset /tmp/shapes --epochs 20

Five shapes (disc, square, triangle, ring, cross), each in a random colour on a background of
another, at a random place, size and angle, in pictures of random size and aspect ratio (so
loading has to crop and resize them). The shape is the class; the colour is for the latent
space to find on its own. ``--format jpg`` writes JPEGs, ``--flat`` one folder without classes.
"""

from __future__ import annotations

import argparse
import colorsys
import math
from pathlib import Path

import numpy as np

SHAPES = ("disc", "square", "triangle", "ring", "cross")


def _colour(rng, light: bool) -> tuple[int, int, int]:
    h = rng.uniform(0, 1)
    s = rng.uniform(0.5, 1.0)
    v = rng.uniform(0.75, 1.0) if light else rng.uniform(0.05, 0.3)
    return tuple(int(255 * c) for c in colorsys.hsv_to_rgb(h, s if light else s * 0.5, v))


def picture(rng: np.random.Generator, shape: str, min_side: int = 32, max_side: int = 96):
    from PIL import Image, ImageDraw

    w, h = (int(v) for v in rng.integers(min_side, max_side + 1, size=2))
    im = Image.new("RGB", (w, h), _colour(rng, light=False))
    d = ImageDraw.Draw(im)
    side = min(w, h)
    r = side * rng.uniform(0.18, 0.36)
    cx, cy = w / 2 + rng.uniform(-0.18, 0.18) * side, h / 2 + rng.uniform(-0.18, 0.18) * side
    fill = _colour(rng, light=True)
    turn = rng.uniform(0, 2 * math.pi)

    def poly(points):
        c, s = math.cos(turn), math.sin(turn)
        return [(cx + x * c - y * s, cy + x * s + y * c) for x, y in points]

    if shape == "disc":
        d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=fill)
    elif shape == "ring":
        d.ellipse((cx - r, cy - r, cx + r, cy + r), outline=fill, width=max(2, int(r * 0.35)))
    elif shape == "square":
        d.polygon(poly([(-r, -r), (r, -r), (r, r), (-r, r)]), fill=fill)
    elif shape == "triangle":
        d.polygon(poly([(r * math.cos(a), r * math.sin(a)) for a in (-math.pi / 2, math.pi / 6, 5 * math.pi / 6)]), fill=fill)
    else:
        t = r * 0.35
        d.polygon(poly([(-t, -r), (t, -r), (t, -t), (r, -t), (r, t), (t, t), (t, r), (-t, r), (-t, t), (-r, t),
                        (-r, -t), (-t, -t)]), fill=fill)
    return im


def make_shapes(out: Path, per_class: int, fmt: str = "png", flat: bool = False, seed: int = 0,
                min_side: int = 32, max_side: int = 96) -> int:
    rng = np.random.default_rng(seed)
    n = 0
    for shape in SHAPES:
        folder = out if flat else out / shape
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            im = picture(rng, shape, min_side, max_side)
            im.save(folder / f"{shape}-{i:05d}.{fmt}", **({"quality": 90} if fmt == "jpg" else {}))
            n += 1
    return n


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out", type=Path)
    p.add_argument("--per-class", type=int, default=1000)
    p.add_argument("--format", choices=("png", "jpg", "bmp"), default="png")
    p.add_argument("--flat", action="store_true", help="all pictures in one folder: no labels")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--sides", type=int, nargs=2, default=(32, 96), metavar=("MIN", "MAX"),
                   help="range of the pictures' widths and heights in pixels")
    args = p.parse_args(argv)
    n = make_shapes(args.out, args.per_class, args.format, args.flat, args.seed, *args.sides)
    print(f"wrote {n:,} pictures to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
