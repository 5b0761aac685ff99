"""The Anomalies view driven through its controls: scores in a worker thread, the held-out class as
the default anomaly, ROC, threshold, gallery clicks, another dataset, and stale scores."""

import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PySide6.QtCore import Qt

from vae_studio.core import ModelConfig, load_dataset
from vae_studio.core.anomaly import RECOMMENDED
from vae_studio.core.anomaly_view import OTHER, ModelSource, held_out_points
from vae_studio.core.roc import auroc
from vae_studio.gui.widgets.anomaly import AnomalyPanel

sys.path.insert(0, str(Path(__file__).resolve().parent))
from window_helpers import final_snapshot, train_to_end  # noqa: E402

WAIT_MS = 60_000
TRAINED = tuple(c for c in range(10) if c != 7)


@pytest.fixture(scope="module")
def data():
    return load_dataset("digits")


@pytest.fixture(scope="module")
def snap(data):
    return final_snapshot(ModelConfig(latent_dim=4, hidden=(64,)), 2, data)


def _source(snap, data, key=("run", 1), trained=TRAINED):
    train = data.train.subset(torch.arange(300))  # the images that calibrate the recommended score
    return ModelSource(key, snap.model_config, snap.state, held_out_points(data.test, snap.probe_index),
                       tuple(data.class_names), trained, snap.step, train)


@pytest.fixture
def panel(qtbot):
    p = AnomalyPanel()
    qtbot.addWidget(p)
    p.resize(1000, 320)
    p.show()
    qtbot.waitExposed(p)
    yield p
    assert p.wait(30.0)


def _scored(panel, key=None):
    s = panel.view.scored
    return s is not None and (key is None or s.key[0] == key) and not panel.job.busy


def test_the_class_left_out_of_training_is_the_default_anomaly(qtbot, panel, snap, data):
    panel.set_source(_source(snap, data))
    assert [c for c, b in panel.class_buttons.items() if b.isChecked()] == [7]
    qtbot.waitUntil(lambda: _scored(panel), timeout=WAIT_MS)
    table = panel.view.scored.held_out
    assert len(table) == len(snap.probe_index) and table.labels.tolist() == list(snap.probe_labels)
    assert table.recommended == RECOMMENDED and "calibrated on 300 training images" in panel.status_label.text()
    assert panel.score_combo.currentData() == table.recommended and panel.score_combo.currentText().startswith("★")
    assert panel.roc.auroc == pytest.approx(auroc(table.score, table.labels == 7))
    assert f"{panel.roc.auroc:.3f}" in panel.roc.plot.getPlotItem().titleLabel.text
    # the threshold starts where 5% of the normal images are flagged
    r = panel.view.rates()
    assert r.false_positive_rate <= 0.05
    assert f"false-positive rate {100 * r.false_positive_rate:.1f}%" in panel.rates_label.text()
    # another score: the same images, another histogram
    panel.score_combo.setCurrentIndex(panel.score_combo.findData("neg_elbo"))
    assert panel.view.score_name == "neg_elbo"
    assert "ELBO" in panel.histogram.plot.getPlotItem().getAxis("bottom").labelText
    assert panel.roc.auroc == pytest.approx(auroc(table.scores["neg_elbo"], table.labels == 7))
    # more classes anomalous, by their buttons
    qtbot.mouseClick(panel.class_buttons[3], Qt.MouseButton.LeftButton)
    assert panel.view.anomalous == {3, 7}
    assert panel.roc.auroc == pytest.approx(auroc(table.scores["neg_elbo"], np.isin(table.labels, [3, 7])))


