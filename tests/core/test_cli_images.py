"""`vae-studio train --dataset FOLDER` end to end on generated colour pictures, then evaluate and sample;
flat, damaged and empty folders; a grey checkpoint written before colour existed."""

import json
from pathlib import Path

import numpy as np
import pytest
from image_folders import make_image_folder  # noqa: E402 - tests/ is on the path

from vae_studio.cli import main
from vae_studio.core import load_checkpoint
from vae_studio.core.settings import RunSettings

OLD_GREY = Path(__file__).resolve().parents[1] / "data" / "grey-28-before-colour.pt"  # written by the version before


@pytest.fixture(scope="module")
def colour_folder(tmp_path_factory):
    return make_image_folder(tmp_path_factory.mktemp("cli-colour") / "shapes", per_class=70)


@pytest.fixture(scope="module")
def colour_run(colour_folder, tmp_path_factory):
    out = tmp_path_factory.mktemp("cli-run") / "colour.pt"
    rc = main(["train", "--dataset", str(colour_folder), "--epochs", "2", "--hidden", "64", "--latent-dim", "4",
               "--device", "cpu", "--out", str(out)])
    assert rc == 0
    return out


def test_train_on_a_colour_folder_stores_its_shape_and_classes(colour_run, colour_folder, capsys):
    bundle = load_checkpoint(colour_run)
    assert bundle["model_config"].image_shape == (3, 32, 32)
    assert bundle["class_names"] == ["disc", "square", "triangle"] and bundle["dataset"] == str(colour_folder.resolve())
    settings = RunSettings.from_configs(bundle["model_config"], bundle["train_config"], bundle["dataset"])
    assert (settings.image_size, settings.channels) == ("32", "3")


def test_evaluate_and_sample_a_colour_run(colour_run, tmp_path, capsys):
    assert main(["evaluate", str(colour_run), "--json"]) == 0
    d = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert d["n_images"] == 21 and len(d["kl_per_dim"]) == 4 and np.isfinite(d["neg_elbo"])
    npy, png = tmp_path / "s.npy", tmp_path / "s.png"
    assert main(["sample", str(colour_run), "--out", str(npy), "--n", "6"]) == 0
    a = np.load(npy)
    assert a.shape == (6, 3, 32, 32) and 0 <= a.min() and a.max() <= 1
    assert main(["sample", str(colour_run), "--out", str(png), "--n", "4"]) == 0
    from PIL import Image

    with Image.open(png) as im:
        assert im.mode == "RGB" and im.size == (2 + 2 * 34, 2 + 2 * 34)


def test_size_and_colour_options_shape_the_model(colour_folder, tmp_path, capsys):
    out = tmp_path / "grey64.pt"
    assert main(["train", "--dataset", str(colour_folder), "--image-size", "64", "--channels", "1", "--arch", "conv",
                 "--epochs", "1", "--hidden", "16", "--latent-dim", "2", "--device", "cpu", "--out", str(out)]) == 0
    assert "64×64 grey" in capsys.readouterr().out
    assert load_checkpoint(out)["model_config"].image_shape == (1, 64, 64)
    # evaluated the way it was trained, whatever the folder's own pictures are
    assert main(["evaluate", str(out), "--json"]) == 0
    with pytest.raises(SystemExit) as exited:
        main(["train", "--image-size", "48"])
    assert exited.value.code == 2 and "invalid choice: '48'" in capsys.readouterr().err


def test_loading_reports_progress_and_skipped_files(tmp_path, capsys):
    folder = make_image_folder(tmp_path / "odd", per_class=20)
    (folder / "disc" / "broken.png").write_bytes(b"not a png")
    assert main(["train", "--dataset", str(folder), "--epochs", "1", "--hidden", "8", "--latent-dim", "2",
                 "--device", "cpu", "--out", str(tmp_path / "r.pt")]) == 0
    err = capsys.readouterr().err
    assert f"reading 61 images from {folder}" in err and "read 61 images in" in err
    assert "vae-studio: note: skipped 1 of 61 files: disc/broken.png (not a readable image)" in err


def test_a_flat_folder_trains_unlabelled_and_refuses_the_conditional_variant(tmp_path, capsys):
    folder = make_image_folder(tmp_path / "flat", per_class=15, flat=True)
    out = tmp_path / "flat.pt"
    assert main(["train", "--dataset", str(folder), "--variant", "conditional", "--epochs", "1", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("vae-studio: error: the conditional variant needs class labels") and not out.exists()
    assert main(["train", "--dataset", str(folder), "--epochs", "1", "--hidden", "8", "--latent-dim", "2",
                 "--device", "cpu", "--out", str(out)]) == 0
    assert "32×32 colour, unlabelled" in capsys.readouterr().out
    assert load_checkpoint(out)["class_names"] == []


def test_an_empty_folder_is_one_line_and_exit_2(tmp_path, capsys):
    (tmp_path / "nothing").mkdir()
    assert main(["train", "--dataset", str(tmp_path / "nothing"), "--epochs", "1", "--out", str(tmp_path / "x.pt")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "holds no images" in err[0]


def test_a_grey_checkpoint_from_before_colour_still_opens_evaluates_and_samples(tmp_path, capsys):
    bundle = load_checkpoint(OLD_GREY)
    assert bundle["model_config"].image_shape == (1, 28, 28)
    settings = RunSettings.from_configs(bundle["model_config"], bundle["train_config"], bundle["dataset"])
    assert (settings.image_size, settings.channels, settings.dataset) == ("28", "1", "digits")
    assert main(["evaluate", str(OLD_GREY), "--json"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["n_images"] == 500
    assert main(["sample", str(OLD_GREY), "--out", str(tmp_path / "s.npy"), "--n", "3"]) == 0
    assert np.load(tmp_path / "s.npy").shape == (3, 28, 28)
