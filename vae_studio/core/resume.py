"""Continuing a saved run: :func:`load` puts a checkpoint bundle back into a new :class:`Trainer`.

Beside the weights, Adam's state, the step and epoch counts, the history and the best epoch, a
run needs to know where it stood between two steps, to continue exactly where it stopped.

A checkpoint's ``resume`` record holds what the weights and Adam's state do not: the random
streams (PyTorch's, which draws the reparameterisation noise and the augmentation, and the
batcher's, which draws each epoch's order), how far into its epoch the run got, and the epoch's
running loss sums. :func:`restore` puts them back into a new :class:`Trainer`, which then takes
the same steps the saved run would have taken: on the CPU an interrupted and resumed run equals
an uninterrupted one bit for bit (a test compares them).

An epoch's order is drawn when the epoch starts, so mid-epoch the record keeps the batcher's state
from before that draw and the number of steps already taken; the resumed run draws the same
order and skips them. If the batch size or the training set changed, the interrupted epoch
starts over instead.

Everything is tensors and plain numbers, so checkpoints stay loadable with ``weights_only=True``.
"""

from __future__ import annotations

from typing import Any

import math

import torch

from .history import History

KEYS = ("torch_rng", "cuda_rng", "batch_rng", "steps_into_epoch", "batch_size", "n_train", "epoch_sums")


def load(trainer, state: dict) -> None:
    """Everything a bundle holds about a run into a freshly built trainer (after its model was built)."""
    cfg = trainer.cfg
    # a bundle saved with the best epoch's weights as its weights keeps the last ones aside
    trainer.model.load_state_dict(state.get("last_model_state") or state["model_state"])
    if state.get("optimizer_state"):
        trainer.optimizer.load_state_dict(state["optimizer_state"])
    trainer.step = int(state.get("step", 0))
    trainer.epoch = int(state.get("epoch", 0))
    trainer.history = History.from_dict(state.get("history", {}))
    trainer.tensorboard_dir = state.get("tensorboard_dir")
    trainer.resumes = [dict(r) for r in state.get("resumed", [])] + [
        {"step": trainer.step, "epoch": trainer.epoch, "epochs": cfg.epochs, "lr": cfg.lr, "beta": cfg.beta}]
    if state.get("best_epoch"):
        best = state.get("best_model_state")
        if best is None and state.get("last_model_state"):
            best = state["model_state"]  # the bundle's weights are the best ones, the last ones aside
        # None: the weights in the bundle are the best ones
        trainer.set_best(int(state["best_epoch"]), float(state.get("best_neg_elbo", math.inf)), best)
    restore(trainer, state.get("resume"))


def record(trainer) -> dict[str, Any]:
    """The trainer's position, taken between two steps (between two messages of ``run()``)."""
    into = int(trainer.steps_into_epoch)
    cuda = trainer.device.type == "cuda"
    return {
        "torch_rng": torch.get_rng_state(),
        "cuda_rng": torch.cuda.get_rng_state(trainer.device) if cuda else None,
        # mid-epoch: the state the epoch's order was drawn from; between epochs: the next one's
        "batch_rng": (trainer.epoch_rng if into else trainer.batch_generator.get_state()).clone(),
        "steps_into_epoch": into,
        "batch_size": int(trainer.cfg.batch_size),
        "n_train": len(trainer.dataset.train),
        "epoch_sums": trainer.epoch_sums.detach().to("cpu", torch.float64, copy=True),
    }


def problem(rec: Any) -> str | None:
    """What is wrong with a stored record, or None when :func:`restore` can use it."""
    if not isinstance(rec, dict) or set(rec) != set(KEYS):
        return "its resume record is not one VAE Studio writes"
    for key in ("steps_into_epoch", "batch_size", "n_train"):
        v = rec[key]
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            return f"its resume record's {key.replace('_', ' ')} is not a whole number"
    sums = rec["epoch_sums"]
    if not (torch.is_tensor(sums) and sums.shape == (2,) and sums.is_floating_point() and torch.isfinite(sums).all()):
        return "its resume record's loss sums are not two finite numbers"
    for key in ("torch_rng", "batch_rng"):
        if not _generator_state_fits(rec[key]):
            return f"its resume record's {key.replace('_', ' ')} state is not a random generator's state"
    cuda = rec["cuda_rng"]
    if cuda is not None and not (torch.is_tensor(cuda) and cuda.dtype == torch.uint8 and cuda.dim() == 1):
        return "its resume record's CUDA random state is not a random generator's state"
    return None


def _generator_state_fits(state: Any) -> bool:
    if not (torch.is_tensor(state) and state.dtype == torch.uint8 and state.dim() == 1):
        return False
    try:
        torch.Generator().set_state(state)
    except (RuntimeError, TypeError, ValueError):
        return False
    return True


def restore(trainer, rec: dict | None) -> None:
    """Put a stored position back into a freshly built trainer (after its model was built)."""
    if not rec:
        return
    torch.set_rng_state(rec["torch_rng"])
    if rec["cuda_rng"] is not None and trainer.device.type == "cuda":
        torch.cuda.set_rng_state(rec["cuda_rng"], trainer.device)
    trainer.batch_generator.set_state(rec["batch_rng"])
    same_batches = rec["batch_size"] == trainer.cfg.batch_size and rec["n_train"] == len(trainer.dataset.train)
    if rec["steps_into_epoch"] and same_batches:
        trainer.resume_at = (int(rec["steps_into_epoch"]), rec["epoch_sums"].clone())
