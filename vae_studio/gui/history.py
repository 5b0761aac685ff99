"""Loss curves as the window keeps them: growable NumPy buffers plus a running smoothing.

Qt-free, so it is tested without a display. The session appends one row per Progress or
Validation message on the GUI thread; the plot reads whole arrays at its own redraw rate.
"""

from __future__ import annotations

import csv
import io
import math
from typing import Iterable, Mapping

import numpy as np

LN2 = math.log(2.0)

STEP_COLUMNS = ("step", "epoch", "neg_elbo", "recon", "kl", "kl_weight")
VAL_COLUMNS = ("val_step", "val_epoch", "val_neg_elbo", "val_recon", "val_kl")


def nats_to_bits_per_dim(nats: float, pixels: int) -> float:
    return nats / (pixels * LN2)


class _Growable:
    """A float64 column with amortised O(1) append and a zero-copy view of the filled part."""

    def __init__(self, capacity: int = 1024):
        self._data = np.empty(capacity, dtype=np.float64)
        self._n = 0

    def append(self, value: float) -> None:
        if self._n == len(self._data):
            self._data = np.concatenate([self._data, np.empty(len(self._data), dtype=np.float64)])
        self._data[self._n] = value
        self._n += 1

    def view(self) -> np.ndarray:
        return self._data[: self._n]

    def __len__(self) -> int:
        return self._n


class LossBuffers:
    """Per-step training losses (raw and exponentially smoothed) and per-epoch validation."""

    def __init__(self, smoothing: float = 0.9):
        # smoothing is the EMA decay per Progress message (~10 per second), so 0.9 averages
        # roughly the last second of training: enough to see trends through minibatch noise
        self.smoothing = smoothing
        self.clear()

    def clear(self) -> None:
        self.cols = {name: _Growable() for name in STEP_COLUMNS}
        self.smooth = {name: _Growable() for name in ("neg_elbo", "recon", "kl")}
        self.val = {name: _Growable(64) for name in VAL_COLUMNS}
        self._ema: dict[str, float] = {}
        self._weight = 0.0  # bias correction, as in Adam, so the first points are not pulled to 0
        self.version = 0  # bumped on every change; the plot redraws only when it moved

    def __len__(self) -> int:
        return len(self.cols["step"])

    def add_step(self, step: int, epoch: float, recon: float, kl: float, kl_weight: float) -> None:
        values = {"step": step, "epoch": epoch, "neg_elbo": recon + kl, "recon": recon, "kl": kl, "kl_weight": kl_weight}
        for name, v in values.items():
            self.cols[name].append(float(v))
        a = self.smoothing
        self._weight = a * self._weight + (1 - a)
        for name in self.smooth:
            v = values[name]
            prev = self._ema.get(name, 0.0)
            ema = a * prev + (1 - a) * v if math.isfinite(v) else prev
            self._ema[name] = ema
            self.smooth[name].append(ema / self._weight)
        self.version += 1

    def add_validation(self, step: int, epoch: float, recon: float, kl: float) -> None:
        for name, v in zip(VAL_COLUMNS, (step, epoch, recon + kl, recon, kl)):
            self.val[name].append(float(v))
        self.version += 1

    def step_array(self, name: str) -> np.ndarray:
        return self.cols[name].view()

    def smooth_array(self, name: str) -> np.ndarray:
        return self.smooth[name].view()

    def val_array(self, name: str) -> np.ndarray:
        return self.val[name].view()

    def load_history(self, history: Mapping[str, Iterable[float]]) -> None:
        """Replace the curves with a checkpoint's loss history (core ``History.to_dict()``)."""
        self.clear()
        step, epoch = history.get("step", []), history.get("epoch", [])
        recon, kl, w = history.get("recon", []), history.get("kl", []), history.get("kl_weight", [])
        for row in zip(step, epoch, recon, kl, w):
            self.add_step(*row)
        for s, e, r, k in zip(history.get("val_step", []), history.get("val_epoch", []), history.get("val_recon", []), history.get("val_kl", [])):
            self.add_validation(s, e, r, k)
        self.version += 1

    def to_csv(self) -> str:
        """One row per step in step order: training columns where a training point was logged,
        held-out columns on the row of the step where they were measured."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([*STEP_COLUMNS, *VAL_COLUMNS[2:]])
        steps = self.step_array("step")
        val_steps = self.val_array("val_step")
        rows: dict[int, list[str]] = {}
        for i in range(len(steps)):
            rows[int(steps[i])] = [_fmt(self.cols[c].view()[i]) for c in STEP_COLUMNS] + ["", "", ""]
        for j in range(len(val_steps)):
            step = int(val_steps[j])
            row = rows.setdefault(step, [_fmt(step), _fmt(self.val["val_epoch"].view()[j]), "", "", "", "", "", "", ""])
            row[len(STEP_COLUMNS):] = [_fmt(self.val[c].view()[j]) for c in VAL_COLUMNS[2:]]
        for step in sorted(rows):
            writer.writerow(rows[step])
        return out.getvalue()


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e15 else repr(float(x))
