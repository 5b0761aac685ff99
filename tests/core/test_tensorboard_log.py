"""TensorBoard event files: read back with TensorBoard's own reader and compared with the run's history."""

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from vae_studio.cli import main
from vae_studio.core import ModelConfig, TrainConfig, Trainer
from vae_studio.core.data import Dataset
from vae_studio.core.errors import ConfigError
from vae_studio.core.messages import Progress

event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")


def _read(run_dir: Path):
    acc = event_accumulator.EventAccumulator(str(run_dir), size_guidance={event_accumulator.SCALARS: 0,
                                                                          event_accumulator.IMAGES: 0})
    acc.Reload()
    return acc


def _scalars(acc, tag: str) -> tuple[list[int], np.ndarray]:
    events = acc.Scalars(tag)
    return [e.step for e in events], np.array([e.value for e in events])


@pytest.fixture(scope="module")
def small(digits) -> Dataset:
    return Dataset("digits", digits.train.subset(torch.arange(400)), digits.test.subset(torch.arange(60)), digits.class_names)


def test_the_scalars_images_and_embedding_match_the_run(small, tmp_path):
    cfg = TrainConfig(epochs=2, batch_size=50, device="cpu", kl_schedule="linear", warmup_epochs=1.0,
                      progress_interval=0.01, logdir=str(tmp_path / "logs"))
    trainer = Trainer(ModelConfig(latent_dim=3, hidden=(32,)), cfg, small)
    progress = [m for m in trainer.run() if isinstance(m, Progress)]
    run_dir = Path(trainer.tensorboard_dir)
    assert run_dir.parent == tmp_path / "logs" and run_dir.name.endswith("vanilla-3d")
    acc = _read(run_dir)
    h = trainer.history

    steps, values = _scalars(acc, "train/neg_elbo")
    assert steps == h.array("step").astype(int).tolist()
    np.testing.assert_allclose(values, h.array("neg_elbo"), rtol=1e-6)  # stored as float32
    for tag, column in (("train/recon", "recon"), ("train/kl", "kl"), ("schedule/kl_weight", "kl_weight")):
        np.testing.assert_allclose(_scalars(acc, tag)[1], h.array(column), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(_scalars(acc, "schedule/lr")[1], [p.lr for p in progress], rtol=1e-6)
    np.testing.assert_allclose(_scalars(acc, "schedule/beta")[1], [p.beta for p in progress])
    val_steps, val = _scalars(acc, "heldout/neg_elbo")
    assert val_steps == h.array("val_step").astype(int).tolist() and len(val_steps) == 2
    np.testing.assert_allclose(val, h.array("val_neg_elbo"), rtol=1e-6)
    np.testing.assert_allclose(_scalars(acc, "train_epoch/neg_elbo")[1], h.array("train_epoch_neg_elbo"), rtol=1e-6)

    for tag in ("reconstructions", "prior_samples"):
        images = acc.Images(tag)
        assert [e.step for e in images] == val_steps  # one picture an epoch
    samples = acc.Images("prior_samples")[-1]
    assert (samples.width, samples.height) == (8 * 30 + 2, 8 * 30 + 2)  # 8 x 8 images of 28 px, 2 px apart

    projector = (run_dir / "projector_config.pbtxt").read_text()
    assert "heldout_posterior_means" in projector and "sprite.png" in projector
    folder = next(p.parent for p in run_dir.rglob("tensors.tsv"))
    codes = np.loadtxt(folder / "tensors.tsv", delimiter="\t")
    assert codes.shape == (60, 3)
    labels = (folder / "metadata.tsv").read_text().split()
    assert labels == [str(int(c)) for c in small.test.labels]
    assert (folder / "sprite.png").read_bytes()[:4] == b"\x89PNG"


def test_the_cli_logs_and_a_resumed_run_logs_on_into_the_same_folder(tmp_path, capsys):
    logs, ckpt = tmp_path / "tb", tmp_path / "run.pt"
    base = ["--hidden", "32", "--latent-dim", "2", "--device", "cpu"]
    assert main(["train", "--epochs", "1", *base, "--logdir", str(logs), "--out", str(ckpt)]) == 0
    assert "tensorboard --logdir" in capsys.readouterr().out
    (run_dir,) = logs.iterdir()
    assert main(["train", "--resume", str(ckpt), "--epochs", "2"]) == 0
    assert list(logs.iterdir()) == [run_dir]
    steps, _ = _scalars(_read(run_dir), "heldout/neg_elbo")
    assert len(steps) == 2 and steps[1] == 2 * steps[0]


def test_without_tensorboard_the_option_says_how_to_install_it(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # an import of it now fails
    with pytest.raises(ConfigError, match="pip install tensorboard"):
        Trainer(ModelConfig(latent_dim=2, hidden=(8,)), TrainConfig(epochs=1, device="cpu", logdir=str(tmp_path)),
                Dataset("x", *(_tiny(),) * 2, ("0",)))
    assert main(["train", "--epochs", "1", "--logdir", str(tmp_path / "tb"), "--out", str(tmp_path / "r.pt")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "pip install tensorboard" in err[0]
    assert not (tmp_path / "tb").exists()


def _tiny():
    from vae_studio.core.data import Split

    return Split(torch.zeros(4, 28, 28, dtype=torch.uint8), torch.zeros(4, dtype=torch.long))
