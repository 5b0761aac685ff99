"""Traversal and interpolation GIFs: frames counted, measured and compared; the CLI commands that write them."""

import numpy as np
import pytest
from PIL import Image, ImageSequence

from vae_studio.cli import main
from vae_studio.core import load_checkpoint
from vae_studio.core.animation import (
    boomerang, default_dims, save_animation, traversal, traversal_frames, traversal_picture,
)


def _frames(path) -> list[np.ndarray]:
    with Image.open(path) as im:
        assert im.format == "GIF" and im.info.get("loop") == 0  # loops forever
        return [np.asarray(f.convert("L")) for f in ImageSequence.Iterator(im)]


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory):
    path = tmp_path_factory.mktemp("anim") / "run.pt"
    assert main(["train", "--epochs", "2", "--hidden", "64", "--latent-dim", "4", "--device", "cpu", "--out", str(path)]) == 0
    return path


def test_traversal_frames_have_one_image_per_dimension_and_change(trained, tmp_path):
    model = trained.model.cpu().eval()
    images = traversal(model, np.zeros(8), [0, 3, 5], steps=7, span=3.0)
    assert images.shape == (3, 7, 28, 28)
    frames = traversal_frames(images)
    assert len(frames) == 7 and frames[0].shape == (2 + 30, 2 + 3 * 30)  # one row of three, 2 px apart
    assert traversal_picture(images).shape == (2 + 3 * 30, 2 + 7 * 30)
    out = save_animation(boomerang(frames), tmp_path / "t.gif", scale=3)
    read = _frames(out)
    assert len(read) == 2 * 7 - 2  # there and back, neither end twice
    assert all(f.shape == (3 * 32, 3 * 92) for f in read)
    assert all(not np.array_equal(a, b) for a, b in zip(read, read[1:]))
    np.testing.assert_array_equal(read[1], read[-1])  # the way back passes the same pictures


def test_default_dims_follow_the_kl():
    assert default_dims(3) == [0, 1, 2]
    assert default_dims(4, [0.01, 2.0, 0.0, 5.0]) == [3, 1]
    assert default_dims(20, [1.0] * 20) == list(range(10))
    assert default_dims(2, [0.0, 0.01]) == [1, 0]  # none in use: all, still by KL


def test_cli_traverse_writes_a_gif_and_a_png(ckpt, tmp_path, capsys):
    gif, png = tmp_path / "t.gif", tmp_path / "t.png"
    assert main(["traverse", str(ckpt), "--out", str(gif), "--dims", "0,2", "--steps", "5", "--scale", "2"]) == 0
    frames = _frames(gif)
    assert len(frames) == 8 and frames[0].shape == (2 * 32, 2 * 62)
    assert not np.array_equal(frames[0], frames[4])
    assert "8 frames" in capsys.readouterr().out
    assert main(["traverse", str(ckpt), "--out", str(png), "--steps", "6", "--scale", "1", "--image", "3"]) == 0
    with Image.open(png) as im:
        # every dimension the run uses, one row each, six values a row
        rows = len(default_dims(4, load_checkpoint(ckpt)["kl_per_dim"]))
        assert im.size == (2 + 6 * 30, 2 + rows * 30)


def test_cli_interpolate_between_two_held_out_images(ckpt, tmp_path):
    gif = tmp_path / "i.gif"
    assert main(["interpolate", str(ckpt), "--from", "0", "--to", "7", "--out", str(gif), "--steps", "6", "--slerp",
                 "--scale", "4"]) == 0
    frames = _frames(gif)
    assert len(frames) == 10 and frames[0].shape == (4 * 28, 4 * 28)
    assert len({f.tobytes() for f in frames}) == 6  # six points on the path, each shown there and back
    png = tmp_path / "i.png"
    assert main(["interpolate", str(ckpt), "--from", "0", "--to", "7", "--out", str(png), "--scale", "1"]) == 0
    with Image.open(png) as im:
        assert im.size == (2 + 10 * 30, 32)


@pytest.mark.parametrize("argv,needle", [
    (["traverse", "{ckpt}", "--out", "{tmp}/t.jpg"], "--out must end in .gif"),
    (["traverse", "{ckpt}", "--out", "{tmp}/t.gif", "--dims", "9"], "--dims must be between 0 and 3"),
    (["traverse", "{ckpt}", "--out", "{tmp}/t.gif", "--dims", "a"], "--dims takes dimension numbers"),
    (["traverse", "{ckpt}", "--out", "{tmp}/t.gif", "--steps", "1"], "--steps must be >= 2"),
    (["traverse", "{ckpt}", "--out", "{tmp}/t.gif", "--label", "3"], "--label only applies to models given the class label"),
    (["interpolate", "{ckpt}", "--from", "0", "--to", "500", "--out", "{tmp}/i.gif"], "--to must be between 0 and 499"),
    (["interpolate", "{ckpt}", "--to", "5", "--out", "{tmp}/i.gif"], "--from"),
    (["traverse", "{tmp}/missing.pt", "--out", "{tmp}/t.gif"], "no checkpoint"),
])
def test_bad_arguments_are_one_line_and_exit_2(ckpt, tmp_path, capsys, argv, needle):
    argv = [a.format(ckpt=ckpt, tmp=tmp_path) for a in argv]
    with pytest.raises(SystemExit) as e:  # argparse's own refusals exit; the others return the status
        raise SystemExit(main(argv))
    assert e.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0]
    assert not list(tmp_path.glob("*.gif"))
