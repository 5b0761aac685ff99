"""Resuming a saved run: an interrupted and resumed run equals an uninterrupted one, bit for bit on the CPU."""

import pytest
import torch

from vae_studio.cli import main
from vae_studio.core import ModelConfig, TrainConfig, Trainer, load_checkpoint, save_checkpoint
from vae_studio.core.checkpoint import validate_bundle
from vae_studio.core.data import Dataset
from vae_studio.core.errors import CheckpointError
from vae_studio.core.messages import Progress
from vae_studio.core.cli_settings import from_cli

SMALL = ModelConfig(latent_dim=4, hidden=(64,))


@pytest.fixture(autouse=True)
def _fixed_threads(monkeypatch):
    # the thread tuner changes the count by the clock, and sums over other thread counts round differently
    monkeypatch.setenv("VAE_STUDIO_ADAPTIVE_THREADS", "0")


@pytest.fixture(scope="module")
def small(digits) -> Dataset:
    return Dataset("digits", digits.train.subset(torch.arange(600)), digits.test.subset(torch.arange(100)), digits.class_names)


def _cfg(**kw) -> TrainConfig:
    # a progress report after every step, so the history's rows do not depend on the clock
    base = dict(epochs=3, batch_size=64, device="cpu", seed=5, augment="light", lr_schedule="cosine",
                kl_schedule="linear", warmup_epochs=2.0, progress_interval=1e-9, snapshot_interval=1e9)
    return TrainConfig(**{**base, **kw})


def _run_until(trainer: Trainer, step: int) -> None:
    for message in trainer.run():
        if isinstance(message, Progress) and message.step == step:
            trainer.stop()


def _weights(trainer: Trainer) -> dict:
    return {k: v.detach().clone() for k, v in trainer.model.state_dict().items()}


def test_a_run_stopped_mid_epoch_and_resumed_from_its_file_equals_an_uninterrupted_run(small, tmp_path):
    whole = Trainer(SMALL, _cfg(), small)
    whole.train()

    first = Trainer(SMALL, _cfg(), small)
    _run_until(first, 13)  # 10 steps an epoch: stopped 3 steps into the second
    assert (first.step, first.epoch, first.steps_into_epoch) == (13, 1, 3)
    path = save_checkpoint(tmp_path / "half.pt", first.bundle())
    torch.manual_seed(123)  # whatever the process did in between must not matter
    second = Trainer(SMALL, _cfg(), small, state=load_checkpoint(path))
    second.train()

    assert second.step == whole.step == 30
    w1, w2 = _weights(whole), _weights(second)
    assert all(torch.equal(w1[k], w2[k]) for k in w1)
    assert second.history.to_dict() == whole.history.to_dict()
    s1, s2 = whole.optimizer.state_dict()["state"], second.optimizer.state_dict()["state"]
    assert all(torch.equal(s1[i][k], s2[i][k]) for i in s1 for k in s1[i])


def test_resuming_at_an_epoch_boundary_and_twice_in_one_run(small):
    whole = Trainer(SMALL, _cfg(lr_schedule="onecycle", binarize=True), small)
    whole.train()
    a = Trainer(SMALL, _cfg(lr_schedule="onecycle", binarize=True), small)
    _run_until(a, 10)  # the end of the first epoch, before its validation
    b = Trainer(SMALL, a.cfg, small, state=a.bundle())
    _run_until(b, 22)
    c = Trainer(SMALL, a.cfg, small, state=b.bundle())
    c.train()
    assert all(torch.equal(x, y) for x, y in zip(whole.model.state_dict().values(), c.model.state_dict().values()))
    assert c.history.to_dict() == whole.history.to_dict()
    assert [r["step"] for r in c.resumes] == [10, 22]


def test_another_batch_size_restarts_the_interrupted_epoch(small):
    a = Trainer(SMALL, _cfg(), small)
    _run_until(a, 13)
    b = Trainer(SMALL, _cfg(batch_size=100), small, state=a.bundle())
    assert b.resume_at is None  # the saved position in the epoch means nothing with other batches
    b.train()
    assert b.epoch == 3


def test_the_cli_resumes_a_run_stopped_mid_epoch_to_the_same_weights(small, digits, tmp_path):
    argv = ["--epochs", "3", "--hidden", "64", "--latent-dim", "4", "--seed", "2", "--batch-size", "512", "--device", "cpu"]
    assert main(["train", *argv, "--keep", "last", "--out", str(tmp_path / "whole.pt")]) == 0
    # the same run, stopped 5 steps into its second epoch (9 steps an epoch on the 4,500 digits)
    s = from_cli({"epochs": 3, "hidden": (64,), "latent_dim": 4, "seed": 2, "batch_size": 512, "device": "cpu"})
    cfg = s.train_config().replace(progress_interval=1e-9)  # a report each step: stopped at the step asked
    first = Trainer(s.model_config(digits.image_shape, digits.num_classes), cfg, digits)
    _run_until(first, 14)
    stopped_at = first.step
    assert stopped_at == 14
    save_checkpoint(tmp_path / "half.pt", first.bundle())
    assert main(["train", "--resume", str(tmp_path / "half.pt"), "--keep", "last", "--out", str(tmp_path / "resumed.pt")]) == 0
    whole, resumed = load_checkpoint(tmp_path / "whole.pt"), load_checkpoint(tmp_path / "resumed.pt")
    assert resumed["step"] == whole["step"] == 27
    assert all(torch.equal(whole["model_state"][k], resumed["model_state"][k]) for k in whole["model_state"])
    for col in ("val_step", "val_recon", "val_kl", "train_epoch_recon", "train_epoch_kl"):
        assert resumed["history"][col] == whole["history"][col]
    assert resumed["resumed"] == [{"step": stopped_at, "epoch": 1, "epochs": 3, "lr": s.lr, "beta": 1.0}]


