"""File > Export synthetic digits: the IDX folder of `vae-studio synth`, from the window, off the GUI thread."""

import sys
from pathlib import Path

import numpy as np

from vae_studio.core import load_dataset

sys.path.insert(0, str(Path(__file__).resolve().parent))
from window_helpers import train_to_end  # noqa: E402

WAIT_MS = 60_000


def test_a_model_that_is_not_conditional_is_refused_with_a_sentence(qtbot, make_window, fast, monkeypatch, tmp_path):
    w = make_window(fast.replace(epochs=1))
    asked = []
    monkeypatch.setattr("vae_studio.gui.synth_export.QInputDialog.getInt", lambda *a, **k: asked.append(a) or (5, True))
    w.apps.synth.action.trigger()
    assert "no model" in w.banner.text()  # nothing trained yet
    train_to_end(qtbot, w)
    w.apps.synth.action.trigger()
    assert "need a conditional model" in w.banner.text() and "Vanilla" in w.banner.text()
    assert not asked and not w.apps.synth.job.busy
    assert w.apps.synth.action in w.file_menu.menu.actions()


def test_a_conditional_model_writes_a_folder_the_app_reads_back(qtbot, make_window, fast, monkeypatch, tmp_path):
    w = make_window(fast.replace(epochs=1, variant="conditional", classes=(1, 2, 3)))
    train_to_end(qtbot, w)
    out = tmp_path / "synthetic"
    monkeypatch.setattr("vae_studio.gui.synth_export.QInputDialog.getInt", lambda *a, **k: (20, True))
    monkeypatch.setattr("vae_studio.gui.synth_export.QFileDialog.getExistingDirectory", lambda *a, **k: str(out))
    w.apps.synth.action.trigger()  # the menu entry, its two questions answered
    assert w.apps.synth.job.busy
    qtbot.waitUntil(lambda: not w.apps.synth.job.busy, timeout=WAIT_MS)
    assert "Wrote 60 synthetic digits" in w.statusBar().currentMessage()
    d = load_dataset(str(out))
    labels, counts = np.unique(d.train.labels.numpy(), return_counts=True)
    assert labels.tolist() == [1, 2, 3] and counts.tolist() == [20, 20, 20]  # only the classes it learnt
    assert len(d.test) == 3 * 2 and d.train.images.shape[1:] == (1, 28, 28)
    assert (out / "classes.txt").read_text().split() == list(load_dataset("digits").class_names)
