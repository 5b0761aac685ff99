"""What the window's anomaly view shows, with no Qt: which images count as normal and which as
anomalous, the chosen score's histogram, ROC and threshold, and the gallery's picks.

Two sets are scored by one model (:func:`score_sets`, the slow part, run off the GUI thread):
the held-out points of the latent map, in the map's order, and optionally another dataset; the
recommended score is calibrated on the model's own training images, as ``vae-studio score`` does. The
anomalies are either some classes of the held-out points (by default those the model was not
trained on) or the other dataset, whose images are then set against the held-out images of the
classes the model knows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .anomaly import RECOMMENDED, SCORE_LABELS, Calibration, ScoreTable, score_split
from .data import Split, binarized, load_for_model
from .messages import probe_index
from .models import build_model
from .roc import Rates, RocCurve, rates_at, roc_curve, threshold_at_fpr

MAX_OTHER_IMAGES = 2000  # images of another dataset scored against the model
COMPRESSORS = ("png",)  # Serrà et al.'s score with a real compressor, shown beside the recommended one
DEFAULT_FPR = 0.05  # the threshold first shown flags this share of the normal images
HELD_OUT, OTHER = "held_out", "other"
MODES = ("classes", "other")


@dataclass(frozen=True)
class ModelSource:
    """A model to score with and the held-out images behind its map."""

    key: tuple  # changes whenever the weights do, e.g. (run id, step)
    config: object  # ModelConfig
    state: dict  # CPU tensors nobody writes to
    held_out: Split  # the map's held-out points, in the map's order
    class_names: tuple[str, ...]
    trained: tuple[int, ...] | None = None  # the classes it learnt; None: all
    step: int = 0
    train: Split | None = None  # its training images (of the classes it learnt), to calibrate the score
    binarize: bool = False  # trained on 0/1 pixels: scored on one fixed 0/1 draw, as it was validated


@dataclass(frozen=True)
class ScoredSets:
    """Every score of the held-out points and of another dataset's images, under one model."""

    key: tuple  # what was scored: (model key, k, other source)
    held_out: ScoreTable
    held_out_images: np.ndarray  # uint8 (N, H, W), in the map's order
    other: ScoreTable | None = None
    other_images: np.ndarray | None = None
    other_name: str = ""
    seconds: float = 0.0
    calibration: Calibration | None = None  # None: no training images, the score is uncalibrated


def score_sets(key: tuple, model_config, state: dict, held_out: Split, k: int, other_source: str | None = None,
               other_name: str = "", seed: int = 0, train: Split | None = None, binarize: bool = False,
               calibration: Calibration | None = None) -> ScoredSets:
    """Score ``held_out`` (the map's points) and, when named, another dataset's held-out split
    (at most :data:`MAX_OTHER_IMAGES` of it) with a model built from ``state``: a private copy,
    so this may run in any thread. The recommended score is calibrated on ``train`` (unless a
    ``calibration`` of the same model and k is passed in)."""
    import time

    start = time.perf_counter()
    model = build_model(model_config)
    model.load_state_dict(state)
    model.eval().requires_grad_(False)
    as_scored = (lambda s: binarized(s, seed)) if binarize else (lambda s: s)
    if calibration is None and train is not None and len(train):
        calibration = Calibration.fit(model, as_scored(train), k, seed)
    held_out = as_scored(held_out)
    table = score_split(model, held_out, k, seed, calibration=calibration, compressors=COMPRESSORS)
    other = other_images = None
    if other_source:
        test = load_for_model(other_source, model_config.image_shape).test  # resized / recoloured as the model reads
        test = as_scored(test.subset(probe_index(len(test), MAX_OTHER_IMAGES)))
        if model_config.conditional:  # a conditional model scores an image given a class it knows
            test = Split(test.images, test.labels.clamp(0, model_config.num_classes - 1))
        other = score_split(model, test, k, seed, calibration=calibration, compressors=COMPRESSORS)
        other_images = test.images.numpy()
    return ScoredSets(key, table, held_out.images.numpy(), other, other_images, other_name,
                      time.perf_counter() - start, calibration)


@dataclass(frozen=True)
class Pick:
    """One image of the view: which set, its index there, its label and score."""

    where: str  # HELD_OUT or OTHER
    index: int
    label: int
    score: float


