"""ROC arithmetic against hand-computed cases, the anomaly scores, and compressed lengths."""

import numpy as np
import pytest
import torch

from vae_studio.core.anomaly import (CALIBRATED_PARTS, RECOMMENDED, UNCALIBRATED, Calibration, anomalous, score_images,
                                     score_split)
from vae_studio.core.complexity import COMPRESSORS, compressed_bits, local_code_length, local_prediction, quantised
from vae_studio.core.data import to_float
from vae_studio.core.roc import auroc, average_ranks, rates_at, roc_curve, threshold_at_fpr


def test_auroc_by_hand():
    assert auroc([1, 2, 3, 4], [0, 0, 1, 1]) == 1.0
    assert auroc([4, 3, 2, 1], [0, 0, 1, 1]) == 0.0
    # pairs (anomalous, normal): (0.8 > 0.1), (0.8 > 0.4), (0.35 > 0.1), (0.35 < 0.4): 3 of 4
    assert auroc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) == 0.75
    # a tie between an anomalous and a normal image counts one half: (1 > 0) + (1 = 1) / 2 -> 1.5 / 2
    assert auroc([0, 1, 1], [0, 0, 1]) == 0.75
    assert auroc([5, 5, 5, 5], [0, 1, 0, 1]) == 0.5


def test_average_ranks_share_ties():
    np.testing.assert_array_equal(average_ranks([10, 20, 20, 30]), [1, 2.5, 2.5, 4])


def test_roc_curve_by_hand():
    c = roc_curve([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])
    np.testing.assert_allclose(c.fpr, [0, 0, 0.5, 0.5, 1])
    np.testing.assert_allclose(c.tpr, [0, 0.5, 0.5, 1, 1])
    assert c.thresholds[0] == np.inf and list(c.thresholds[1:]) == [0.8, 0.4, 0.35, 0.1]
    assert np.trapezoid(c.tpr, c.fpr) == pytest.approx(c.auroc) == 0.75


def test_roc_curve_merges_tied_scores():
    c = roc_curve([1, 1, 2], [0, 1, 1])
    np.testing.assert_allclose(c.fpr, [0, 0, 1])
    np.testing.assert_allclose(c.tpr, [0, 0.5, 1])


def test_rates_at_a_threshold():
    r = rates_at([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1], 0.35)
    assert (r.flagged, r.false_positive_rate, r.detection_rate) == (3, 0.5, 1.0)


def test_threshold_from_normal_scores_alone():
    normal = np.arange(100, dtype=float)
    t = threshold_at_fpr(normal, 0.05)
    assert (normal >= t).sum() == 5 and (normal >= np.nextafter(t, -np.inf)).sum() == 6
    assert (normal >= threshold_at_fpr(normal, 0.0)).sum() == 0


def test_roc_needs_both_kinds_and_finite_scores():
    with pytest.raises(ValueError):
        auroc([1, 2], [1, 1])
    with pytest.raises(ValueError):
        auroc([np.nan, 2], [0, 1])


def test_compressors_give_shorter_codes_to_simpler_images():
    blank = np.zeros((1, 28, 28), np.uint8)
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 256, (1, 28, 28), dtype=np.uint8)
    for c in COMPRESSORS:
        assert compressed_bits(blank, c)[0] < compressed_bits(noise, c)[0], c
    assert local_code_length(blank.astype(np.float32))[0] < local_code_length(noise / 255.0)[0]


def test_local_prediction_is_causal_and_exact_on_a_ramp():
    ramp = np.tile(np.linspace(0, 1, 8, dtype=np.float32), (1, 8, 1))
    pred = local_prediction(ramp)
    assert pred.shape == ramp.shape
    inside = pred[:, 1:, 1:]  # away from the zero padding, left + up - upper-left of a ramp is exact
    np.testing.assert_allclose(inside, ramp[:, 1:, 1:] * 0.9 + 0.05, atol=1e-6)
    assert np.array_equal(quantised(np.array([0.0, 0.5, 1.2])), np.array([0, 128, 255], np.uint8))


def test_scores_of_a_split(trained, digits):
    model = trained.model.cpu().eval()
    test = digits.test.subset(torch.arange(60))
    table = score_split(model, test, k=4, compressors=("png",))
    assert table.recommended == UNCALIBRATED and len(table) == 60
    s = table.scores
    np.testing.assert_allclose(s["neg_elbo"], s["recon"] + s["kl"])
    assert (s["kl"] >= 0).all()
    assert s["nll_iwae"].mean() < s["neg_elbo"].mean()  # the IWAE bound is the tighter one
    assert table.csv_columns()[:6] == ["index", "label", "neg_elbo", "recon", "kl", "score"]
    assert "png_corrected" in table.csv_columns() and UNCALIBRATED not in table.csv_columns()
    rows = list(table.rows())
    assert len(rows) == 60 and rows[3][:2] == (3, int(test.labels[3])) and rows[3][5] == pytest.approx(table.score[3])


def test_calibrated_score_is_the_recommended_one(trained, digits):
    model = trained.model.cpu().eval()
    cal = Calibration.fit(model, digits.train, k=2, max_images=200)
    assert cal.n_images == len(digits.train) and set(cal.stats) == set(CALIBRATED_PARTS)
    # one mixture per class of the training labels, all in one density
    assert len(cal.density.weights) >= digits.num_classes and cal.density.weights.sum() == pytest.approx(1.0)
    table = score_split(model, digits.test.subset(torch.arange(40)), k=2, calibration=cal)
    assert table.recommended == RECOMMENDED and set(CALIBRATED_PARTS) <= set(table.scores)
    s = table.scores
    coder = local_code_length(to_float(digits.test.subset(torch.arange(40)).images).numpy())
    np.testing.assert_allclose(s["recon_corrected"], s["recon"] - coder)
    parts = [(s[n] - cal.stats[n][0]) / cal.stats[n][1] for n in CALIBRATED_PARTS]
    np.testing.assert_allclose(table.score, sum(parts))
    typical = score_split(model, digits.test, k=2, calibration=cal)  # the model knows every class
    assert abs(float(np.median(typical.score))) < 1.0  # standardised on training images: centred near 0
    aurocs = typical.aurocs(anomalous(typical.labels, [1]))
    assert set(aurocs) == set(typical.scores) and all(0 <= v <= 1 for v in aurocs.values())


def test_score_images_takes_float_drawings(trained):
    model = trained.model.cpu().eval()
    table = score_images(model, np.zeros((2, 28, 28), np.float32), k=2)
    assert len(table) == 2 and np.isfinite(table.score).all()
