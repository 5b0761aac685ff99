import os
import pickle
import stat
from pathlib import Path

import pytest
import torch

from vae_studio.core import CheckpointError, load_checkpoint, make_bundle, save_checkpoint
from vae_studio.core.checkpoint import SCHEMA_VERSION


@pytest.fixture
def saved(trained, tmp_path):
    return save_checkpoint(tmp_path / "run.pt", make_bundle(trained))


def test_round_trip_reproduces_outputs_exactly(trained, saved):
    bundle = load_checkpoint(saved)
    model = bundle["_model"]
    assert bundle["model_config"] == trained.model_cfg and bundle["train_config"] == trained.cfg
    assert bundle["dataset"] == "digits" and bundle["step"] == trained.step and bundle["seed"] == trained.cfg.seed
    assert bundle["history"]["val_recon"] == trained.history.array("val_recon").tolist()
    x = torch.rand(16, 1, 28, 28)
    z = torch.randn(16, 8)
    with torch.no_grad():
        assert torch.equal(model.encode(x)[0], trained.model.encode(x)[0])
        assert torch.equal(model.decode(z), trained.model.decode(z))
    assert bundle["optimizer_state"]["state"]


@pytest.mark.parametrize("tenth", range(10))
def test_truncated_checkpoints_are_refused(saved, tmp_path, tenth):
    data = saved.read_bytes()
    cut = tmp_path / "cut.pt"
    cut.write_bytes(data[: len(data) * tenth // 10])
    with pytest.raises(CheckpointError, match="corrupt or truncated|not a VAE Studio run"):
        load_checkpoint(cut)


class _Payload:
    """Unpickling this creates a file: proof that code ran."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


def test_a_pickle_that_would_run_code_is_refused_and_never_runs(saved, tmp_path):
    marker = tmp_path / "pwned"
    bundle = torch.load(saved, weights_only=True)
    bundle["extra"] = _Payload(str(marker))
    evil = tmp_path / "evil.pt"
    torch.save(bundle, evil)
    with pytest.raises(CheckpointError, match="refused.*could run code"):
        load_checkpoint(evil)
    assert not marker.exists()
    # and the payload is real: an unsafe loader would have run it
    torch.load(evil, weights_only=False)
    assert marker.exists()


def test_future_foreign_and_tampered_files(saved, tmp_path):
    bundle = torch.load(saved, weights_only=True)
    future = tmp_path / "future.pt"
    torch.save({**bundle, "schema_version": SCHEMA_VERSION + 1}, future)
    with pytest.raises(CheckpointError, match="newer VAE Studio"):
        load_checkpoint(future)
    foreign = tmp_path / "foreign.pt"
    torch.save({"weight": torch.zeros(3)}, foreign)
    with pytest.raises(CheckpointError, match="not a VAE Studio run"):
        load_checkpoint(foreign)
    noise = tmp_path / "noise.pt"
    noise.write_bytes(os.urandom(5000))
    with pytest.raises(CheckpointError, match="corrupt or truncated"):
        load_checkpoint(noise)
    bad = dict(bundle)
    bad["model_state"] = {**bundle["model_state"], "decoder.net.0.weight": torch.zeros(3, 3)}
    torch.save(bad, tmp_path / "bad.pt")
    with pytest.raises(CheckpointError, match="do not fit"):
        load_checkpoint(tmp_path / "bad.pt")
    nan = dict(bundle)
    nan["model_state"] = {k: v.clone() for k, v in bundle["model_state"].items()}
    nan["model_state"]["decoder.net.0.bias"][0] = float("nan")
    torch.save(nan, tmp_path / "nan.pt")
    with pytest.raises(CheckpointError, match="NaN"):
        load_checkpoint(tmp_path / "nan.pt")
    with pytest.raises(CheckpointError, match="no checkpoint"):
        load_checkpoint(tmp_path / "missing.pt")


def test_a_failed_save_leaves_the_old_file_intact(trained, saved, tmp_path, monkeypatch):
    before = saved.read_bytes()

    def broken_save(obj, f, *a, **k):
        f.write(b"half a checkpoint")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(CheckpointError, match="No space left on device; nothing was overwritten"):
        save_checkpoint(saved, make_bundle(trained))
    assert saved.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.pt"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write to read-only folders")
def test_saving_into_a_read_only_folder_is_a_clear_error(trained, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        with pytest.raises(CheckpointError, match="cannot save"):
            save_checkpoint(ro / "run.pt", make_bundle(trained))
    finally:
        ro.chmod(stat.S_IRWXU)


def test_pickle_module_is_not_what_loads_checkpoints():
    # guard against a refactor that swaps in an unsafe loader
    src = Path(__file__).resolve().parents[2] / "vae_studio" / "core" / "checkpoint.py"
    text = src.read_text()
    assert "weights_only=True" in text and "pickle.load(" not in text
    assert pickle  # imported for the payload class above


def test_saving_where_the_folder_refuses_writes_is_a_clear_error(trained, saved, monkeypatch):
    import tempfile

    def denied(*a, **k):
        raise PermissionError(13, "Permission denied")

    before = saved.read_bytes()
    monkeypatch.setattr(tempfile, "mkstemp", denied)
    with pytest.raises(CheckpointError, match="cannot save to .*Permission denied"):
        save_checkpoint(saved, make_bundle(trained))
    assert saved.read_bytes() == before


def test_random_bytes_of_every_kind_are_a_corrupt_file(tmp_path):
    """torch's safe unpickler meets random bytes with many exception types; each is one message."""
    import random

    rng = random.Random(0)
    for i in range(200):
        path = tmp_path / f"noise{i}.pt"
        head = rng.choice([b"", b"\x80\x02", b"PK\x03\x04", b"\x80\x04\x95"])
        path.write_bytes(head + bytes(rng.randrange(256) for _ in range(rng.randrange(1, 400))))
        with pytest.raises(CheckpointError, match="corrupt or truncated|not a VAE Studio run|refused"):
            load_checkpoint(path)
