"""The anomaly view's figures without Qt: who counts as anomalous, ROC, threshold, histogram, gallery."""

import numpy as np
import pytest
import torch

from vae_studio.core import ModelConfig, TrainConfig, Trainer
from vae_studio.core.anomaly import RECOMMENDED, UNCALIBRATED, ScoreTable
from vae_studio.core.anomaly_view import (
    HELD_OUT, OTHER, AnomalyView, ScoredSets, held_out_points, score_sets,
)
from vae_studio.core.data import Split
from vae_studio.core.roc import auroc


def _table(scores, labels):
    s = np.asarray(scores, dtype=np.float64)
    return ScoreTable({"neg_elbo": s * 2, RECOMMENDED: s}, np.asarray(labels), 1, "bernoulli")


def _scored(held_scores, held_labels, other_scores=None):
    n = len(held_scores)
    other = None if other_scores is None else _table(other_scores, np.zeros(len(other_scores), int))
    return ScoredSets(("model", 1, "x" if other else None), _table(held_scores, held_labels),
                      np.zeros((n, 28, 28), np.uint8), other,
                      None if other is None else np.full((len(other_scores), 28, 28), 255, np.uint8), "Other")


def test_classes_mode_sets_the_chosen_classes_against_the_rest():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(10), 20)
    scores = rng.normal(size=200) + 3.0 * (labels == 7)
    v = AnomalyView()
    v.scored = _scored(scores, labels)
    assert not v.can_roc() and v.roc() is None  # nothing anomalous chosen yet
    v.trained = tuple(c for c in range(10) if c != 7)
    v.anomalous = v.default_anomalous(range(10))
    assert v.anomalous == {7}
    roc = v.roc()
    assert roc.auroc == pytest.approx(auroc(scores, labels == 7))
    v.threshold = v.default_threshold()
    r = v.rates()
    assert r.false_positive_rate <= 0.05 and r.detection_rate > 0.5
    assert r.flagged == int((scores >= v.threshold).sum())


def test_other_mode_sets_another_dataset_against_the_classes_the_model_knows():
    labels = np.array([0, 0, 1, 1, 2, 2])
    held = np.array([1.0, 2.0, 1.5, 2.5, 9.0, 9.5])  # class 2 was not trained on: it is no normal image
    v = AnomalyView()
    v.scored = _scored(held, labels, other_scores=[5.0, 6.0, 7.0])
    v.trained = (0, 1)
    v.mode = "other"
    scores, positive, parts = v.population()
    assert list(scores) == [1.0, 2.0, 1.5, 2.5, 5.0, 6.0, 7.0]
    assert positive.tolist() == [False] * 4 + [True] * 3
    assert [name for name, _ in parts] == [HELD_OUT, OTHER]
    assert v.roc().auroc == 1.0
    g = v.gallery(2)
    assert [(p.where, p.score) for p in g["least"]] == [(OTHER, 7.0), (OTHER, 6.0)]
    assert [(p.where, p.index) for p in g["most"]] == [(HELD_OUT, 0), (HELD_OUT, 2)]
    assert v.image(g["least"][0]).max() == 1.0  # the other set's image, as floats


def test_histogram_shares_and_the_flagged_row_follow_the_threshold():
    labels = np.repeat(np.arange(3), 10)
    scores = np.arange(30, dtype=float)
    v = AnomalyView()
    v.scored = _scored(scores, labels)
    v.anomalous = frozenset({2})
    edges, groups = v.histogram(by_class=False)
    assert [name for name, _, _ in groups] == ["normal", "anomalous"]
    assert all(share.sum() == pytest.approx(1.0) for _, _, share in groups)
    _, groups = v.histogram(by_class=True)
    assert [c for _, c, _ in groups] == [0, 1, 2]
    v.threshold = 25.0
    flagged = v.gallery(3)["flagged"]
    assert [p.score for p in flagged] == [25.0, 26.0, 27.0]  # the flagged ones nearest the threshold
    assert v.rates().flagged == 5


def test_score_sets_scores_the_map_points_in_their_order(digits):
    trainer = Trainer(ModelConfig(latent_dim=2, hidden=(32,)), TrainConfig(epochs=1, device="cpu", seed=0), digits)
    trainer.train()
    probe = np.array([5, 3, 40, 2])
    held = held_out_points(digits.test, probe)
    assert torch.equal(held.images[1], digits.test.images[3])
    state = {k: v.detach().clone() for k, v in trainer.model.state_dict().items()}
    s = score_sets(("run", 1), trainer.model_cfg, state, held, 2)
    assert s.key == ("run", 1) and len(s.held_out) == 4 and s.other is None
    assert s.held_out.labels.tolist() == digits.test.labels[probe].tolist()
    assert s.calibration is None and s.held_out.recommended == UNCALIBRATED  # no training images given
    train = digits.train.subset(torch.arange(300))
    small = Split(digits.test.images[:3], digits.test.labels[:3])
    s2 = score_sets(("run", 1), trainer.model_cfg, state, small, 1, other_source="digits", other_name="Digits",
                    train=train)
    assert s2.calibration.n_images == 300 and s2.held_out.recommended == RECOMMENDED
    assert RECOMMENDED in s2.other.scores and "png_corrected" in s2.held_out.scores
    assert len(s2.other) == len(digits.test) and s2.other_images.shape == (len(digits.test), 1, 28, 28)
    # a calibration passed in is used as it is, not fitted again
    s3 = score_sets(("run", 1), trainer.model_cfg, state, small, 1, calibration=s2.calibration)
    assert s3.calibration is s2.calibration
    np.testing.assert_allclose(s3.held_out.score, s2.held_out.score)
