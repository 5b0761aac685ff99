"""The training loop: the only code that touches the live model and optimizer.

``Trainer.run()`` is a generator. It trains step by step and yields immutable messages at a
bounded rate: :class:`Progress` (plain floats, about every ``progress_interval`` seconds),
:class:`Validation` (once per epoch), :class:`Snapshot` (CPU copies of the weights and the probe
set's posterior means, about every ``snapshot_interval`` seconds) and a final :class:`Finished`.

Loss sums stay on the device between messages: the host reads them once per message, never
per step, so a GPU is never stalled waiting for Python. The same read is where non-finite
losses are caught; the weights saved at the previous good read are then restored.

Other threads control a run only through ``pause``/``resume``/``stop`` (flags checked between
steps) and ``set_beta`` (applied at the next step boundary). The messages are in ``messages.py``.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import threading
import time
from typing import Iterator

import numpy as np
import torch

from .augment import augment
from .best_weights import BestWeights
from .config import ModelConfig, TrainConfig, likelihood_label, resolved_augment
from .data import Dataset, DeviceBatches, binarized, check_classes, class_subset, to_float
from .device import resolve_device, use_bf16
from .errors import ConfigError, NonFiniteLossError, TrainingError
from .evaluate import elbo, iwae_nll
from .fused_adam import FusedAdamStep
from .last_good import LastGood
from .history import History
from .messages import Finished, Message, Progress, Snapshot, Validation, probe_index  # noqa: F401 - also imported from here
from .schedules import checked_beta, checked_lr, lr_factor, out_of_memory
from .losses import capacity_at, elbo_terms, iwae_terms, kl_schedule_weight
from .models import VAE, build_model
from . import resume
from .budget import check_trainable
from .threads import ThreadTuner

class Trainer(BestWeights):
    def __init__(
        self,
        model_cfg: ModelConfig,
        train_cfg: TrainConfig,
        dataset: Dataset,
        *,
        state: dict | None = None,
    ):
        """``state``: a checkpoint bundle (see :mod:`checkpoint`) to continue from."""
        if model_cfg.image_shape != dataset.image_shape:
            model_cfg = ModelConfig.from_dict({**model_cfg.to_dict(), "image_shape": dataset.image_shape})
        if model_cfg.variant == "beta" and model_cfg.label_given and not dataset.labelled and state is None:
            # the β panel gives the label where the data has one; a folder without classes trains the classic β-VAE
            model_cfg = ModelConfig.from_dict({**model_cfg.to_dict(), "label_given": False})
        if model_cfg.conditional and not dataset.labelled:
            raise ConfigError(
                f"{'the conditional variant' if model_cfg.variant == 'conditional' else 'a β model given the label'} "
                f"needs class labels, and {dataset.name} is a folder of images without class "
                "subfolders: put each class's images in a subfolder named after it, or train the vanilla or β variant"
            )
        if model_cfg.conditional and model_cfg.num_classes < dataset.num_classes:
            raise ConfigError(f"{dataset.name} has {dataset.num_classes} classes but the model was built for {model_cfg.num_classes}")
        check_classes(dataset, train_cfg.classes)
        self.model_cfg = model_cfg
        self.cfg = train_cfg
        self.dataset = dataset  # whole: the map's probe points include any class left out of training
        # what the model learns from and is validated on: the chosen classes only
        self.train_split = class_subset(dataset.train, train_cfg.classes)
        self.val_split = class_subset(dataset.test, train_cfg.classes)
        self.device = resolve_device(train_cfg.device)
        self.bf16 = use_bf16(train_cfg.precision, self.device)
        torch.manual_seed(train_cfg.seed)
        check_trainable(model_cfg, train_cfg.batch_size, self.device)  # refused here, not by the OS mid-build
        self.model: VAE = build_model(model_cfg).to(self.device)
        self.optimizer = self._make_optimizer(train_cfg.lr)
        self._adam = FusedAdamStep(self.optimizer)
        self.step = 0
        self.epoch = 0  # completed epochs
        self.history = History()
        self.elapsed = 0.0  # seconds of training, pauses and validation excluded
        self.samples_seen = 0  # in this process, for throughput
        self.resumes: list[dict] = []  # (step, epoch, epochs, lr, beta) each time the run was continued
        self.tensorboard_dir: str | None = None  # the folder this run's TensorBoard events go to
        if train_cfg.logdir:
            from .tensorboard_log import check_available

            check_available()  # now, not after the first epoch
        self.batch_generator = torch.Generator().manual_seed(train_cfg.seed)
        self.steps_into_epoch = 0  # steps taken in the epoch under way
        self.epoch_rng = self.batch_generator.get_state()  # the batcher's state when that epoch drew its order
        self.epoch_sums = torch.zeros(2, dtype=torch.float64, device=self.device)  # its loss sums over images
        self.resume_at: tuple[int, torch.Tensor] | None = None  # (steps into the epoch, its sums) to continue from
        self._beta = float(train_cfg.beta)
        self._lr = float(train_cfg.lr)
        self._running = threading.Event()
        self._running.set()
        self._stop = threading.Event()
        self._waiting = threading.Event()  # set while the loop sits in a pause
        self._good = LastGood(self.model, self.optimizer, self._adam)
        self.last_kl_per_dim = np.zeros(model_cfg.latent_dim, dtype=np.float32)
        self.probe = probe_index(len(dataset.test), train_cfg.probe_size)
        self.applied_beta_log: list[tuple[int, float]] = []  # (step, beta) whenever beta changes
        self.thread_tuner = ThreadTuner.for_device(self.device)  # None: keep the count as it is
        self.augment = resolved_augment(train_cfg.augment, len(self.train_split))
        self.likelihood = likelihood_label(model_cfg.likelihood, train_cfg.binarize)
        # binarised runs are scored on one fixed draw of the held-out pixels, so epochs compare
        self._val_split = binarized(self.val_split) if train_cfg.binarize else self.val_split
        self.reset_best()
        if state is not None:  # last, after the model is built: building it draws random numbers
            resume.load(self, state)
            self._good.step = self.step

    # -- control, safe from any thread -------------------------------------------------------
    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def stop(self) -> None:
        self._stop.set()
        self._running.set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    @property
    def waiting(self) -> bool:
        """True once the loop has acknowledged a pause and is idle between steps."""
        return self._waiting.is_set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def set_beta(self, beta: float) -> None:
        self._beta = checked_beta(beta)

    def set_lr(self, lr: float) -> None:
        self._lr = checked_lr(lr)

    @property
    def beta(self) -> float:
        return self._beta

    # -- internals ---------------------------------------------------------------------------
    def _make_optimizer(self, lr: float) -> torch.optim.Optimizer:
        # fused Adam runs the whole update as one kernel per dtype/device, on CPU and CUDA;
        # weight decay is AdamW's decoupled kind, which the fused kernel also does
        wd = self.cfg.weight_decay
        cls = torch.optim.AdamW if wd > 0 else torch.optim.Adam
        try:
            return cls(self.model.parameters(), lr=lr, weight_decay=wd, fused=True)
        except (RuntimeError, TypeError):
            return cls(self.model.parameters(), lr=lr, weight_decay=wd)

    def _autocast(self):
        # matrix products in bf16, losses and optimizer state in fp32: measured no loss of
        # -ELBO on the digits (112.82 nats both ways after 50 epochs) and 1.4x faster on an
        # AVX-512 BF16 CPU
        if self.bf16:
            return torch.autocast(self.device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def lr_at(self, step: int, total_steps: int) -> float:
        """The learning rate of a step: the set (peak) rate times the schedule's factor."""
        return self._lr * lr_factor(self.cfg.lr_schedule, step / max(1, total_steps), self.cfg.lr_warmup)

    def kl_weight_at(self, epoch: float) -> float:
        return kl_schedule_weight(self.cfg.kl_schedule, epoch, self.cfg.warmup_epochs)

    def snapshot(self) -> Snapshot:
        state = {k: v.detach().to("cpu", copy=True) for k, v in self.model.state_dict().items()}
        probe = self.dataset.test.subset(self.probe)
        with torch.no_grad():
            x = to_float(probe.images.to(self.device))
            y = probe.labels.to(self.device) if self.model.conditional else None
            mu = self.model.encode(x, y)[0].float().cpu().numpy()
        return Snapshot(
            step=self.step,
            epoch=float(self.epoch),
            model_config=self.model_cfg,
            state=state,
            probe_mu=mu,
            probe_index=self.probe.numpy(),
            probe_labels=probe.labels.numpy(),
            kl_per_dim=self.last_kl_per_dim.copy(),
        )

    def validate(self) -> tuple[float, float, torch.Tensor]:
        gen = torch.Generator(device=self.device).manual_seed(self.cfg.seed + 1)
        self.model.eval()
        try:
            recon, kl, kl_d, _ = elbo(self.model, self._val_split, self.device, generator=gen)
        finally:
            self.model.train()
        return recon, kl, kl_d

    def validate_iwae(self) -> float:
        gen = torch.Generator(device=self.device).manual_seed(self.cfg.seed + 2)
        self.model.eval()
        try:
            return iwae_nll(self.model, self._val_split, self.cfg.iwae_k, self.device, generator=gen)
        finally:
            self.model.train()

    def _nonfinite(self, bad: list[bool]) -> NonFiniteLossError:
        term = "reconstruction" if bad[0] else "KL"
        self._good.restore()
        return NonFiniteLossError(
            f"the {term} loss became non-finite near step {self.step}; training stopped and the weights "
            f"from step {self._good.step} were restored (try a lower learning rate)",
            term=term,
            step=self.step,
        )

    # -- the loop ----------------------------------------------------------------------------
    def run(self) -> Iterator[Message]:
        log = self._open_tensorboard()
        steps = self._steps()
        try:
            for message in steps:
                if log is not None:  # between two steps, like the consumer: the model is not mid-update
                    log.observe(message, self)
                yield message
        finally:
            steps.close()  # a consumer that stops early: the loop's own clean-up runs now
            if log is not None:
                log.close()

    def _open_tensorboard(self):
        if not self.cfg.logdir:
            return None
        from .tensorboard_log import TensorBoardLog

        return TensorBoardLog.for_trainer(self)

    def _steps(self) -> Iterator[Message]:
        cfg = self.cfg
        model, opt, device = self.model, self.optimizer, self.device
        batches = DeviceBatches(self.train_split, cfg.batch_size, device, self.batch_generator)
        steps_per_epoch = len(batches)
        n_train = len(self.train_split)
        total_steps = cfg.epochs * steps_per_epoch
        model.train()
        self._good.remember(self.step)
        interval = torch.zeros(2, dtype=torch.float32, device=device)  # recon, kl summed over steps
        epoch_sum = self.epoch_sums  # summed over images
        n_interval = 0  # steps in ``interval``, counted here so the device is not asked
        last_beta = None
        t_last = time.perf_counter()
        t_snap = t_last
        seen_since = 0
        snap_due = True
        try:
            while self.epoch < cfg.epochs and not self._stop.is_set():
                epoch_sum.zero_()
                start, self.steps_into_epoch = 0, 0
                if self.resume_at is not None:  # a run saved mid-epoch: the same order, its first steps skipped
                    start, sums = self.resume_at
                    self.resume_at = None
                    epoch_sum.copy_(sums)
                    self.steps_into_epoch = start
                self.epoch_rng = self.batch_generator.get_state()
                for i, (x, y) in itertools.islice(enumerate(batches), start, None):
                    if not self._running.is_set():
                        t_pause = time.perf_counter()
                        self._waiting.set()
                        self._running.wait()
                        self._waiting.clear()
                        t_last += time.perf_counter() - t_pause
                        t_snap = time.perf_counter()
                    if self._stop.is_set():
                        break
                    epoch_f = self.epoch + i / steps_per_epoch
                    w = self.kl_weight_at(epoch_f)
                    beta = self._beta
                    if beta != last_beta:
                        self.applied_beta_log.append((self.step, beta))
                        last_beta = beta
                    lr = self.lr_at(self.step, total_steps)
                    if opt.param_groups[0]["lr"] != lr:
                        for g in opt.param_groups:
                            g["lr"] = lr
                    # device-side: random numbers drawn where x lives, nothing read back
                    x = augment(x, self.augment)
                    if cfg.binarize:
                        x = torch.bernoulli(x)
                    yc = y if model.conditional else None
                    if cfg.objective == "iwae":
                        with self._autocast():
                            terms, _ = iwae_terms(model, x, yc, cfg.iwae_k, likelihood=self.model_cfg.likelihood,
                                                  kl_weight=beta * w)
                    else:
                        with self._autocast():
                            logits, mu, logvar, z = model(x, yc, with_code=True)
                        terms = elbo_terms(
                            logits, x, mu, logvar,
                            likelihood=self.model_cfg.likelihood,
                            log_sigma=model.log_sigma,
                            beta=beta,
                            kl_weight=w,
                            free_bits=cfg.free_bits,
                            capacity=capacity_at(cfg.capacity, epoch_f, cfg.capacity_epochs),
                            prior=model.prior, z=z,
                        )
                    opt.zero_grad(set_to_none=True)
                    terms.total.backward()
                    self._adam.step()
                    self.step += 1
                    self.steps_into_epoch = i + 1
                    seen_since += x.shape[0]
                    self.samples_seen += x.shape[0]
                    pair = torch.stack([terms.recon.detach(), terms.kl.detach()])
                    interval.add_(pair)
                    epoch_sum.add_(pair, alpha=x.shape[0])
                    n_interval += 1

                    now = time.perf_counter()
                    if now - t_last >= cfg.progress_interval:
                        r, k = interval.tolist()  # the one host sync per interval
                        n, n_interval = n_interval, 0
                        interval.zero_()
                        if not (math.isfinite(r) and math.isfinite(k)):
                            raise self._nonfinite([not math.isfinite(r), not math.isfinite(k)])
                        self._good.remember(self.step)
                        now = time.perf_counter()
                        dt = now - t_last
                        self.elapsed += dt
                        rate = seen_since / dt if dt > 0 else 0.0
                        p = Progress(
                            step=self.step, epoch=self.epoch + (i + 1) / steps_per_epoch, epochs=cfg.epochs,
                            recon=r / n, kl=k / n, neg_elbo=(r + k) / n, kl_weight=w, beta=beta, lr=lr,
                            samples_per_s=rate, elapsed=self.elapsed, threads=self._threads(seen_since, dt),
                            eta=(total_steps - (self.epoch * steps_per_epoch + i + 1)) * cfg.batch_size / rate if rate else math.inf,
                        )
                        self.history.add_progress(p)
                        t_last, seen_since = now, 0
                        yield p
                        if now - t_snap >= cfg.snapshot_interval:
                            snap_due = True
                    if snap_due and self._good.step == self.step:
                        snap_due = False
                        t_snap = time.perf_counter()
                        yield self.snapshot()
                        t_last += time.perf_counter() - t_snap
                else:
                    # the epoch ran to its end
                    tr, tk = (epoch_sum / n_train).tolist()
                    if not (math.isfinite(tr) and math.isfinite(tk)):
                        raise self._nonfinite([not math.isfinite(tr), not math.isfinite(tk)])
                    self.epoch += 1
                    self.steps_into_epoch = 0
                    t_val = time.perf_counter()
                    # the epoch's last steps are counted now, so ``elapsed`` is exact at a Validation
                    self.elapsed += t_val - t_last
                    vr, vk, kl_d = self.validate()
                    self.last_kl_per_dim = kl_d.numpy()
                    self._note_best(self.epoch, vr + vk)
                    v = Validation(
                        epoch=self.epoch, step=self.step, recon=vr, kl=vk, neg_elbo=vr + vk,
                        train_recon=tr, train_kl=tk, kl_per_dim=tuple(float(a) for a in kl_d),
                        best_epoch=self.best_epoch, best_neg_elbo=self.best_neg_elbo,
                        neg_iwae=self.validate_iwae() if cfg.objective == "iwae" else None,
                        likelihood=self.likelihood,
                    )
                    self.history.add_validation(v)
                    self._good.remember(self.step)
                    yield v
                    # neither validation nor what the consumer did with it is training time
                    t_last, seen_since = time.perf_counter(), 0
        except Exception as exc:
            # whatever broke a step, the weights and Adam's moments go back to the last good point
            self._good.restore()
            if not isinstance(exc, TrainingError) and out_of_memory(exc):
                raise TrainingError(
                    f"the {self.device.type.upper()} device ran out of memory at batch size {cfg.batch_size}; "
                    f"the weights from step {self._good.step} were restored (try a smaller batch size or model)"
                ) from None
            raise
        finally:
            if self.thread_tuner is not None:  # the count is the process's, not this run's
                self.thread_tuner.restore()
        # flush what the last interval accumulated, then a final picture of the model
        r, k = interval.tolist()
        n = n_interval
        if n:
            if not (math.isfinite(r) and math.isfinite(k)):
                raise self._nonfinite([not math.isfinite(r), not math.isfinite(k)])
            now = time.perf_counter()
            self.elapsed += now - t_last
            p = Progress(
                step=self.step, epoch=self.epoch_float(steps_per_epoch), epochs=cfg.epochs,
                recon=r / n, kl=k / n, neg_elbo=(r + k) / n, kl_weight=self.kl_weight_at(self.epoch), beta=self._beta,
                # the run's average: the last partial interval alone is too short to mean much
                lr=self.lr_at(self.step, total_steps), samples_per_s=self.samples_seen / max(1e-9, self.elapsed), elapsed=self.elapsed, eta=0.0,
                threads=self._threads(0, 0.0),
            )
            self.history.add_progress(p)
            yield p
        self._good.remember(self.step)
        yield self.snapshot()
        yield Finished(
            reason="stopped" if self._stop.is_set() else "completed",
            step=self.step,
            epoch=self.epoch_float(steps_per_epoch),
        )

    def _threads(self, samples: int, seconds: float) -> int:
        if self.thread_tuner is None:
            return torch.get_num_threads() if self.device.type == "cpu" else 0
        self.thread_tuner.observe(samples, seconds)
        return self.thread_tuner.threads

    def epoch_float(self, steps_per_epoch: int) -> float:
        partial = self.step - self.epoch * steps_per_epoch
        return self.epoch + (partial / steps_per_epoch if 0 < partial < steps_per_epoch else 0.0)

    def bundle(self, **extra) -> dict:
        """A checkpoint bundle of the current state (call it between two messages of ``run()``)."""
        from .checkpoint import make_bundle

        return make_bundle(self, **extra)

    def train(self) -> list[Message]:
        """Run to the end and return the messages; for scripts and tests."""
        return list(self.run())