def test_the_cli_extends_a_finished_run_and_records_a_new_learning_rate(tmp_path, capsys):
    argv = ["--hidden", "64", "--latent-dim", "3", "--lr-schedule", "constant", "--device", "cpu", "--keep", "last"]
    assert main(["train", "--epochs", "2", *argv, "--out", str(tmp_path / "two.pt")]) == 0
    assert main(["train", "--epochs", "3", *argv, "--out", str(tmp_path / "three.pt")]) == 0
    assert main(["train", "--resume", str(tmp_path / "two.pt"), "--epochs", "3", "--out", str(tmp_path / "more.pt")]) == 0
    three, more = load_checkpoint(tmp_path / "three.pt"), load_checkpoint(tmp_path / "more.pt")
    assert all(torch.equal(three["model_state"][k], more["model_state"][k]) for k in three["model_state"])
    assert more["history"]["val_recon"] == three["history"]["val_recon"]
    # the rate may change; the file says from which step
    assert main(["train", "--resume", str(tmp_path / "more.pt"), "--epochs", "4", "--lr", "0.0005"]) == 0
    again = load_checkpoint(tmp_path / "more.pt")  # --out defaults to the file resumed
    assert again["epoch"] == 4 and again["train_config"].lr == 5e-4
    first_lr = three["train_config"].lr  # the schema's default
    assert [(r["step"], r["lr"]) for r in again["resumed"]] == [(more["step"] * 2 // 3, first_lr), (more["step"], 5e-4)]
    assert f"lr {first_lr:g} -> 0.0005" in capsys.readouterr().out


@pytest.mark.parametrize("flag,value", [("--latent-dim", "5"), ("--hidden", "32"), ("--arch", "conv"),
                                        ("--variant", "beta"), ("--dataset", "mnist"), ("--likelihood", "gaussian"),
                                        ("--no-residual", None)])
def test_settings_that_shape_the_model_are_refused_when_resuming(tmp_path, capsys, flag, value):
    ckpt = tmp_path / "run.pt"
    assert main(["train", "--epochs", "1", "--hidden", "64", "--latent-dim", "3", "--device", "cpu", "--out", str(ckpt)]) == 0
    capsys.readouterr()
    assert main(["train", "--resume", str(ckpt), flag, *([value] if value else [])]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    name = flag.replace("--no-", "--")
    assert len(err) == 1 and f"{name} cannot change when resuming" in err[0]
    if value is None:  # a switch names the flag the run was made with
        assert "(--residual)" in err[0]


def test_resuming_a_finished_run_needs_more_epochs_and_a_good_file(tmp_path, capsys):
    ckpt = tmp_path / "run.pt"
    assert main(["train", "--epochs", "1", "--hidden", "64", "--latent-dim", "3", "--device", "cpu", "--out", str(ckpt)]) == 0
    capsys.readouterr()
    assert main(["train", "--resume", str(ckpt)]) == 2
    assert "already trained 1 epoch" in capsys.readouterr().err
    assert main(["train", "--resume", str(tmp_path / "missing.pt")]) == 2


def test_a_damaged_resume_record_is_refused(small):
    t = Trainer(SMALL, _cfg(epochs=1), small)
    t.train()
    for damage in ({"steps_into_epoch": -1}, {"batch_rng": torch.zeros(3, dtype=torch.uint8)},
                   {"epoch_sums": torch.tensor([float("nan"), 0.0], dtype=torch.float64)}, {"extra": 1}):
        bundle = t.bundle()
        bundle["resume"] = {**bundle["resume"], **damage}
        with pytest.raises(CheckpointError, match="cannot be resumed"):
            validate_bundle(bundle)


@pytest.mark.parametrize("keep", ["best", "last"])
def test_a_file_written_with_either_weights_resumes_from_the_last_and_keeps_the_best(small, tmp_path, keep):
    from vae_studio.core.checkpoint import select_weights

    t = Trainer(SMALL, _cfg(epochs=2), small)
    t.train()
    best = {k: torch.zeros_like(v) for k, v in t.model.state_dict().items()}  # pretend epoch 1 was the best
    t.set_best(1, 1.0, best)
    path = save_checkpoint(tmp_path / f"{keep}.pt", select_weights(t.bundle(), keep))
    loaded = load_checkpoint(path)
    assert loaded["weights_epoch"] == (1 if keep == "best" else 2)
    again = Trainer(SMALL, _cfg(epochs=3), small, state=loaded)
    assert all(torch.equal(a, b) for a, b in zip(again.model.state_dict().values(), t.model.state_dict().values()))
    assert again.best_epoch == 1 and all(torch.equal(v, best[k]) for k, v in again.best_state().items())
    other = select_weights(loaded, "last" if keep == "best" else "best")
    assert other["weights_epoch"] == (2 if keep == "best" else 1)
