"""The applications' commands: denoise, score, synth."""

import csv
import json

import pytest

from vae_studio.cli import main
from vae_studio.core import load_dataset


@pytest.fixture(scope="module")
def ckpts(tmp_path_factory):
    d = tmp_path_factory.mktemp("apps")
    vanilla, cond = d / "v.pt", d / "c.pt"
    assert main(["train", "--epochs", "1", "--hidden", "64", "--latent-dim", "3", "--classes", "0,1,2,3,4,5,6,8,9",
                 "--out", str(vanilla)]) == 0
    assert main(["train", "--variant", "conditional", "--epochs", "1", "--hidden", "64", "--latent-dim", "3",
                 "--classes", "1,4", "--out", str(cond)]) == 0
    return vanilla, cond


def exit_status(argv) -> int:
    """main's status, whether argparse exits (a bad option) or main returns."""
    try:
        return main(argv)
    except SystemExit as e:
        return e.code


def last_json(capsys) -> dict:
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


@pytest.mark.parametrize("noise,level", [("gaussian", 0.5), ("saltpepper", 0.2), ("occlusion", 0.4)])
def test_denoise_json_and_grid(ckpts, tmp_path, capsys, noise, level):
    grid = tmp_path / "grid.png"
    assert main(["denoise", str(ckpts[0]), "--noise", noise, "--level", str(level), "--n", "12", "--seed", "3",
                 "--out", str(grid), "--json"]) == 0
    d = last_json(capsys)
    for key in ("psnr_noisy", "psnr_denoised", "psnr_median"):
        assert isinstance(d[key], float) and 0 < d[key] < 100
    assert d["n"] == 12 and d["noise"] == noise and d["method"] == "fit"
    assert grid.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_denoise_text_and_encoder_method(ckpts, capsys):
    assert main(["denoise", str(ckpts[1]), "--noise", "occlusion", "--level", "0.3", "--n", "4",
                 "--method", "encoder", "--iterations", "2"]) == 0
    out = capsys.readouterr().out
    assert "PSNR VAE" in out and "median" in out and "encoder" in out


@pytest.mark.parametrize("argv,needle", [
    (["--noise", "gaussian"], "--level"),
    (["--noise", "blur", "--level", "0.1"], "invalid choice"),
    (["--noise", "saltpepper", "--level", "1.5"], "between 0 and 1"),
    (["--noise", "gaussian", "--level", "0.5", "--out", "x.jpg"], ".png"),
    (["--noise", "gaussian", "--level", "0.5", "--n", "0"], "--n must be >= 1"),
])
def test_denoise_refuses_bad_arguments(ckpts, capsys, argv, needle):
    assert exit_status(["denoise", str(ckpts[0]), *argv]) == 2
    err = capsys.readouterr().err
    assert needle in err and len(err.strip().splitlines()) == 1


def test_score_writes_the_csv_and_aurocs(ckpts, tmp_path, capsys):
    out = tmp_path / "scores.csv"
    assert main(["score", str(ckpts[0]), "--iwae-samples", "2", "--anomalous-classes", "7", "--compressors", "png,zlib",
                 "--out", str(out), "--json"]) == 0
    d = last_json(capsys)
    rows = list(csv.reader(out.open()))
    assert rows[0][:6] == ["index", "label", "neg_elbo", "recon", "kl", "score"]
    assert {"nll_iwae", "local_corrected", "recon_corrected", "latent_density", "png_corrected", "zlib_corrected"} <= set(rows[0])
    assert len(rows) == 1 + len(load_dataset("digits").test) == 1 + d["n_images"]
    assert d["score"] == "atypicality" and d["calibrated_on"] > 0 and d["anomalous_classes"] == [7]
    assert set(d["auroc"]) == {"neg_elbo", "recon", "kl", "nll_iwae", "local_corrected", "recon_corrected",
                               "latent_density", "atypicality", "png_corrected", "zlib_corrected"}
    assert all(0 <= v <= 1 for v in d["auroc"].values())
    assert float(rows[1][5]) == pytest.approx(float(rows[1][rows[0].index("score")]))


def test_score_another_dataset(ckpts, tmp_path, capsys, fashion_dir):
    out = tmp_path / "f.csv"
    assert main(["score", str(ckpts[0]), "--dataset", str(fashion_dir), "--iwae-samples", "1", "--out", str(out)]) == 0
    assert "atypicality" in capsys.readouterr().out


@pytest.mark.parametrize("argv,needle", [
    (["--anomalous-classes", "42"], "marks no image"),
    (["--anomalous-classes", "x"], "--anomalous-classes takes labels"),
    (["--compressors", "gif"], "--compressors takes names"),
    (["--iwae-samples", "0"], "--iwae-samples must be >= 1"),
])
def test_score_refuses_bad_arguments(ckpts, tmp_path, capsys, argv, needle):
    assert exit_status(["score", str(ckpts[0]), "--out", str(tmp_path / "s.csv"), *argv]) == 2
    err = capsys.readouterr().err
    assert needle in err and len(err.strip().splitlines()) == 1


def test_score_needs_out(ckpts, capsys):
    assert exit_status(["score", str(ckpts[0])]) == 2
    assert "--out" in capsys.readouterr().err


def test_synth_writes_a_folder_load_dataset_reads(ckpts, tmp_path, capsys):
    folder = tmp_path / "syn"
    assert main(["synth", str(ckpts[1]), "--per-class", "20", "--out", str(folder), "--json"]) == 0
    d = last_json(capsys)
    assert d["classes"] == [1, 4] and d["n_train"] == 40 and d["n_test"] == 4
    ds = load_dataset(str(folder))
    assert len(ds.train) == 40 and sorted(set(ds.train.labels.tolist())) == [1, 4]
    assert ds.class_names[4] == "4"  # the checkpoint's class names, from classes.txt
    assert main(["evaluate", str(ckpts[1]), "--dataset", str(folder)]) == 0


def test_synth_refuses_a_model_that_is_not_conditional(ckpts, tmp_path, capsys):
    folder = tmp_path / "never"
    assert main(["synth", str(ckpts[0]), "--per-class", "5", "--out", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "conditional" in err and len(err.strip().splitlines()) == 1
    assert not folder.exists()


def test_train_refuses_an_unknown_class(tmp_path, capsys):
    assert main(["train", "--classes", "3,11", "--epochs", "1", "--out", str(tmp_path / "x.pt")]) == 2
    assert "class 11 is not in digits" in capsys.readouterr().err
    assert exit_status(["train", "--classes", "3,-1", "--out", str(tmp_path / "x.pt")]) == 2
