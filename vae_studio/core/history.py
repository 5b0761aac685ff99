"""A run's loss curves: the one history the trainer keeps, the checkpoint stores and the window draws.

Columns are growable float64 arrays with amortised O(1) appends and zero-copy views of the filled
part, so a plot can read whole curves at its own redraw rate. ``to_dict`` gives plain lists (what a
weights-only checkpoint can hold); ``from_dict`` checks what it reads. Smoothing is not kept here:
it is a way of drawing, computed where the curves are drawn.
"""

from __future__ import annotations

import csv
import io
import math
from typing import Any, Mapping

import numpy as np

from .errors import ConfigError

STEP_COLUMNS = ("step", "epoch", "recon", "kl", "kl_weight")  # one row per progress report
VAL_COLUMNS = ("val_epoch", "val_step", "val_recon", "val_kl", "train_epoch_recon", "train_epoch_kl")  # one row an epoch
OPTIONAL_COLUMNS = ("val_neg_iwae",)  # held-out -IWAE, with the IWAE objective only
COLUMNS = STEP_COLUMNS + VAL_COLUMNS + OPTIONAL_COLUMNS


class _Growable:
    def __init__(self, capacity: int = 256):
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


class History:
    def __init__(self) -> None:
        self._cols = {name: _Growable() for name in COLUMNS}
        self.version = 0  # bumped on every change: a view redraws only when it moved

    def __len__(self) -> int:
        return len(self._cols["step"])

    # -- adding --------------------------------------------------------------------------------
    def add_step(self, step: int, epoch: float, recon: float, kl: float, kl_weight: float) -> None:
        for name, v in zip(STEP_COLUMNS, (step, epoch, recon, kl, kl_weight)):
            self._cols[name].append(float(v))
        self.version += 1

    def add_progress(self, p: Any) -> None:
        self.add_step(p.step, p.epoch, p.recon, p.kl, p.kl_weight)

    def add_validation(self, v: Any) -> None:
        values = (v.epoch, v.step, v.recon, v.kl, getattr(v, "train_recon", math.nan), getattr(v, "train_kl", math.nan))
        for name, x in zip(VAL_COLUMNS, values):
            self._cols[name].append(float(x))
        if getattr(v, "neg_iwae", None) is not None:
            self._cols["val_neg_iwae"].append(float(v.neg_iwae))
        self.version += 1

    # -- reading -------------------------------------------------------------------------------
    def array(self, name: str) -> np.ndarray:
        """A column, or a sum of two: "neg_elbo" (recon + kl), "val_neg_elbo", "train_epoch_neg_elbo"."""
        if name in self._cols:
            return self._cols[name].view()
        prefix = name[: -len("neg_elbo")]
        if name.endswith("neg_elbo") and prefix + "recon" in self._cols:
            return self._cols[prefix + "recon"].view() + self._cols[prefix + "kl"].view()
        raise KeyError(name)

    def to_dict(self) -> dict[str, list[float]]:
        return {name: self._cols[name].view().tolist() for name in COLUMNS}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "History":
        """A checkpoint's history; ConfigError for anything that is not numbers in columns that fit."""
        if not isinstance(d, Mapping):
            raise ConfigError("the loss history is not a mapping")
        h = cls()
        for key, values in d.items():
            if key not in h._cols or not isinstance(values, (list, tuple)):
                raise ConfigError(f"bad loss history entry {str(key)[:40]!r}")
            for v in values:
                if isinstance(v, bool) or not isinstance(v, (int, float)):
                    raise ConfigError(f"bad value in loss history entry {key!r}")
                h._cols[key].append(float(v))
        lengths = {len(h._cols[n]) for n in STEP_COLUMNS}
        if len(lengths) > 1:
            raise ConfigError("the loss history's step columns differ in length")
        if len({len(h._cols[n]) for n in VAL_COLUMNS[:4]}) > 1:
            raise ConfigError("the loss history's held-out columns differ in length")
        return h

    def to_csv(self) -> str:
        """One row per step in step order: training columns where a training point was logged,
        held-out columns on the row of the step where they were measured."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["step", "epoch", "neg_elbo", "recon", "kl", "kl_weight", "val_neg_elbo", "val_recon", "val_kl"])
        steps, neg_elbo = self.array("step"), self.array("neg_elbo")
        rows: dict[int, list[str]] = {}
        for i in range(len(steps)):
            rows[int(steps[i])] = [_fmt(steps[i]), _fmt(self.array("epoch")[i]), _fmt(neg_elbo[i]),
                                   _fmt(self.array("recon")[i]), _fmt(self.array("kl")[i]),
                                   _fmt(self.array("kl_weight")[i]), "", "", ""]
        val_steps, val_neg = self.array("val_step"), self.array("val_neg_elbo")
        for j in range(len(val_steps)):
            step = int(val_steps[j])
            row = rows.setdefault(step, [_fmt(step), _fmt(self.array("val_epoch")[j]), "", "", "", "", "", "", ""])
            row[6:] = [_fmt(val_neg[j]), _fmt(self.array("val_recon")[j]), _fmt(self.array("val_kl")[j])]
        for step in sorted(rows):
            writer.writerow(rows[step])
        return out.getvalue()


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e15 else repr(float(x))
