"""TensorBoard event files for a run, written beside the trainer (also in the window's training process).

:class:`TensorBoardLog` observes the trainer's messages: each :class:`Progress` becomes the loss
plot's scalars (already host floats, so nothing here waits for the device), each
:class:`Validation` the held-out figures plus two pictures, reconstructions of fixed held-out
images and decoded prior samples from fixed codes (so epochs compare), and :class:`Finished` the
held-out posterior means as an embedding with its image sprite and class names (the Projector).

Each run writes into a folder of its own under the chosen one, so ``tensorboard --logdir DIR``
lists the runs side by side; a resumed run writes on into its folder, and TensorBoard drops what
an earlier process logged past the step it resumed from (``purge_step``).

``tensorboard`` is an optional dependency; :func:`check_available` says how to install it.
"""

from __future__ import annotations

import datetime as _dt
import os
from pathlib import Path

import numpy as np
import torch

from .data import to_float
from .errors import ConfigError, OutputError
from .generate import tile
from .messages import Finished, Progress, Validation

INSTALL_HINT = "pip install tensorboard (or pip install \"vae-studio[tensorboard]\")"
RECON_IMAGES = 16  # held-out images shown beside their reconstructions, every epoch
SAMPLE_SIDE = 8  # prior samples: an 8 x 8 grid
SAMPLE_SEED = 2024  # the same codes every epoch: the samples change only because the decoder does
MAX_EMBEDDING_POINTS = 5000  # the Projector's sprite stays under its size limit for 64 x 64 images
FLUSH_SECS = 10  # a TensorBoard watching the folder sees a running run's curves this soon


def check_available(quick: bool = False) -> None:
    """ConfigError with the install command when TensorBoard cannot be imported. ``quick``: only
    look for the package, without the second or so that importing it takes (a window's click)."""
    if quick:
        import importlib.util

        if importlib.util.find_spec("tensorboard") is None:
            raise ConfigError(f"logging to TensorBoard needs the tensorboard package, which is not installed; "
                              f"install it with: {INSTALL_HINT}")
        return
    try:
        from torch.utils.tensorboard import SummaryWriter  # noqa: F401
    except ImportError as exc:
        raise ConfigError(f"logging to TensorBoard needs the tensorboard package, which is not installed "
                          f"({exc}); install it with: {INSTALL_HINT}") from None


def new_run_dir(logdir: str | os.PathLike, name: str) -> Path:
    """A fresh folder for one run under ``logdir``: the time it started and a short name."""
    root = Path(os.path.expanduser(str(logdir))).resolve()
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    candidate, n = root / f"{stamp}-{name}", 1
    while candidate.exists():
        n += 1
        candidate = root / f"{stamp}-{name}-{n}"
    return candidate


def run_dir_for(logdir: str, stored: str | None, name: str) -> Path:
    """The folder a run logs into: the one it logged into before (``stored``), when that is
    still under ``logdir``, else a new one."""
    root = Path(os.path.expanduser(logdir)).resolve()
    if stored:
        previous = Path(stored)
        if previous.parent == root:
            return previous
    return new_run_dir(root, name)


