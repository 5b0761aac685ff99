"""File > Export: figures at a chosen scale and as SVG, GIFs of traversals and interpolations, TensorBoard from the window."""

import os
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageSequence

from window_helpers import train_to_end  # tests/gui is on the path

FIGURES = ("loss", "map", "kl", "picture")
KEEP = os.environ.get("VAE_STUDIO_KEEP_EXPORTS")  # a folder: keep the files to look at them


@pytest.fixture
def trained_window(qtbot, make_window, fast):
    w = make_window(fast.replace(epochs=2, latent_dim=3))
    w.resize(1280, 800)
    train_to_end(qtbot, w)
    return w


def _out(tmp_path: Path, name: str) -> Path:
    return Path(KEEP) / name if KEEP else tmp_path / name


def _gif_frames(path: Path) -> list[np.ndarray]:
    with Image.open(path) as im:
        return [np.asarray(f.convert("RGB")) for f in ImageSequence.Iterator(im)]


def test_figures_export_at_the_chosen_scale_and_as_svg(trained_window, tmp_path):
    w = trained_window
    exports = w.file_menu.exports
    assert exports.menu.title() == "&Export" and exports.menu.menuAction() in w.menuBar().actions()[0].menu().actions()
    assert [a.text() for a in exports.menu.actions() if a.text()][:6] == [
        "&Loss plot…", "Latent &map…", "&KL per dimension…", "&Generated picture…",
        "&Traversal animation (GIF)…", "&Interpolation animation (GIF)…"]
    assert [a.text() for a in exports.scale_actions.values()] == ["1×", "2×", "4×", "8×"]
    items = {"loss": w.loss_plot.graphics.ci, "map": w.explorer.map.plot.getPlotItem(), "kl": w.diagnostics.plot}
    for scale in (1, 2):
        exports.set_scale(scale)
        for what in FIGURES:
            png = _out(tmp_path, f"{what}-{scale}x.png")
            assert w.export_plot(str(png), what), w.banner.text()
            with Image.open(png) as im:
                size = im.size
            if what in items:  # the plot's own size on screen, times the scale
                rect = items[what].boundingRect()
                assert size[0] == int(round(int(rect.width()) * scale))
                assert abs(size[1] - rect.height() * scale) <= scale + 1
    for what in FIGURES:
        svg = _out(tmp_path, f"{what}.svg")
        assert w.export_plot(str(svg), what)
        root = ET.parse(svg).getroot()
        assert root.tag.endswith("svg")
        text = " ".join(t.text or "" for t in root.iter() if t.tag.endswith("text"))
        title = {"loss": "Loss per image", "map": "Latent space", "kl": "KL per latent", "picture": "Samples from"}[what]
        assert title in text  # the figure's title is in the drawing, as text
    # the live plots are as they were: no title left behind, the buttons back
    assert not w.loss_plot.plot.titleLabel.isVisible() and not w.explorer.map.plot.getPlotItem().titleLabel.isVisible()
    assert not w.loss_plot.plot.buttonsHidden


def test_a_grid_figure_has_its_names_and_scales_pixel_for_pixel(trained_window, tmp_path):
    g = trained_window.explorer.generation
    g.show_page(g.traversal)
    g.traversal.refresh()
    a, b = _out(tmp_path, "traversal-1x.png"), _out(tmp_path, "traversal-2x.png")
    g.traversal.export(a, scale=1)
    g.traversal.export(b, scale=2)
    with Image.open(a) as one, Image.open(b) as two:
        assert two.size[0] == 2 * one.size[0] and abs(two.size[1] - 2 * one.size[1]) <= 2
    svg = _out(tmp_path, "traversal.svg")
    g.traversal.export(svg)
    text = " ".join(t.text or "" for t in ET.parse(svg).getroot().iter() if t.tag.endswith("text"))
    assert "latent dimension" in text and "value of the dimension" in text and "+3.0" in text and "z1" in text


def test_traversal_and_interpolation_gifs_from_the_window(trained_window, tmp_path):
    w = trained_window
    g = w.explorer.generation
    g.show_page(g.traversal)
    g.traversal.steps.setValue(5)
    w.file_menu.exports.set_scale(2)
    gif = _out(tmp_path, "traversal.gif")
    assert w.export_plot(str(gif), "traversal_gif"), w.banner.text()
    frames = _gif_frames(gif)
    dims = len(g.traversal.names[0])
    assert len(frames) == 2 * 5 - 2
    per_row, rows = min(dims, 5), -(-dims // 5)
    assert frames[0].shape[:2] == (2 * (2 + rows * 30), 2 * (2 + per_row * 30))  # 28 px images, 2 px apart, at 2x
    assert not np.array_equal(frames[0], frames[4])

    g.show_page(g.interpolation)
    g.interpolation.set_endpoints(np.array([-2.0, 0.0, 0.0]), np.array([2.0, 1.0, 0.0]))
    gif = _out(tmp_path, "interpolation.gif")
    assert w.export_plot(str(gif), "interpolation_gif"), w.banner.text()
    frames = _gif_frames(gif)
    n = w.explorer.state.path_steps
    assert len(frames) == 2 * n - 2 and frames[0].shape[:2] == (2 * 32, 2 * 62)
    assert not np.array_equal(frames[0], frames[n - 1])
    g.show_page(g.prior)
    assert not w.export_plot(str(tmp_path / "samples.gif"), "picture")  # the samples are no animation
    assert "export to one of" in w.banner.text()


def test_the_control_panel_offers_tensorboard_from_the_schema(make_window, fast, tmp_path):
    w = make_window(fast)
    c = w.controls
    assert c.logdir_on.text() == "Log to TensorBoard" and not c.logdir.isEnabled()
    c.logdir_on.setChecked(True)
    assert c.logdir.isEnabled() and c.settings().logdir == "~/vae-studio-runs"  # nothing typed: the placeholder
    c.logdir.setText(str(tmp_path / "tb"))
    assert c.settings().logdir == str(tmp_path / "tb")
    c.set_settings(fast)
    assert c.settings().logdir is None and not c.logdir_on.isChecked()


def test_a_run_in_the_window_writes_tensorboard_events_from_its_training_process(qtbot, make_window, fast, tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    w = make_window(fast.replace(epochs=2, logdir=str(tmp_path / "tb")))
    train_to_end(qtbot, w)
    (run_dir,) = (tmp_path / "tb").iterdir()
    acc = EventAccumulator(str(run_dir))
    acc.Reload()
    history = w.session.current.history
    val = acc.Scalars("heldout/neg_elbo")
    assert [e.step for e in val] == history.array("val_step").astype(int).tolist()
    np.testing.assert_allclose([e.value for e in val], history.array("val_neg_elbo"), rtol=1e-6)
    assert [e.step for e in acc.Scalars("train/neg_elbo")] == history.array("step").astype(int).tolist()
    assert len(acc.Images("prior_samples")) == 2
    assert (run_dir / "projector_config.pbtxt").exists()


def test_without_tensorboard_train_says_how_to_install_it(qtbot, make_window, fast, tmp_path, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "tensorboard" else real(name, *a))
    w = make_window(fast.replace(logdir=str(tmp_path / "tb")))
    with qtbot.waitSignal(w.session.error, timeout=2000):
        w.controls.train_button.click()
    assert "pip install tensorboard" in w.banner.text()
    assert not w.session.busy and not (tmp_path / "tb").exists()
