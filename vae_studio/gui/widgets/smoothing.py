"""Smoothed loss curves, computed where they are drawn: an exponential moving average of a
history's columns, extended by the new points at each redraw rather than recomputed."""

from __future__ import annotations

import math

import numpy as np

from ...core.history import History

NAMES = ("neg_elbo", "recon", "kl")
# the decay per progress report (about ten a second), so 0.9 averages roughly the last second of
# training: enough to see trends through minibatch noise
DECAY = 0.9


class Smoother:
    def __init__(self, decay: float = DECAY):
        self.decay = decay
        self._history: History | None = None
        self._n = 0

    def _reset(self, history: History) -> None:
        self._history = history
        self._n = 0
        self._ema = dict.fromkeys(NAMES, 0.0)
        self._weight = 0.0  # bias correction, as in Adam, so the first points are not pulled to 0
        self._out = {name: np.empty(0) for name in NAMES}

    def arrays(self, history: History) -> dict[str, np.ndarray]:
        """The smoothed −ELBO, reconstruction and KL, one value per training point."""
        n = len(history)
        if history is not self._history or n < self._n:
            self._reset(history)
        if n > self._n:
            raw = {name: history.array(name)[self._n : n] for name in NAMES}
            new = {name: np.empty(n - self._n) for name in NAMES}
            a, w = self.decay, self._weight
            for i in range(n - self._n):
                w = a * w + (1 - a)
                for name in NAMES:
                    v = raw[name][i]
                    if math.isfinite(v):  # a non-finite report leaves the curve where it was
                        self._ema[name] = a * self._ema[name] + (1 - a) * v
                    new[name][i] = self._ema[name] / w
            self._weight = w
            self._out = {name: np.concatenate([self._out[name], new[name]]) for name in NAMES}
            self._n = n
        return self._out