class TensorBoardLog:
    def __init__(self, run_dir: Path, *, purge_step: int | None = None):
        check_available()
        from torch.utils.tensorboard import SummaryWriter

        self.run_dir = Path(run_dir)
        try:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            self.writer = SummaryWriter(log_dir=str(self.run_dir), purge_step=purge_step or None, flush_secs=FLUSH_SECS)
        except OSError as exc:
            raise OutputError(f"cannot write TensorBoard logs to {self.run_dir}: {exc.strerror or exc}") from None

    @classmethod
    def for_trainer(cls, trainer) -> "TensorBoardLog":
        """The log of ``trainer``'s run, in the folder it logged into before if it is continued."""
        name = f"{trainer.model_cfg.variant}-{trainer.model_cfg.latent_dim}d"
        run_dir = run_dir_for(trainer.cfg.logdir, trainer.tensorboard_dir, name)
        # a continued run: what an earlier process logged after the saved step is dropped from view
        log = cls(run_dir, purge_step=trainer.step + 1 if trainer.step else None)
        trainer.tensorboard_dir = str(run_dir)
        return log

    # -- what the trainer reports --------------------------------------------------------------
    def observe(self, message, trainer) -> None:
        if isinstance(message, Progress):
            self.progress(message)
        elif isinstance(message, Validation):
            self.validation(message, trainer)
        elif isinstance(message, Finished):
            self.embedding(trainer, message.step)
            self.writer.flush()

    def progress(self, p: Progress) -> None:
        add = self.writer.add_scalar
        for tag, value in (("train/neg_elbo", p.neg_elbo), ("train/recon", p.recon), ("train/kl", p.kl),
                           ("schedule/kl_weight", p.kl_weight), ("schedule/beta", p.beta), ("schedule/lr", p.lr)):
            add(tag, value, p.step)

    def validation(self, v: Validation, trainer) -> None:
        add = self.writer.add_scalar
        for tag, value in (("heldout/neg_elbo", v.neg_elbo), ("heldout/recon", v.recon), ("heldout/kl", v.kl),
                           ("train_epoch/neg_elbo", v.train_recon + v.train_kl), ("train_epoch/recon", v.train_recon),
                           ("train_epoch/kl", v.train_kl)):
            add(tag, value, v.step)
        if v.neg_iwae is not None:
            add("heldout/neg_iwae", v.neg_iwae, v.step)
        originals, recon, samples = self.pictures(trainer)
        # originals above their reconstructions, two rows of RECON_IMAGES // 2
        half = max(1, len(originals) // 2)
        pairs = np.concatenate([originals[:half], recon[:half], originals[half:], recon[half:]])
        self._add_image("reconstructions", tile(pairs, half), v.step)
        self._add_image("prior_samples", tile(samples, SAMPLE_SIDE), v.step)

    def embedding(self, trainer, step: int) -> None:
        """The held-out set's posterior means, images and class names, for the Projector."""
        test = trainer.dataset.test
        n = min(len(test), MAX_EMBEDDING_POINTS)
        mu = _encode(trainer, test.images[:n], test.labels[:n])
        names = trainer.dataset.class_names
        labels = [names[int(c)] if 0 <= int(c) < len(names) else str(int(c)) for c in test.labels[:n]]
        images = to_float(test.images[:n])
        self.writer.add_embedding(mu, metadata=labels, label_img=images, global_step=step, tag="heldout_posterior_means")

    def close(self) -> None:
        self.writer.close()

    # -- pictures ------------------------------------------------------------------------------
    def pictures(self, trainer) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(originals, reconstructions, prior samples) as float images in [0, 1]."""
        model, device = trainer.model, trainer.device
        test = trainer.dataset.test
        k = min(len(test), RECON_IMAGES)
        x = to_float(test.images[:k]).to(device)
        y = test.labels[:k].to(device) if model.conditional else None
        # the same seed each time, from a generator of its own: the run's random stream is untouched,
        # and N(0, I) gives the same codes every epoch (a learned prior moves, so its draws do too)
        g = torch.Generator().manual_seed(SAMPLE_SEED)
        z = torch.from_numpy(model.prior.sample(SAMPLE_SIDE * SAMPLE_SIDE, 1.0, g)).to(device)
        ys = None
        if model.conditional:  # one class a row
            ys = (torch.arange(len(z), device=device) // SAMPLE_SIDE) % model.cfg.num_classes
        was_training = model.training
        model.eval()
        try:
            with torch.no_grad():
                mu, _ = model.encode(x, y)
                recon = model.decode_mean(mu, y).float().cpu().numpy()
                samples = model.decode_mean(z, ys).float().cpu().numpy()
        finally:
            model.train(was_training)
        return _squeezed(x.cpu().numpy()), _squeezed(recon), _squeezed(samples)

    def _add_image(self, tag: str, grid: np.ndarray, step: int) -> None:
        self.writer.add_image(tag, grid, step, dataformats="HW" if grid.ndim == 2 else "CHW")


def _squeezed(images: np.ndarray) -> np.ndarray:
    """(N, 1, H, W) as (N, H, W), so a grey grid stays one channel; colour stays (N, C, H, W)."""
    return images[:, 0] if images.ndim == 4 and images.shape[1] == 1 else images


def _encode(trainer, images_u8: torch.Tensor, labels: torch.Tensor, batch: int = 1024) -> np.ndarray:
    model, device = trainer.model, trainer.device
    out = []
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            for i in range(0, len(images_u8), batch):
                x = to_float(images_u8[i : i + batch]).to(device)
                y = labels[i : i + batch].to(device) if model.conditional else None
                out.append(model.encode(x, y)[0].float().cpu().numpy())
    finally:
        model.train(was_training)
    return np.concatenate(out) if out else np.zeros((0, model.cfg.latent_dim), dtype=np.float32)
