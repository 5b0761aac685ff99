"""Training in a child process: the same messages, controls, bundles and errors as in-process."""

import os
import signal
import threading
import time

import pytest
import torch

from vae_studio.core import ModelConfig, TrainConfig, Trainer
from vae_studio.core.errors import NonFiniteLossError, TrainingError
from vae_studio.core.remote import RemoteTrainer
from vae_studio.core.trainer import Finished, Progress, Snapshot, Validation

MODEL = ModelConfig(latent_dim=2, hidden=(32,))


def test_same_run_as_in_process_and_a_bundle_mid_run(digits):
    cfg = TrainConfig(epochs=2, device="cpu", seed=5)
    local = Trainer(MODEL, cfg, digits)
    local_val = [m.neg_elbo for m in local.run() if isinstance(m, Validation)]

    remote = RemoteTrainer(MODEL, cfg, digits, torch_threads=torch.get_num_threads())
    kinds, remote_val, mid = set(), [], None
    for m in remote.run():
        kinds.add(type(m))
        if isinstance(m, Validation):
            remote_val.append(m.neg_elbo)
            if mid is None:
                asked_at = m.step
                mid = remote.bundle(note="mid")  # served at the child's next message
    assert kinds == {Progress, Validation, Snapshot, Finished}
    assert remote_val == local_val  # same seed, same thread count: the same numbers
    final = remote.bundle()
    assert mid["note"] == "mid" and asked_at <= mid["step"] <= final["step"]
    assert final["step"] == local.step == remote.step and remote.epoch == 2 and remote.samples_seen > 0
    for k, v in local.model.state_dict().items():
        assert torch.equal(final["model_state"][k], v), k
    assert remote.device == torch.device("cpu") and not remote.alive


def test_a_nonfinite_loss_comes_back_as_the_same_error_with_restored_weights(digits):
    remote = RemoteTrainer(MODEL, TrainConfig(epochs=20, device="cpu", lr=1e6), digits)
    with pytest.raises(NonFiniteLossError, match="non-finite near step") as info:
        for _ in remote.run():
            pass
    assert info.value.term in ("reconstruction", "KL") and info.value.step > 0
    weights = remote.bundle()["model_state"]
    assert all(torch.isfinite(v).all() for v in weights.values())


def _wait_until(condition, timeout=120.0):
    # a ceiling for a hung child process, not a speed budget: generous, so a busy machine still passes
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        threading.Event().wait(0.02)


def test_pause_resume_stop_and_continue(digits):
    remote = RemoteTrainer(MODEL, TrainConfig(epochs=500, device="cpu"), digits)
    seen = []
    consumer = threading.Thread(target=lambda: seen.extend(remote.run()))
    consumer.start()
    _wait_until(lambda: remote.step > 0)
    remote.pause()
    # a pause is a standstill: once the messages already on their way are in, the step stays put
    # over a window many progress intervals (0.1 s) long
    steps = []
    _wait_until(lambda: steps.append(remote.step) or (len(steps) >= 25 and len(set(steps[-25:])) == 1))
    assert remote.paused
    paused_at = remote.step
    remote.resume()
    _wait_until(lambda: remote.step > paused_at)
    remote.set_beta(0.25)
    remote.stop()
    consumer.join(30)
    assert not consumer.is_alive() and isinstance(seen[-1], Finished) and seen[-1].reason == "stopped"

    again = RemoteTrainer(MODEL, TrainConfig(epochs=remote.epoch + 1, device="cpu"), digits, state=remote.bundle())
    assert again.step == remote.step
    assert isinstance(list(again.run())[-1], Finished) and again.epoch == remote.epoch + 1


def test_a_killed_process_is_a_clear_error_not_a_hang(digits):
    remote = RemoteTrainer(MODEL, TrainConfig(epochs=500, device="cpu"), digits)
    run = remote.run()
    snap = next(m for m in run if isinstance(m, Snapshot))
    os.kill(remote._process.pid, signal.SIGKILL)
    with pytest.raises(TrainingError, match=f"ended unexpectedly .* the weights of step {snap.step} are kept"):
        for m in run:
            assert not isinstance(m, Snapshot), "the test needs this snapshot to stay the last"
    kept = remote.bundle()  # the last snapshot's weights: the run can still be saved and continued
    assert kept["step"] == snap.step and kept["optimizer_state"] is None
    assert all(torch.equal(kept["model_state"][k], v) for k, v in snap.state.items())
    again = RemoteTrainer(MODEL, TrainConfig(epochs=1, device="cpu"), digits, state=kept)
    assert isinstance(list(again.run())[-1], Finished)


def test_a_process_that_dies_before_any_snapshot_has_nothing_to_keep(digits):
    remote = RemoteTrainer(MODEL, TrainConfig(epochs=500, device="cpu"), digits)
    os.kill(remote._process.pid, signal.SIGKILL)
    with pytest.raises(TrainingError, match="no weights had come back yet"):
        for _ in remote.run():
            pass
    with pytest.raises(TrainingError, match="no trained weights to save"):
        remote.bundle()


def test_both_trainers_have_the_one_trainer_interface_and_the_pipe_carries_named_records():
    import dataclasses

    from vae_studio.core import pipe_records as R
    from vae_studio.core.config import ModelConfig, TrainConfig
    from vae_studio.core.data import load_dataset
    from vae_studio.core.remote import RemoteTrainer
    from vae_studio.core.trainer import Trainer

    ds = load_dataset("digits")
    cfgs = ModelConfig(hidden=(16,), latent_dim=2), TrainConfig(epochs=1, device="cpu")
    local = Trainer(*cfgs, ds)
    remote = RemoteTrainer(*cfgs, ds)
    try:
        assert isinstance(local, R.TrainerLike) and isinstance(remote, R.TrainerLike)
        remote.pause()
        remote.set_beta(1.0)
        remote.resume()
        messages = list(remote.run())
        assert messages and remote.bundle()["step"] == remote.step > 0
    finally:
        remote.kill()
    for record in (R.Job, R.Pause, R.SetBeta, R.WantBundle, R.Stats, R.Started, R.Relayed, R.BundleReply, R.Final):
        assert dataclasses.is_dataclass(record)
