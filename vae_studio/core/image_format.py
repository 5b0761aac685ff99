"""The shape a run's images take: one square size and a number of channels (grey or colour).

Every source is brought to it the same way: centre-cropped to a square, resized with
anti-aliasing, and turned grey (ITU-R 601 luma, as Pillow does) or colour (the grey level in
all three channels). ``None`` for the size or the channels means "choose": the images' own
channels, and for the size the source's own when it has one fixed square size (IDX files,
torchvision sets); for a folder of pictures, 28 px for grey and 32 px for colour.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

IMAGE_SIZES = (28, 32, 64)  # what the settings offer; the conv models need a multiple of 4
CHANNELS = (1, 3)
DEFAULT_SIZE = {1: 28, 3: 32}  # MNIST's and CIFAR's own sizes
_LUMA = (0.299, 0.587, 0.114)


def default_size(channels: int) -> int:
    return DEFAULT_SIZE[channels]


def model_format(image_shape) -> tuple[int | None, int]:
    """(size, channels) that load a dataset the way a model of ``image_shape`` (C, H, W) takes
    it; a size of None for a non-square model (an IDX folder's own size, from older versions)."""
    c, h, w = (int(s) for s in image_shape)
    return (h if h == w else None), c


def conform(images: torch.Tensor, size: int | None, channels: int | None, native_size: bool = True) -> torch.Tensor:
    """uint8 images (N, C, H, W) at ``size`` x ``size`` px with ``channels`` channels.

    ``native_size``: with ``size`` None, keep a square size the images already have instead of
    the grey/colour default. Returns the input itself when nothing changes.
    """
    c, h, w = images.shape[1:]
    channels = channels or c
    if size is None:
        size = h if native_size and h == w else default_size(channels)
    out = images
    if channels != c:
        out = to_channels(out, channels)
    if out.shape[-2:] != (size, size):
        out = resize_square(out, size)
    return out


def to_channels(images: torch.Tensor, channels: int) -> torch.Tensor:
    c = images.shape[1]
    if channels == c:
        return images
    if channels == 3 and c == 1:
        return images.expand(-1, 3, -1, -1).contiguous()
    if channels == 1 and c == 3:
        weights = torch.tensor(_LUMA, dtype=torch.float32).view(1, 3, 1, 1)
        out = torch.empty((len(images), 1, *images.shape[2:]), dtype=torch.uint8)
        for i in range(0, len(images), 4096):  # in chunks: a float copy of CIFAR is 600 MB
            grey = (images[i : i + 4096].float() * weights).sum(1, keepdim=True)
            out[i : i + 4096] = grey.round_().clamp_(0, 255).to(torch.uint8)
        return out
    raise ValueError(f"cannot turn {c}-channel images into {channels} channels")


def resize_square(images: torch.Tensor, size: int) -> torch.Tensor:
    """Centre-crop (N, C, H, W) uint8 images to a square and resize them to ``size`` px."""
    h, w = images.shape[-2:]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    square = images[..., top : top + side, left : left + side]
    if side == size:
        return square.contiguous()
    out = torch.empty((len(images), images.shape[1], size, size), dtype=torch.uint8)
    for i in range(0, len(images), 2048):
        x = square[i : i + 2048].float()
        y = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=side > size)
        out[i : i + 2048] = y.round_().clamp_(0, 255).to(torch.uint8)
    return out


def describe(image_shape) -> str:
    """E.g. "32×32 colour" or "28×28 grey"."""
    c, h, w = image_shape
    return f"{h}×{w} {'colour' if c == 3 else 'grey' if c == 1 else f'{c}-channel'}"
