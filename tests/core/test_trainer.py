import math
import threading

import numpy as np
import pytest
import torch

from vae_studio.core import (
    Finished, ModelConfig, NonFiniteLossError, Progress, Snapshot, TrainConfig, Trainer, TrainingError, Validation,
)

SMALL = ModelConfig(latent_dim=4, hidden=(64,))


def test_a_short_run_on_the_digits_lowers_validation_neg_elbo(digits, trained):
    fresh = Trainer(trained.model_cfg, trained.cfg, digits)
    before = sum(fresh.validate()[:2])
    first, last = trained.history.array("val_recon").tolist()[0] + trained.history.array("val_kl").tolist()[0], trained.history.array("val_recon").tolist()[-1] + trained.history.array("val_kl").tolist()[-1]
    # stated margin: an untrained model scores ~550 nats; six epochs bring it to about a third of that
    assert last < 0.35 * before, (before, last)
    assert last < first - 40, (first, last)
    assert trained.history.array("val_epoch").tolist() == [1, 2, 3, 4, 5, 6]


def test_messages_are_immutable_and_bounded(digits):
    trainer = Trainer(SMALL, TrainConfig(epochs=2, device="cpu", progress_interval=0.05), digits)
    msgs = trainer.train()
    kinds = [type(m) for m in msgs]
    assert kinds.count(Validation) == 2 and kinds[-1] is Finished and msgs[-1].reason == "completed"
    progress = [m for m in msgs if isinstance(m, Progress)]
    assert progress and len(progress) < trainer.step  # not one message per step
    assert all(math.isfinite(p.neg_elbo) and p.samples_per_s > 0 for p in progress)
    snap = next(m for m in reversed(msgs) if isinstance(m, Snapshot))
    assert snap.probe_mu.shape == (len(digits.test), 4) and snap.probe_labels.shape == (len(digits.test),)
    with pytest.raises(Exception):
        snap.step = 3
    # the snapshot owns its weights: training on does not change them
    before = {k: v.clone() for k, v in snap.state.items()}
    for p in trainer.model.parameters():
        p.data.add_(1.0)
    assert all(torch.equal(before[k], snap.state[k]) for k in before)
    model = snap.build_model()
    assert np.allclose(model.encode(torch.zeros(1, 1, 28, 28))[0].detach().numpy().shape, (1, 4))


def test_same_seed_gives_the_same_losses(digits):
    runs = []
    for _ in range(2):
        t = Trainer(SMALL, TrainConfig(epochs=2, device="cpu", seed=11), digits)
        t.train()
        runs.append((t.history.array("train_epoch_recon").tolist(), t.history.array("train_epoch_kl").tolist(), t.history.array("val_recon").tolist(), t.history.array("val_kl").tolist()))
    assert runs[0] == runs[1]
    t = Trainer(SMALL, TrainConfig(epochs=2, device="cpu", seed=12), digits)
    t.train()
    assert t.history.array("val_recon").tolist() != runs[0][2]


def test_nan_guard_stops_restores_the_last_good_weights_and_names_the_term(digits):
    # syncs only at epoch ends, so the last good point is exactly the end of epoch 1
    trainer = Trainer(SMALL, TrainConfig(epochs=3, device="cpu", progress_interval=1e6, snapshot_interval=1e6), digits)
    run = trainer.run()
    for msg in run:
        if isinstance(msg, Validation):
            break
    good = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    good_step = trainer.step
    trainer.set_lr(1e6)
    with pytest.raises(NonFiniteLossError) as info:
        for _ in run:
            pass
    err = info.value
    assert err.term in ("reconstruction", "KL") and err.term in str(err)
    assert f"from step {good_step} were restored" in str(err)
    assert err.step > good_step
    now = trainer.model.state_dict()
    assert all(torch.equal(good[k], now[k]) for k in good)
    # the restored model still works and can keep training at a sane rate
    trainer2 = Trainer(SMALL, TrainConfig(epochs=2, device="cpu"), digits, state={
        "model_state": now, "optimizer_state": None, "step": trainer.step, "epoch": 1, "history": {}})
    trainer2.train()
    assert math.isfinite(trainer2.history.array("val_recon").tolist()[-1])


def test_lr_1e6_from_the_start_is_caught(digits):
    trainer = Trainer(SMALL, TrainConfig(epochs=2, device="cpu", lr=1e6), digits)
    with pytest.raises(NonFiniteLossError):
        trainer.train()
    assert all(torch.isfinite(p).all() for p in trainer.model.parameters())


def test_out_of_memory_inside_training_restores_and_reports(digits, monkeypatch):
    trainer = Trainer(SMALL, TrainConfig(epochs=2, device="cpu"), digits)
    calls = {"n": 0}
    real = trainer.model.forward

    def flaky(*a, **k):
        calls["n"] += 1
        if calls["n"] == 5:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real(*a, **k)

    monkeypatch.setattr(trainer.model, "forward", flaky)
    with pytest.raises(TrainingError, match="ran out of memory at batch size 128"):
        trainer.train()


def test_pause_resume_and_stop_from_another_thread(digits):
    trainer = Trainer(SMALL, TrainConfig(epochs=10_000, device="cpu"), digits)
    done = threading.Event()
    out = {}

    def work():
        out["msgs"] = trainer.train()
        done.set()

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    try:
        assert _wait_for(lambda: trainer.step > 20)
        trainer.pause()
        assert _wait_for(lambda: trainer.waiting)
        step = trainer.step
        assert not done.wait(0.3)  # nothing finishes or moves while paused
        assert trainer.step == step
        trainer.resume()
        assert _wait_for(lambda: trainer.step > step + 10)
    finally:
        trainer.stop()
        thread.join(10)
    assert not thread.is_alive()
    assert out["msgs"][-1].reason == "stopped"


def test_stop_while_paused_ends_promptly(digits):
    trainer = Trainer(SMALL, TrainConfig(epochs=10_000, device="cpu"), digits)
    thread = threading.Thread(target=trainer.train, daemon=True)
    trainer.pause()
    thread.start()
    assert _wait_for(lambda: trainer.waiting)
    trainer.stop()
    thread.join(5)
    assert not thread.is_alive()


def test_beta_set_mid_run_applies_at_the_next_step(digits):
    trainer = Trainer(ModelConfig(variant="beta", latent_dim=4, hidden=(64,)), TrainConfig(epochs=3, beta=4.0, device="cpu"), digits)
    run = trainer.run()
    next(m for m in run if isinstance(m, Validation))
    at = trainer.step
    trainer.set_beta(0.5)
    for _ in run:
        pass
    assert trainer.applied_beta_log[0] == (0, 4.0)
    assert trainer.applied_beta_log[1] == (at, 0.5)


def test_warmup_weight_reaches_one(digits):
    trainer = Trainer(SMALL, TrainConfig(epochs=2, warmup_epochs=1.0, device="cpu", progress_interval=0.01), digits)
    trainer.train()
    w = trainer.history.array("kl_weight").tolist()
    assert w[0] < 0.9 and w[-1] == 1.0 and all(b >= a for a, b in zip(w, w[1:]))


def test_conditional_and_conv_train(digits):
    trainer = Trainer(ModelConfig(variant="conditional", arch="conv", latent_dim=3, hidden=(64,)), TrainConfig(epochs=1, device="cpu"), digits)
    trainer.train()
    assert math.isfinite(trainer.history.array("val_recon").tolist()[-1])


def _wait_for(cond, timeout=10.0):
    done = threading.Event()
    deadline = 0.0
    while deadline < timeout:
        if cond():
            return True
        done.wait(0.01)
        deadline += 0.01
    return cond()
