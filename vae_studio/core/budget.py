"""What a model costs, known before a byte of it is allocated.

A model is built on PyTorch's ``meta`` device, which records shapes and allocates nothing, so the
size of every weight a config implies is known in microseconds even for a config that would need
terabytes. Loading compares it with the weights a file actually holds; training compares an
estimate of its memory with what the machine has free.
"""

from __future__ import annotations

import os

import torch

from .config import ModelConfig
from .errors import ConfigError
from .models import build_model

# weights, gradients, Adam's two moments, and the trainer's copy of the last good weights and moments
_BYTES_PER_PARAMETER = 4 * 7
_ACTIVATION_FACTOR = 3  # forward outputs kept for backward, their gradients, temporaries


def state_sizes(cfg: ModelConfig) -> dict[str, tuple[int, ...]]:
    """The shape of every entry of the state dict a model of ``cfg`` has; ValueError if it cannot exist."""
    try:
        with torch.device("meta"):
            model = build_model(cfg)
        return {k: tuple(v.shape) for k, v in model.state_dict().items()}
    except (RuntimeError, ValueError, TypeError, OverflowError, MemoryError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise ValueError(f"no model can be built from these settings ({first})") from None


def state_numel(cfg: ModelConfig) -> int:
    total = 0
    for shape in state_sizes(cfg).values():
        n = 1
        for s in shape:
            n *= s
        total += n
    return total


def _activation_numel(cfg: ModelConfig, batch_size: int) -> int:
    """Values one training step keeps per batch, roughly: each layer's output and its ReLU's, both
    ways through the network. (A pass on the meta device would count them exactly, but its first
    use imports a large part of PyTorch: seconds, for an estimate.)"""
    per_image = 4 * sum(cfg.hidden) + 4 * cfg.latent_dim + 2 * cfg.pixels
    if cfg.arch == "conv":
        per_image += 48 * cfg.pixels  # 32 channels at 1/2 and 64 at 1/4 resolution, in and out, with ReLUs
    return batch_size * per_image


def available_memory(device: torch.device) -> int | None:
    """Bytes free for a new allocation on ``device``; None where it cannot be told."""
    if device.type == "cuda":
        try:
            return int(torch.cuda.mem_get_info(device)[0])
        except Exception:  # noqa: BLE001
            return None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def training_bytes(cfg: ModelConfig, batch_size: int) -> int:
    return state_numel(cfg) * _BYTES_PER_PARAMETER + _activation_numel(cfg, batch_size) * 4 * _ACTIVATION_FACTOR


def _gb(n: float) -> str:
    return f"{n / 1e9:.1f} GB" if n >= 1e8 else f"{n / 1e6:.0f} MB"


def check_trainable(cfg: ModelConfig, batch_size: int, device: torch.device) -> None:
    """ConfigError when training this model at this batch size cannot fit in the device's free memory."""
    try:
        params = state_numel(cfg)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    need = training_bytes(cfg, batch_size)
    free = available_memory(torch.device(device))
    if free is not None and need > free:
        raise ConfigError(
            f"this model ({params:,} weights) at batch size {batch_size} needs about {_gb(need)} of memory to train, "
            f"more than the {_gb(free)} free on {torch.device(device).type.upper()}; choose smaller hidden sizes, "
            "latent size or batch size"
        )
