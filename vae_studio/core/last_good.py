"""A run's last good state: the weights and Adam's moments as they were at the last host sync.

The trainer reads its loss sums only now and then (never per step); each read that finds them
finite copies the live tensors here, on the device. When a loss turns out non-finite, or a step
fails (out of memory), they are copied back, so what is saved is the last state known to be good.
"""

from __future__ import annotations

import torch

from .fused_adam import FusedAdamStep


class LastGood:
    def __init__(self, model: torch.nn.Module, optimizer: torch.optim.Optimizer, adam: FusedAdamStep, step: int = 0):
        self.model, self.optimizer, self.adam = model, optimizer, adam
        self.step = step  # the step the copy was taken at
        self._copy: list[torch.Tensor] | None = None

    def _live(self) -> list[torch.Tensor]:
        tensors = [p.data for p in self.model.parameters()]
        for p in self.model.parameters():
            for v in self.optimizer.state.get(p, {}).values():
                if torch.is_tensor(v):
                    tensors.append(v)
        return tensors

    def remember(self, step: int) -> None:
        live = self._live()
        if self._copy is None or len(self._copy) != len(live):
            self._copy = [t.detach().clone() for t in live]
        else:
            torch._foreach_copy_(self._copy, live)
        self.step = step

    def restore(self) -> None:
        if self._copy is None:
            return
        live = self._live()
        if len(live) == len(self._copy):
            torch._foreach_copy_(live, self._copy)
        else:  # the optimizer state did not exist yet at the last good point
            for t, g in zip(live, self._copy):
                t.copy_(g)
            for st in self.optimizer.state.values():
                st.clear()
            self.adam.invalidate()
