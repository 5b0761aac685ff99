"""``vae-studio traverse`` and ``vae-studio interpolate``: animated GIFs (or PNG grids) from a checkpoint.

Bad arguments end in one line and exit status 2, like every command; the pictures are made by
:mod:`vae_studio.core.animation`, the same code the window's Generate tab exports with.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .cli import _add_data_args, _number


def _dims(text: str) -> list[int]:
    try:
        dims = [int(p) for p in text.split(",") if p.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--dims takes dimension numbers like 0,3,5 (got {text[:40]!r})") from None
    if not dims or any(d < 0 for d in dims) or len(dims) > 64:
        raise argparse.ArgumentTypeError(f"--dims takes 1 to 64 dimension numbers, counted from 0 (got {text[:40]!r})")
    return dims


def _add_picture_args(p: argparse.ArgumentParser, steps: int) -> None:
    p.add_argument("checkpoint", type=Path, metavar="CKPT")
    p.add_argument("--steps", type=_number(int, "--steps", 2, 200), default=steps, metavar="S",
                   help=f"images along the way, both ends included (default {steps})")
    p.add_argument("--label", type=_number(int, "--label", 0, 255), metavar="L", help="the class a conditional model draws")
    p.add_argument("--scale", type=_number(int, "--scale", 1, 16), default=2, metavar="K",
                   help="each image pixel becomes K x K pixels (default 2)")
    p.add_argument("--fps", type=_number(float, "--fps", 0, 50, lo_open=True), default=8.0, metavar="F",
                   help="frames a second of a .gif (default 8)")
    p.add_argument("--keep", choices=("best", "last"), default="best",
                   help="the weights of the best held-out epoch (default) or of the last epoch, where the file has both")
    _add_data_args(p, None)


def add_commands(sub) -> None:
    t = sub.add_parser("traverse", help="latent traversals as an animated GIF or a PNG grid")
    _add_picture_args(t, 9)
    t.add_argument("--out", type=Path, required=True, metavar="FILE",
                   help=".gif: each frame sets every chosen dimension to one value, from -span to +span and back; "
                   ".png: one row per dimension, one column per value")
    t.add_argument("--dims", type=_dims, metavar="D[,D...]",
                   help="latent dimensions to traverse, counted from 0 (default: up to 10 that the decoder uses, most KL first)")
    t.add_argument("--span", type=_number(float, "--span", 0, 100, lo_open=True), default=3.0, metavar="A",
                   help="values from -A to +A (default 3)")
    t.add_argument("--image", type=_number(int, "--image", 0), metavar="I",
                   help="start from the posterior mean of held-out image I (default: z = 0, the prior's mean)")
    t.set_defaults(run=traverse)

    i = sub.add_parser("interpolate", help="an interpolation between two held-out images as an animated GIF or a PNG strip")
    _add_picture_args(i, 10)
    i.add_argument("--from", dest="start", type=_number(int, "--from", 0), required=True, metavar="I",
                   help="index of the held-out image to start from")
    i.add_argument("--to", dest="end", type=_number(int, "--to", 0), required=True, metavar="J",
                   help="index of the held-out image to end at")
    i.add_argument("--out", type=Path, required=True, metavar="FILE",
                   help=".gif: one frame per point of the path, there and back; .png: the path as one strip")
    i.add_argument("--slerp", action="store_true", help="follow the great circle (spherical interpolation) instead of a straight line")
    i.set_defaults(run=interpolate)


def _model(args):
    from .core import load_checkpoint
    from .core.animation import check_suffix
    from .core.atomic import check_writable
    from .core.checkpoint import select_weights
    from .core.errors import ConfigError

    check_suffix(args.out)
    check_writable(args.out, "--out")
    bundle = select_weights(load_checkpoint(args.checkpoint), args.keep)
    model = bundle["_model"]
    cfg = model.cfg
    if args.label is not None and not cfg.conditional:
        raise ConfigError(f"--label only applies to models given the class label; this one is {cfg.variant} without")
    if args.label is not None and args.label >= cfg.num_classes:
        raise ConfigError(f"--label must be between 0 and {cfg.num_classes - 1} (got {args.label})")
    return bundle, model


def _held_out(args, bundle, indices: dict[str, int]):
    """The held-out images at ``indices`` (flag -> index), as float arrays, with their labels."""
    from .cli import dataset_for
    from .core.data import to_float
    from .core.errors import ConfigError

    test = dataset_for(args, bundle).test  # loaded the way the model was trained on it
    for flag, i in indices.items():
        if i >= len(test):
            raise ConfigError(f"{flag} must be between 0 and {len(test) - 1} (the held-out set has {len(test):,} images; got {i})")
    picked = list(indices.values())
    return to_float(test.images[picked]).numpy(), [int(test.labels[i]) for i in picked]


def _encode_one(model, image, label: int):
    """The posterior mean of one float image ([C,] H, W)."""
    from .core.decoding import encode

    return encode(model, image[None], label if model.conditional else None)[0][0]


def _write(args, frames, picture, what: str) -> int:
    from .core.animation import boomerang, save_animation, save_picture

    if args.out.suffix.lower() == ".gif":
        frames = boomerang(frames)
        save_animation(frames, args.out, scale=args.scale, fps=args.fps)
        h, w = frames[0].shape[-2:]
        print(f"wrote {what} to {args.out}: {len(frames)} frames of {w * args.scale} x {h * args.scale} px at {args.fps:g} fps")
    else:
        save_picture(picture, args.out, scale=args.scale)
        h, w = picture.shape[-2:]
        print(f"wrote {what} to {args.out}: {w * args.scale} x {h * args.scale} px")
    return 0


def traverse(args) -> int:
    import numpy as np

    from .core.animation import default_dims, traversal, traversal_frames, traversal_picture
    from .core.errors import ConfigError

    bundle, model = _model(args)
    cfg = model.cfg
    dims = args.dims if args.dims is not None else default_dims(cfg.latent_dim, bundle.get("kl_per_dim"))
    bad = [d for d in dims if d >= cfg.latent_dim]
    if bad:
        raise ConfigError(f"--dims must be between 0 and {cfg.latent_dim - 1} for this {cfg.latent_dim}-D model (got {bad[0]})")
    label = args.label
    z = np.zeros(cfg.latent_dim)
    if args.image is not None:
        (image,), (image_label,) = _held_out(args, bundle, {"--image": args.image})
        z = _encode_one(model, image, image_label)
        label = image_label if label is None else label
    if cfg.conditional and label is None:
        raise ConfigError(f"this model is given the class label ({cfg.variant}): give --label (0 to {cfg.num_classes - 1}) "
                          "or --image")
    images = traversal(model, z, dims, args.steps, args.span, label)
    names = ", ".join(str(d) for d in dims)
    return _write(args, traversal_frames(images), traversal_picture(images),
                  f"traversals of dimension{'s' if len(dims) > 1 else ''} {names} (counted from 0)")


def interpolate(args) -> int:
    from .core.animation import interpolation
    from .core.generate import tile

    bundle, model = _model(args)
    (a, b), (la, lb) = _held_out(args, bundle, {"--from": args.start, "--to": args.end})
    za, zb = _encode_one(model, a, la), _encode_one(model, b, lb)
    label = (args.label if args.label is not None else la) if model.cfg.conditional else None
    method = "slerp" if args.slerp else "linear"
    images = interpolation(model, za, zb, args.steps, method, label)
    frames = [images[k] for k in range(len(images))]
    what = f"a {method} interpolation from held-out image {args.start} to {args.end}"
    return _write(args, frames, tile(images, len(images)), what)