class AnomalyView:
    """The choices of the anomaly view and what follows from them; plain attributes, set freely."""

    def __init__(self) -> None:
        self.scored: ScoredSets | None = None
        self.score_name = RECOMMENDED
        self.mode = "classes"
        self.anomalous: frozenset[int] = frozenset()
        self.trained: tuple[int, ...] | None = None  # the classes the model learnt; None: all
        self.threshold: float | None = None

    # -- the population the figures are about -----------------------------------------------
    def score_names(self) -> list[str]:
        return self.scored.held_out.names() if self.scored is not None else [RECOMMENDED]

    @property
    def recommended(self) -> str:
        return self.scored.held_out.recommended if self.scored is not None else RECOMMENDED

    def score_label(self, name: str | None = None) -> str:
        name = name or self.score_name
        return SCORE_LABELS.get(name, name)

    def default_anomalous(self, classes) -> frozenset[int]:
        """The classes of the dataset the model was not trained on."""
        if self.trained is None:
            return frozenset()
        return frozenset(int(c) for c in classes if int(c) not in self.trained)

    def has_other(self) -> bool:
        return self.scored is not None and self.scored.other is not None

    def population(self) -> tuple[np.ndarray, np.ndarray, list[tuple[str, np.ndarray]]] | None:
        """(scores, anomalous?, [(set, indices)]) of the images the figures are about, or None."""
        s = self.scored
        if s is None or self.score_name not in s.held_out.scores:
            return None
        held = s.held_out.scores[self.score_name]
        labels = s.held_out.labels
        if self.mode == "other" and s.other is not None:
            keep = np.arange(len(held)) if self.trained is None else np.nonzero(np.isin(labels, self.trained))[0]
            other = s.other.scores[self.score_name]
            scores = np.concatenate([held[keep], other])
            positive = np.r_[np.zeros(len(keep), bool), np.ones(len(other), bool)]
            return scores, positive, [(HELD_OUT, keep), (OTHER, np.arange(len(other)))]
        positive = np.isin(labels, np.fromiter(self.anomalous, dtype=np.int64, count=len(self.anomalous)))
        return held, positive, [(HELD_OUT, np.arange(len(held)))]

    def _picks(self, order: np.ndarray) -> list[Pick]:
        scores, _, parts = self.population()
        where = np.concatenate([np.full(len(idx), name, dtype=object) for name, idx in parts])
        index = np.concatenate([idx for _, idx in parts])
        out = []
        for j in order:
            w, i = where[j], int(index[j])
            table = self.scored.held_out if w == HELD_OUT else self.scored.other
            out.append(Pick(w, i, int(table.labels[i]), float(scores[j])))
        return out

    def can_roc(self) -> bool:
        pop = self.population()
        return pop is not None and pop[1].any() and not pop[1].all()

    def roc(self) -> RocCurve | None:
        if not self.can_roc():
            return None
        scores, positive, _ = self.population()
        return roc_curve(scores, positive)

    def default_threshold(self) -> float | None:
        """The lowest threshold that flags at most :data:`DEFAULT_FPR` of the normal images."""
        pop = self.population()
        if pop is None or pop[1].all():
            return None
        return threshold_at_fpr(pop[0][~pop[1]], DEFAULT_FPR)

    def rates(self) -> Rates | None:
        """What the threshold does; with no anomalies among the images, their detection rate is nan."""
        pop = self.population()
        if pop is None or self.threshold is None:
            return None
        scores, positive, _ = pop
        if self.can_roc():
            return rates_at(scores, positive, self.threshold)
        flagged = scores >= self.threshold
        fpr = float(flagged[~positive].mean()) if (~positive).any() else float("nan")
        return Rates(float(self.threshold), int(flagged.sum()), fpr, float("nan"))

    def score_range(self) -> tuple[float, float] | None:
        """Where the histogram and the threshold slider span: the middle 99% of the scores."""
        pop = self.population()
        if pop is None or len(pop[0]) == 0:
            return None
        lo, hi = np.percentile(pop[0], [0.5, 99.5])
        if not hi > lo:
            lo, hi = float(pop[0].min()) - 0.5, float(pop[0].max()) + 0.5
        return float(lo), float(hi)

    def histogram(self, by_class: bool, bins: int = 30) -> tuple[np.ndarray, list[tuple[str, int | None, np.ndarray]]] | None:
        """Bin edges and, per group, (name, class or None, share of the group in each bin);
        scores beyond the range count in the end bins."""
        pop, span = self.population(), self.score_range()
        if pop is None or span is None:
            return None
        scores, positive, _ = pop
        edges = np.linspace(span[0], span[1], bins + 1)
        clipped = np.clip(scores, edges[0], edges[-1])
        groups: list[tuple[str, int | None, np.ndarray]] = []
        if by_class:
            labels = self._labels()
            in_dist = ~positive if self.mode == "other" and self.has_other() else np.ones(len(scores), bool)
            for c in np.unique(labels[in_dist]):
                groups.append((str(int(c)), int(c), clipped[in_dist & (labels == c)]))
            if self.mode == "other" and self.has_other():
                groups.append((self.scored.other_name or "other", None, clipped[positive]))
        elif positive.any():
            normal = "in-distribution" if self.mode == "other" else "normal"
            anomalous = (self.scored.other_name or "other dataset") if self.mode == "other" else "anomalous"
            groups = [(normal, None, clipped[~positive]), (anomalous, None, clipped[positive])]
        else:
            groups = [("held-out", None, clipped)]
        out = []
        for name, c, vals in groups:
            counts, _ = np.histogram(vals, edges)
            out.append((name, c, counts / max(1, len(vals))))
        return edges, out

    def _labels(self) -> np.ndarray:
        _, _, parts = self.population()
        tables = {HELD_OUT: self.scored.held_out, OTHER: self.scored.other}
        return np.concatenate([tables[name].labels[idx] for name, idx in parts])

    def gallery(self, n: int) -> dict[str, list[Pick]]:
        """The ``n`` least and most typical images, and the ``n`` flagged ones nearest the threshold."""
        pop = self.population()
        if pop is None:
            return {"least": [], "flagged": [], "most": []}
        scores = pop[0]
        order = np.argsort(scores, kind="stable")
        flagged = order[scores[order] >= self.threshold] if self.threshold is not None else order[:0]
        return {"least": self._picks(order[::-1][:n]), "flagged": self._picks(flagged[:n]),
                "most": self._picks(order[:n])}

    def image(self, pick: Pick) -> np.ndarray:
        """The image of a pick as the explorer takes images: grey (H, W), colour (3, H, W); floats in [0, 1]."""
        images = self.scored.held_out_images if pick.where == HELD_OUT else self.scored.other_images
        image = images[pick.index].astype(np.float32) / 255.0
        return image[0] if image.shape[0] == 1 else image


def held_out_points(test: Split, probe: np.ndarray) -> Split:
    """The held-out images behind the map's points, in the map's order."""
    return test.subset(torch.as_tensor(np.asarray(probe), dtype=torch.long))
