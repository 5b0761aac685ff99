"""The weights of the epoch with the lowest held-out -ELBO so far, kept beside the live model.

A part of :class:`~vae_studio.core.trainer.Trainer`: it needs the trainer's ``model`` and
``device``. The copy stays on the training device and is refreshed in place once an epoch, so
keeping the best weights costs one device copy per epoch and no host transfer.
"""

from __future__ import annotations

import math

import torch


class BestWeights:
    model: torch.nn.Module
    device: torch.device

    def reset_best(self) -> None:
        self.best_epoch = 0
        self.best_neg_elbo = math.inf
        self._best: list[torch.Tensor] | None = None

    def _note_best(self, epoch: int, neg_elbo: float) -> None:
        if not (neg_elbo < self.best_neg_elbo):
            return
        self.best_epoch, self.best_neg_elbo = epoch, neg_elbo
        live = [t.detach() for t in self.model.state_dict().values()]
        if self._best is None or len(self._best) != len(live):
            self._best = [t.clone() for t in live]
        else:
            torch._foreach_copy_(self._best, live)

    def set_best(self, epoch: int, neg_elbo: float, weights: dict | None = None) -> None:
        """The best epoch so far, of a continued run; ``weights`` None: the live model's."""
        self.best_epoch, self.best_neg_elbo = epoch, neg_elbo
        source = self.model.state_dict() if weights is None else weights
        self._best = [source[k].to(self.device, copy=True) for k in self.model.state_dict()]

    def best_state(self) -> dict | None:
        """CPU copies of the weights from ``best_epoch``, or None before the first validation."""
        if self._best is None:
            return None
        return {k: t.to("cpu", copy=True) for k, t in zip(self.model.state_dict(), self._best)}

    def restore_best(self) -> bool:
        """Put the best epoch's weights into the live model (the optimizer state stays)."""
        if self._best is None:
            return False
        torch._foreach_copy_([t for t in self.model.state_dict().values()], self._best)
        return True
