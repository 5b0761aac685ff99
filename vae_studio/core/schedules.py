"""Schedules and checks applied while a run trains: the learning rate's schedule, values that may
change mid-run, and how an out-of-memory error is recognised."""

from __future__ import annotations

import math

import torch

from .errors import ConfigError


def checked_beta(beta: float) -> float:
    """A β that may be applied mid-run, or a ConfigError."""
    if not (math.isfinite(beta) and beta >= 0):
        raise ConfigError(f"beta must be a number >= 0 (got {beta})")
    return float(beta)


def checked_lr(lr: float) -> float:
    """A learning rate that may be applied mid-run, or a ConfigError."""
    if not (math.isfinite(lr) and lr > 0):
        raise ConfigError(f"learning rate must be a positive number (got {lr})")
    return float(lr)


def out_of_memory(exc: BaseException) -> bool:
    text = str(exc).lower()
    return isinstance(exc, (torch.cuda.OutOfMemoryError, MemoryError)) or "out of memory" in text or "can't allocate memory" in text


def lr_factor(schedule: str, progress: float, warmup: float = 0.05) -> float:
    """The learning rate's multiplier at ``progress`` (0..1) of the planned steps.

    cosine: linear warm-up over the first ``warmup`` of the run, then half a cosine down to 0,
    so the last epochs take small steps and settle (Loshchilov & Hutter 2017).
    onecycle: Smith & Topin's schedule as torch's OneCycleLR draws it: cosine up from 1/25
    over the first 30%, then cosine down to 1/25 of that again divided by 10^4.
    """
    p = min(max(progress, 0.0), 1.0)
    if schedule == "constant":
        return 1.0
    if schedule == "cosine":
        if p < warmup:
            return max(p / warmup, 1e-3)
        return 0.5 * (1.0 + math.cos(math.pi * (p - warmup) / (1.0 - warmup)))
    if schedule == "onecycle":
        start, end, peak_at = 1 / 25, 1 / 25 / 1e4, 0.3
        if p < peak_at:
            return start + (1 - start) * 0.5 * (1 - math.cos(math.pi * p / peak_at))
        return end + (1 - end) * 0.5 * (1 + math.cos(math.pi * (p - peak_at) / (1 - peak_at)))
    raise ValueError(f"unknown LR schedule {schedule!r}")
