"""How many threads training uses on the CPU, chosen by measuring, and re-chosen as the load moves.

PyTorch's OpenMP team spins while it waits for its members. On an idle machine one thread per
core is fastest; beside other busy processes the team spins for cores it does not get, and on a
2-core machine a run beside one busy process fell to 23% of its idle speed (its fair share is 50%),
beside two to 11% (fair share 33%). With fewer threads it keeps its share.

Which count is faster depends on the load of the moment, which nothing here can see directly
(a run's own spinning threads look like load too). So :class:`ThreadTuner` measures: the trainer
reports the samples it trained and the seconds it took at its progress boundaries (about ten times
a second; never per step, so there is no extra host sync), and the tuner measures a window at the
current count, tries a neighbouring count for a window of the same length, and keeps whichever
trained more samples per second.

Trials cost speed when they lose, so they are made only when there is a reason: with every thread
running, only when the process got clearly less CPU time than its threads could use (other
processes hold the cores); with fewer threads, every so often, in case the load has gone. A trial
that loses doubles the time to the next one (up to half a minute); one that wins makes the next
come soon, since the load has changed. On an idle machine there are no trials at all.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Callable

import torch

ENV_DISABLE = "VAE_STUDIO_ADAPTIVE_THREADS"  # "0": keep the thread count training started with


@dataclass(frozen=True)
class Trial:
    """One comparison the tuner made, for tests and for anyone asking why it chose what it did."""

    baseline_threads: int
    baseline_rate: float
    tried_threads: int
    tried_rate: float
    kept: int


class ThreadTuner:
    def __init__(self, max_threads: int, *, window_s: float = 1.0, first_after_s: float = 1.0,
                 max_every_s: float = 32.0, margin: float = 0.08, contended_below: float = 0.85,
                 set_threads: Callable[[int], None] = torch.set_num_threads,
                 cpu_clock: Callable[[], float] = lambda: sum(os.times()[:2]),
                 wall_clock: Callable[[], float] = time.perf_counter):
        self.max_threads = max(1, int(max_threads))
        self.candidates = sorted({self.max_threads, max(1, self.max_threads // 2), 1})
        self.threads = self.max_threads
        self.window_s = window_s
        self.first_after_s = first_after_s
        self.max_every_s = max_every_s
        self.margin = margin
        self.contended_below = contended_below
        self._set_threads = set_threads
        self._cpu_clock, self._wall_clock = cpu_clock, wall_clock
        self.utilisation: float | None = None  # CPU time the process got / what its threads could use
        self.every = first_after_s
        self.trials: list[Trial] = []
        self._phase = "run"
        self._clock = 0.0
        self._samples = 0
        self._baseline = 0.0
        self._previous = self.threads
        self._direction = -1
        self._cpu0, self._wall0 = cpu_clock(), wall_clock()

    @classmethod
    def for_device(cls, device: torch.device, **kwargs) -> "ThreadTuner | None":
        """A tuner for training on ``device``, or None where the thread count does not matter."""
        if torch.device(device).type != "cpu" or os.environ.get(ENV_DISABLE) == "0":
            return None
        n = torch.get_num_threads()
        return cls(n, **kwargs) if n > 1 else None

    def observe(self, samples: int, seconds: float) -> None:
        """``samples`` trained in ``seconds`` of training since the last call; may change the count."""
        if seconds <= 0:
            return
        self._clock += seconds
        self._samples += samples
        if self._phase == "run":
            if self._clock >= self.every:
                if self.threads == self.max_threads and not self._contended():
                    self._begin("run")  # every core is ours: nothing to gain, look again later
                else:
                    self._begin("baseline")
        elif self._clock >= self.window_s:
            rate = self._samples / self._clock
            if self._phase == "baseline":
                self._baseline = rate
                self._previous = self.threads
                self._apply(self._neighbour())
                self._begin("probe")
            else:
                if rate > self._baseline * (1 + self.margin):
                    self.every = self.first_after_s  # the load has changed: look again soon
                else:
                    self._apply(self._previous)
                    self.every = min(self.every * 2, self.max_every_s)
                self.trials.append(Trial(self._previous, self._baseline, self._tried, rate, self.threads))
                self._begin("run")

    def restore(self) -> None:
        """Back to the count training started with (the process may do other work with it)."""
        self._apply(self.max_threads)
        self.every = self.first_after_s
        self._begin("run")

    def _contended(self) -> bool:
        wall = self._wall_clock() - self._wall0
        if wall <= 0 or wall > 1.5 * self._clock:
            return False  # mostly not training (a pause): the CPU time says nothing about the load
        self.utilisation = (self._cpu_clock() - self._cpu0) / wall / self.threads
        return self.utilisation < self.contended_below

    def _begin(self, phase: str) -> None:
        self._phase, self._clock, self._samples = phase, 0.0, 0
        if phase == "run":
            self._cpu0, self._wall0 = self._cpu_clock(), self._wall_clock()

    def _neighbour(self) -> int:
        i = self.candidates.index(self.threads)
        j = i + self._direction
        if not 0 <= j < len(self.candidates):
            self._direction = -self._direction
            j = i + self._direction
        self._direction = -self._direction
        self._tried = self.candidates[j]
        return self._tried

    def _apply(self, n: int) -> None:
        if n != self.threads:
            self._set_threads(n)
            self.threads = n
