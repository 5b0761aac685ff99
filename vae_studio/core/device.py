"""Picking the training device and describing it to a person."""

from __future__ import annotations

import torch

from .errors import ConfigError


def resolve_device(name: str = "auto") -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("CUDA was requested but no CUDA device is available; use --device cpu or auto")
    if name not in ("cpu", "cuda"):
        raise ConfigError(f"device must be auto, cpu or cuda (got {name!r})")
    return torch.device(name)


def describe_device(device: torch.device | str) -> str:
    device = torch.device(device)
    if device.type == "cuda":
        return f"CUDA: {torch.cuda.get_device_name(device)}"
    n = torch.get_num_threads()
    return f"CPU, {n} thread{'s' if n != 1 else ''}"


def native_bf16(device: torch.device) -> bool:
    """Whether bf16 matrix products run natively (and so faster than fp32) on this device."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    try:  # AVX-512 BF16 or AMX on x86; emulated bf16 on other CPUs is slower than fp32
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def use_bf16(precision: str, device: torch.device) -> bool:
    if precision == "bf16":
        return True
    return precision == "auto" and native_bf16(device)
