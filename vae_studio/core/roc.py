"""Receiver operating characteristics of an anomaly score, in NumPy alone.

Convention: a higher score is more anomalous, and an image is flagged when its score is at or
above the threshold. ``positive`` marks the images that really are anomalous (a held-out class,
another dataset).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _check(scores, positive) -> tuple[np.ndarray, np.ndarray]:
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    p = np.asarray(positive, dtype=bool).reshape(-1)
    if s.shape != p.shape:
        raise ValueError(f"{len(s)} scores but {len(p)} anomaly flags")
    if not np.isfinite(s).all():
        raise ValueError("scores must be finite numbers")
    if p.all() or not p.any():
        raise ValueError("an ROC needs both anomalous and normal images")
    return s, p


def average_ranks(values) -> np.ndarray:
    """Ranks 1..N of ``values``, tied values sharing the mean of their ranks."""
    v = np.asarray(values, dtype=np.float64).reshape(-1)
    _, inverse, counts = np.unique(v, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    return ((ends - counts + 1 + ends) / 2.0)[inverse]


def auroc(scores, positive) -> float:
    """Area under the ROC curve: the chance that a random anomalous image scores above a random
    normal one, ties counting one half (the Mann-Whitney U statistic, normalised)."""
    s, p = _check(scores, positive)
    n1, n0 = int(p.sum()), int((~p).sum())
    u = average_ranks(s)[p].sum() - n1 * (n1 + 1) / 2.0
    return float(u / (n1 * n0))


@dataclass(frozen=True)
class RocCurve:
    """False-positive and true-positive rates at each distinct threshold, from flagging nothing
    (threshold +inf, the point (0, 0)) to flagging everything (the point (1, 1))."""

    fpr: np.ndarray
    tpr: np.ndarray
    thresholds: np.ndarray  # descending; flagged: score >= threshold
    auroc: float


def roc_curve(scores, positive) -> RocCurve:
    s, p = _check(scores, positive)
    order = np.argsort(-s, kind="mergesort")
    s_sorted, p_sorted = s[order], p[order]
    last_of_tie = np.r_[np.nonzero(np.diff(s_sorted))[0], len(s_sorted) - 1]
    tp = np.cumsum(p_sorted)[last_of_tie]
    fp = (last_of_tie + 1) - tp
    fpr = np.r_[0.0, fp / (~p).sum()]
    tpr = np.r_[0.0, tp / p.sum()]
    return RocCurve(fpr, tpr, np.r_[np.inf, s_sorted[last_of_tie]], auroc(s, p))


@dataclass(frozen=True)
class Rates:
    threshold: float
    flagged: int  # images at or above the threshold
    false_positive_rate: float  # normal images flagged, as a fraction of the normal ones
    detection_rate: float  # anomalous images flagged, as a fraction of the anomalous ones


def rates_at(scores, positive, threshold: float) -> Rates:
    """What a threshold does: how many images it flags, and the two rates."""
    s, p = _check(scores, positive)
    flagged = s >= threshold
    return Rates(float(threshold), int(flagged.sum()), float(flagged[~p].mean()), float(flagged[p].mean()))


def threshold_at_fpr(normal_scores, fpr: float) -> float:
    """The lowest threshold that flags at most a fraction ``fpr`` of ``normal_scores``: how to
    pick a threshold from in-distribution data alone (e.g. fpr = 0.05)."""
    s = np.sort(np.asarray(normal_scores, dtype=np.float64).reshape(-1))
    if len(s) == 0:
        raise ValueError("no normal scores to set a threshold from")
    if not 0 <= fpr <= 1:
        raise ValueError(f"the false-positive rate must be between 0 and 1 (got {fpr})")
    allowed = int(np.floor(fpr * len(s)))  # normal images that may lie at or above it
    if allowed >= len(s):
        return float(s[0])
    # any threshold at or below this score flags allowed + 1 of them
    return float(np.nextafter(s[len(s) - 1 - allowed], np.inf))
