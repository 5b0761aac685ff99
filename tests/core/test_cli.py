import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from vae_studio.cli import main
from vae_studio.core import load_checkpoint


@pytest.fixture(scope="module")
def ckpts(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    vanilla, cond = d / "v.pt", d / "c.pt"
    assert main(["train", "--epochs", "2", "--hidden", "64", "--latent-dim", "3", "--out", str(vanilla)]) == 0
    assert main(["train", "--variant", "conditional", "--epochs", "1", "--hidden", "64", "--latent-dim", "3", "--out", str(cond)]) == 0
    return vanilla, cond


def test_train_json_is_the_last_line(tmp_path, capsys):
    out = tmp_path / "run.pt"
    rc = main(["train", "--epochs", "2", "--hidden", "64", "--latent-dim", "2", "--warmup-epochs", "1",
               "--free-bits", "0.1", "--seed", "4", "--out", str(out), "--json"])
    assert rc == 0 and out.exists()
    lines = capsys.readouterr().out.strip().splitlines()
    summary = json.loads(lines[-1])
    for key in ("epochs", "train_seconds", "samples_per_s", "neg_elbo", "recon", "kl"):
        assert key in summary
    assert summary["epochs"] == 2 and summary["samples_per_s"] > 0
    assert summary["neg_elbo"] == pytest.approx(summary["recon"] + summary["kl"])


def test_evaluate_reports_iwae_active_units_and_kl_per_dim(ckpts, capsys):
    assert main(["evaluate", str(ckpts[0]), "--iwae-samples", "20", "--json"]) == 0
    d = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert d["nll_iwae"] < d["neg_elbo"] and len(d["kl_per_dim"]) == 3 and 0 <= d["active_units"] <= 3
    assert main(["evaluate", str(ckpts[0]), "--split", "train"]) == 0
    assert "active units" in capsys.readouterr().out


def test_sample_png_and_npy(ckpts, tmp_path, capsys):
    png, npy = tmp_path / "s.png", tmp_path / "s.npy"
    assert main(["sample", str(ckpts[0]), "--out", str(png), "--n", "16"]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["sample", str(ckpts[0]), "--out", str(npy), "--n", "5", "--seed", "1"]) == 0
    a = np.load(npy)
    assert a.shape == (5, 28, 28) and a.dtype == np.float32 and 0 <= a.min() and a.max() <= 1
    assert main(["sample", str(ckpts[1]), "--out", str(npy), "--n", "5", "--label", "7"]) == 0


@pytest.mark.parametrize(
    "argv,needle",
    [
        (["train", "--epochs", "0"], "argument --epochs: epochs must be between 1 and"),
        (["train", "--lr", "abc"], "--lr must be a number"),
        (["train", "--latent-dim", "2.5"], "whole number"),
        (["train", "--variant", "gan"], "invalid choice"),
        (["train", "--hidden", "a,b"], "hidden sizes takes whole numbers"),
        (["train", "--beta", "4"], "--beta 4 needs --variant beta"),
        (["train", "--capacity", "5"], "--capacity needs --variant beta"),
        (["train", "--kl-schedule", "cyclical"], "set --warmup-epochs above 0"),
        (["train", "--dataset", "nowhere"], "unknown dataset 'nowhere'"),
        (["train", "--device", "tpu"], "invalid choice"),
        (["train", "--out", "/no/such/folder/x.pt"], "existing folder"),
        (["evaluate", "missing.pt"], "no checkpoint at missing.pt"),
        (["sample", "missing.pt"], "required: --out"),
        (["sample", "x.pt", "--out", "x.png", "--temperature", "0"], "--temperature must be > 0"),
        (["sample", "x.pt", "--out", "x.png", "--sampler", "flow"], "invalid choice"),
        (["train", "--keep", "first"], "invalid choice"),
        (["train", "--augment", "huge"], "invalid choice"),
        (["train", "--objective", "iwae", "--free-bits", "1"], "IWAE objective cannot be combined"),
        (["bogus"], "invalid choice"),
    ],
)
def test_bad_arguments_give_one_line_and_exit_2(argv, needle, capsys):
    with pytest.raises(SystemExit) as e:
        rc = main(argv)
        raise SystemExit(rc)
    assert e.value.code == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and len(err.splitlines()) == 1 and "Traceback" not in err


@pytest.mark.parametrize("keep", ["best", "last"])
def test_keep_writes_the_best_or_the_last_weights_and_says_which(keep, tmp_path, capsys):
    out = tmp_path / f"{keep}.pt"
    rc = main(["train", "--epochs", "3", "--hidden", "32", "--latent-dim", "2", "--keep", keep, "--out", str(out), "--json"])
    assert rc == 0
    text = capsys.readouterr()
    s = json.loads(text.out.strip().splitlines()[-1])
    assert s["keep"] == keep and s["likelihood"] == "bernoulli" and 1 <= s["best_epoch"] <= 3
    assert s["weights_epoch"] == (3 if keep == "last" else s["best_epoch"])
    assert f"the weights of epoch {s['weights_epoch']} of 3" in text.err
    bundle = load_checkpoint(out)
    assert bundle["best_epoch"] == s["best_epoch"] and bundle["weights_epoch"] == s["weights_epoch"]
    if keep == "best":
        # the summary describes the weights written, which scored the run's lowest -ELBO
        assert s["neg_elbo"] == pytest.approx(bundle["best_neg_elbo"], abs=1e-6)
        assert "best_model_state" not in bundle
    assert main(["evaluate", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["likelihood"] == "bernoulli"


def test_sample_with_either_sampler_and_a_temperature(ckpts, tmp_path, capsys):
    npy = tmp_path / "s.npy"
    for sampler in ("prior", "posterior"):
        assert main(["sample", str(ckpts[0]), "--out", str(npy), "--n", "6", "--sampler", sampler, "--temperature", "0.7"]) == 0
        assert np.load(npy).shape == (6, 28, 28)
        assert f"({sampler} sampler, temperature 0.7)" in capsys.readouterr().out
    assert main(["sample", str(ckpts[1]), "--out", str(npy), "--n", "4", "--label", "3", "--sampler", "posterior"]) == 0
    # a checkpoint written before samplers were stored: the mixture is fitted from its dataset
    bundle = torch.load(ckpts[0], weights_only=True)
    assert "posterior_sampler" in bundle
    del bundle["posterior_sampler"]
    torch.save(bundle, tmp_path / "old.pt")
    assert main(["sample", str(tmp_path / "old.pt"), "--out", str(npy), "--n", "3"]) == 0


def test_label_rules_for_sample(ckpts, tmp_path, capsys):
    out = str(tmp_path / "x.png")
    assert main(["sample", str(ckpts[1]), "--out", out]) == 2
    assert "given the class label (conditional): give --label" in capsys.readouterr().err
    assert main(["sample", str(ckpts[0]), "--out", out, "--label", "3"]) == 2
    assert "--label only applies to models given the class label" in capsys.readouterr().err
    assert main(["sample", str(ckpts[1]), "--out", out, "--label", "10"]) == 2
    assert main(["sample", str(ckpts[0]), "--out", str(tmp_path / "x.jpg")]) == 2
    assert ".png" in capsys.readouterr().err


def test_corrupt_checkpoint_on_the_command_line(tmp_path, capsys):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"PK\x03\x04 this is not a checkpoint")
    assert main(["evaluate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "corrupt or truncated" in err and "Traceback" not in err


def test_module_entry_point_runs_as_a_process():
    r = subprocess.run([sys.executable, "-m", "vae_studio", "train", "--epochs", "-3"], capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    r = subprocess.run([sys.executable, "-m", "vae_studio", "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "train" in r.stdout


def test_both_fashion_mnist_routes_train_offline(fashion_dir, tmp_path, capsys):
    # one short epoch on a real 70k set, through the folder reader and through torchvision
    for argv in (["--dataset", str(fashion_dir)], ["--dataset", "fashion-mnist", "--data-dir", str(fashion_dir.parents[1])]):
        out = tmp_path / "f.pt"
        assert main(["train", *argv, "--epochs", "1", "--batch-size", "512", "--hidden", "64", "--out", str(out), "--json"]) == 0
        d = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
        assert d["neg_elbo"] < 400