def test_the_threshold_slider_flags_images_and_the_gallery_takes_them_to_the_map(qtbot, panel, snap, data):
    panel.set_source(_source(snap, data))
    qtbot.waitUntil(lambda: _scored(panel), timeout=WAIT_MS)
    s = panel.threshold_slider
    s.setValue(s.maximum() // 4)
    low = panel.view.rates()
    s.setValue(s.maximum() * 3 // 4)
    high = panel.view.rates()
    assert high.threshold > low.threshold and high.flagged < low.flagged
    assert f"flags {high.flagged:,} of" in panel.rates_label.text()
    assert panel.histogram.line.value() == pytest.approx(high.threshold)
    flagged = [t.pick for t in panel.gallery.thumbs["flagged"] if t.pick is not None]
    assert flagged and all(p.score >= high.threshold for p in flagged)
    least = panel.gallery.thumbs["least"][0]
    scores = panel.view.scored.held_out.score
    assert least.pick.score == pytest.approx(scores.max())
    with qtbot.waitSignal(panel.pointChosen) as got:
        qtbot.mouseClick(least, Qt.MouseButton.LeftButton)
    assert got.args == [int(np.argmax(scores))]


def test_scores_of_a_training_model_wait_for_score_now(qtbot, panel, snap, data):
    panel.set_source(_source(snap, data, key=("run", 1)))
    qtbot.waitUntil(lambda: _scored(panel, ("run", 1)), timeout=WAIT_MS)
    panel.set_source(_source(snap, data, key=("run", 2)), live=True)  # the model moved on while training
    assert not panel.job.busy and panel.view.scored.key[0] == ("run", 1)
    assert panel.rescore_button.isVisible() and "training" in panel.status_label.text()
    qtbot.mouseClick(panel.rescore_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: _scored(panel, ("run", 2)), timeout=WAIT_MS)
    assert not panel.rescore_button.isVisible()
    panel.k_spin.setValue(3)  # what the person changes is scored at once, training or not
    qtbot.waitUntil(lambda: _scored(panel) and panel.view.scored.key[1] == 3, timeout=WAIT_MS)
    panel.set_source(_source(snap, data, key=("run", 3)), live=False)  # standing still: rescored at once
    qtbot.waitUntil(lambda: _scored(panel, ("run", 3)), timeout=WAIT_MS)


def test_another_dataset_is_scored_against_the_model(qtbot, panel, snap, data, fashion_dir):
    panel.set_source(_source(snap, data, trained=None))
    assert not panel.view.anomalous  # trained on every class: nothing held out
    qtbot.waitUntil(lambda: _scored(panel), timeout=WAIT_MS)
    calibration = panel.view.scored.calibration
    panel.add_other_source(str(fashion_dir), "Fashion-MNIST")
    assert panel.mode_combo.currentData() == "other" and panel.other_row.isVisible()
    qtbot.waitUntil(lambda: _scored(panel) and panel.view.scored.other is not None, timeout=WAIT_MS)
    s = panel.view.scored
    assert s.other_name == "Fashion-MNIST" and len(s.other) == 2000
    assert s.calibration is calibration  # the same model and k: calibrated once
    both = np.r_[s.held_out.score, s.other.score]
    assert panel.roc.auroc == pytest.approx(auroc(both, np.r_[np.zeros(len(s.held_out)), np.ones(len(s.other))]))
    # 2,000 Fashion-MNIST images beside 500 digits: some are among the least or the most typical
    other_thumbs = [t for row in panel.gallery.thumbs.values() for t in row if t.pick is not None and t.pick.where == OTHER]
    assert other_thumbs
    with qtbot.waitSignal(panel.imageChosen) as got:
        qtbot.mouseClick(other_thumbs[0], Qt.MouseButton.LeftButton)
    np.testing.assert_allclose(got.args[0], s.other_images[other_thumbs[0].pick.index, 0] / 255.0)  # grey: (H, W)


def test_window_held_out_class_and_gallery_click(qtbot, make_window, fast):
    """Classes typed into the Data box: the class left out is the anomaly, a click selects its point."""
    w = make_window(fast.replace(epochs=1))
    edit = w.controls.fields["classes"].widget
    edit.clear()
    qtbot.keyClicks(edit, "0,1,2,3,4,5,6,8,9")
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert w.controls.settings().classes == TRAINED
    train_to_end(qtbot, w)
    panel = w.apps.anomaly
    w.bottom_tabs.setCurrentWidget(panel)
    qtbot.waitUntil(lambda: _scored(panel), timeout=WAIT_MS)
    assert panel.view.anomalous == {7} and panel.view.trained == TRAINED
    assert panel.view.scored.key[0] == (w.session.current.id, w.session.current.snapshot.step)
    thumb = panel.gallery.thumbs["most"][0]
    qtbot.mouseClick(thumb, Qt.MouseButton.LeftButton)
    assert w.explorer.state.selected == thumb.pick.index
    assert w.explorer.tabs.currentWidget() is w.explorer.decode_tab
