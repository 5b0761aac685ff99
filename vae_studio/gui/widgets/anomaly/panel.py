"""The anomaly view: score the map's held-out images (and another dataset) with the model shown,
set a threshold, and see what it flags.

The window hands it the model shown (``set_source``, a core ``ModelSource``) and whether that
model is training. Scores are computed in a worker thread; a model that has moved since is
rescored at once when it stands still, and while it trains the figures stay, marked as from an
earlier step, until "Score now". The figures themselves come from a Qt-free ``AnomalyView``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ....core.anomaly import DEFAULT_IWAE_SAMPLES
from ....core.anomaly_view import HELD_OUT, AnomalyView, ModelSource, score_sets
from ...background import LatestJob
from .charts import RocPlot, ScoreHistogram
from .gallery import Gallery

OTHER_SETS = (("fashion-mnist", "Fashion-MNIST"), ("digits", "Digits (built in)"), ("mnist", "MNIST"),
              ("kmnist", "KMNIST"))
FOLDER = "folder"
SLIDER_STEPS = 1000
GALLERY_ROWS = (
    ("least", "Least typical", "The highest scores: what the model finds most anomalous"),
    ("flagged", "Flagged, nearest the threshold", "Flagged images with the lowest scores: what the threshold just catches"),
    ("most", "Most typical", "The lowest scores: what the model finds most normal"),
)
NO_MODEL = "No model yet: train one or open a run, and its held-out digits are scored here."


class AnomalyPanel(QWidget):
    """``pointChosen(int)``: a held-out point of the map was clicked in the gallery;
    ``imageChosen(np.ndarray)``: an image of another dataset was, (H, W) floats in [0, 1]."""

    pointChosen = Signal(int)
    imageChosen = Signal(object)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.view = AnomalyView()
        self.job = LatestJob(self)
        self.job.done.connect(self._on_scored)
        self.job.failed.connect(self._on_failed)
        self._source: ModelSource | None = None
        self._live = False
        self._defaults_for = None  # the run whose default anomalies are set
        self._error = ""

        root = QHBoxLayout(self)
        root.setContentsMargins(6, 2, 6, 2)
        root.addWidget(self._controls())
        middle = QVBoxLayout()
        charts = QHBoxLayout()
        self.histogram = ScoreHistogram()
        self.roc = RocPlot()
        charts.addWidget(self.histogram, 3)
        charts.addWidget(self.roc, 2)
        middle.addLayout(charts, 1)
        row = QHBoxLayout()
        row.addWidget(QLabel("Threshold"))
        self.threshold_slider = QSlider(Qt.Orientation.Horizontal)
        self.threshold_slider.setRange(0, SLIDER_STEPS)
        self.threshold_slider.setToolTip("Images scoring at or above the threshold are flagged as anomalous. It starts "
                                         "where 5% of the normal images are flagged.")
        row.addWidget(self.threshold_slider, 1)
        middle.addLayout(row)
        self.rates_label = QLabel(" ")
        self.rates_label.setObjectName("caption")
        self.rates_label.setWordWrap(True)
        middle.addWidget(self.rates_label)
        root.addLayout(middle, 1)
        self.gallery = Gallery(list(GALLERY_ROWS))
        root.addWidget(self.gallery)

        self.threshold_slider.valueChanged.connect(self._on_slider)
        self.histogram.thresholdMoved.connect(self.set_threshold)
        self.gallery.picked.connect(self._on_pick)
        self._fill_scores()
        self.refresh()

    def _controls(self) -> QWidget:
        box = QWidget()
        box.setFixedWidth(250)
        v = QVBoxLayout(box)
        v.setContentsMargins(0, 0, 0, 0)
        v.setSpacing(3)
        title = QLabel("Anomaly scores")
        title.setObjectName("sectionTitle")
        v.addWidget(title)
        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.setVerticalSpacing(3)
        self.score_combo = QComboBox()
        self.score_combo.setToolTip(
            "Higher = more anomalous. −ELBO, its reconstruction and KL terms and the IWAE NLL are the model's own; "
            "a likelihood mostly says how simple an image is (Nalisnick et al. 2019).\n"
            "NLL − local coder: Serrà et al.'s (2020) complexity correction, the NLL less what a simple local "
            "predictor of pixels also finds likely; NLL − PNG length: the same with a real compressor.\n"
            "Reconstruction − local coder: the same correction of the reconstruction term alone.\n"
            "Latent density: how far the image's code lands from the training codes of every class.\n"
            "★ atypicality (recommended): the complexity-corrected reconstruction and the latent density, each "
            "standardised on the model's own training images, added.")
        form.addRow("Score", self.score_combo)
        self.k_spin = QSpinBox()
        self.k_spin.setRange(1, 1000)
        self.k_spin.setValue(DEFAULT_IWAE_SAMPLES)
        self.k_spin.setKeyboardTracking(False)
        self.k_spin.setToolTip("Importance samples per image for the IWAE NLL and the scores built on it: "
                               "larger is tighter and slower")
        form.addRow("IWAE k", self.k_spin)
        self.mode_combo = QComboBox()
        self.mode_combo.addItem("Chosen classes", "classes")
        self.mode_combo.addItem("Another dataset", "other")
        self.mode_combo.setToolTip("What counts as anomalous: some classes of the held-out digits (by default those the "
                                   "model was not trained on), or the images of another dataset")
        form.addRow("Anomalies", self.mode_combo)
        v.addLayout(form)
        self.class_box = QWidget()
        grid = QGridLayout(self.class_box)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(2)
        self.class_buttons: dict[int, QToolButton] = {}
        for c in range(10):
            b = QToolButton()
            b.setText(str(c))
            b.setCheckable(True)
            b.setFixedWidth(22)
            b.toggled.connect(self._on_classes)
            grid.addWidget(b, c // 10, c % 10)
            self.class_buttons[c] = b
        v.addWidget(self.class_box)
        self.other_row = QWidget()
        h = QHBoxLayout(self.other_row)
        h.setContentsMargins(0, 0, 0, 0)
        h.addWidget(QLabel("Dataset"))
        self.other_combo = QComboBox()
        for key, name in OTHER_SETS:
            self.other_combo.addItem(name, key)
        self.other_combo.addItem("Folder…", FOLDER)
        self.other_combo.setToolTip("Score another dataset against this model: its held-out images are the anomalies")
        h.addWidget(self.other_combo, 1)
        v.addWidget(self.other_row)
        self.by_class = QCheckBox("Histogram per class")
        v.addWidget(self.by_class)
        self.status_label = QLabel("")
        self.status_label.setObjectName("caption")
        self.status_label.setWordWrap(True)
        v.addWidget(self.status_label)
        self.rescore_button = QPushButton("Score now")
        self.rescore_button.setToolTip("Score the model as it is now (while it trains, figures otherwise wait)")
        v.addWidget(self.rescore_button)
        v.addStretch(1)

        self.score_combo.currentIndexChanged.connect(self._on_score_choice)
        # a choice the person makes is scored at once, even while the model trains
        self.k_spin.valueChanged.connect(lambda _=0: self.refresh(force=True))
        self.mode_combo.currentIndexChanged.connect(self._on_mode)
        self.other_combo.activated.connect(self._on_other_chosen)
        self.by_class.toggled.connect(lambda _=False: self._redraw())
        self.rescore_button.clicked.connect(lambda: self.refresh(force=True))
        self._last_other = 0
        self._on_mode()
        return box

    # -- what the window sets ----------------------------------------------------------------
    def set_source(self, source: ModelSource | None, live: bool = False) -> None:
        """The model shown (None: no model) and whether it is training."""
        self._source, self._live = source, bool(live)
        if source is None:
            self.view.scored = None
        else:
            run = (source.key[0], source.trained, source.class_names)
            if run != self._defaults_for:
                self._defaults_for = run
                self.view.trained = source.trained
                self._set_classes(source.class_names, self.view.default_anomalous(range(len(source.class_names))))
        self.refresh()

    def add_other_source(self, source: str, name: str) -> None:
        """Offer another dataset (a folder of IDX files, say) and choose it."""
        i = self.other_combo.findData(source)
        if i < 0:
            i = self.other_combo.count() - 1  # before "Folder…"
            self.other_combo.insertItem(i, name, source)
        self.other_combo.setCurrentIndex(i)
        self._last_other = i
        self.mode_combo.setCurrentIndex(self.mode_combo.findData("other"))
        self.refresh(force=True)

    def wait(self, timeout: float) -> bool:
        return self.job.wait(timeout)

    # -- scoring -----------------------------------------------------------------------------
    def _other(self) -> tuple[str, str] | None:
        if self.mode_combo.currentData() != "other":
            return None
        data = self.other_combo.currentData()
        return None if data in (None, FOLDER) else (data, self.other_combo.currentText())

    def _want(self) -> tuple | None:
        if self._source is None:
            return None
        other = self._other()
        return (self._source.key, self.k_spin.value(), other[0] if other else None)

    def _satisfied(self) -> bool:
        s, want = self.view.scored, self._want()
        return s is not None and want is not None and s.key[:2] == want[:2] and want[2] in (None, s.key[2])

    def refresh(self, force: bool = False) -> None:
        """Score the model shown if it needs it and may be; say how the figures stand."""
        src, want = self._source, self._want()
        self.rescore_button.setVisible(False)
        if src is None:
            self.job.cancel_pending()
            self.status_label.setText(NO_MODEL)
            self._redraw()
            return
        if self._satisfied():
            self._say_scored()
            return
        if self.job.running_key == want:
            return
        if self._live and not force:
            self.rescore_button.setVisible(True)
            scored = self.view.scored
            self.status_label.setText(
                "The model is training: Score now scores it as it is." if scored is None else
                f"These scores are from step {scored.key[0][-1]:,}; the model is training (step {src.step:,} now).")
            return
        if not force and not self.isVisible():
            return  # scored when shown
        other = self._other()
        self._error = ""
        scored = self.view.scored  # the same model and k: its calibration holds
        calibration = scored.calibration if scored is not None and scored.key[:2] == want[:2] else None
        self.status_label.setText(f"Scoring {len(src.held_out):,} held-out images"
                                  f"{' and ' + other[1] if other else ''} (k = {want[1]})…")
        self.job.request(want, score_sets, want, src.config, src.state, src.held_out, want[1],
                         other[0] if other else None, other[1] if other else "", 0, src.train, src.binarize,
                         calibration)

    def showEvent(self, ev) -> None:
        super().showEvent(ev)
        self.refresh()

    def _say_scored(self) -> None:
        s = self.view.scored
        other = f" and {len(s.other):,} of {s.other_name}" if s.other is not None else ""
        calibrated = (f"calibrated on {s.calibration.n_images:,} training images" if s.calibration is not None
                      else "no training images: uncalibrated")
        self.status_label.setText(f"{len(s.held_out):,} held-out images{other} scored at step {s.key[0][-1]:,} "
                                  f"(k = {s.key[1]}, {calibrated}) in {s.seconds:.1f} s.")

    def _on_scored(self, key, scored) -> None:
        if self._source is None or scored.key[0][:1] != self._source.key[:1]:
            return  # scores of a run no longer shown
        self.view.scored = scored
        self._fill_scores()
        self.view.threshold = None  # where 5% of the normal images are flagged, on the new scores
        self._redraw()
        self.refresh()

    def _on_failed(self, key, message: str) -> None:
        self._error = message
        self.status_label.setText(f"Cannot score: {message}")

    # -- choices -----------------------------------------------------------------------------
    def _fill_scores(self) -> None:
        v = self.view
        names = v.score_names()
        names = [v.recommended] + [n for n in names if n != v.recommended]
        current = v.score_name if v.score_name in names else v.recommended
        self.score_combo.blockSignals(True)
        self.score_combo.clear()
        for n in names:
            # units on the histogram's axis; the combo keeps to the names
            self.score_combo.addItem(("★ " if n == v.recommended else "") + v.score_label(n).split(" (")[0], n)
        self.score_combo.setCurrentIndex(names.index(current))
        self.score_combo.blockSignals(False)
        v.score_name = current

    def _set_classes(self, class_names, anomalous) -> None:
        self.view.anomalous = frozenset(anomalous)
        for c, b in self.class_buttons.items():
            b.blockSignals(True)
            b.setVisible(c < len(class_names))
            b.setChecked(c in self.view.anomalous)
            b.setToolTip(f"Count class {class_names[c]} as anomalous" if c < len(class_names) else "")
            b.blockSignals(False)
        self.by_class.setChecked(not self.view.anomalous)
        self.view.threshold = None
        self._redraw()

    def _on_classes(self, *_) -> None:
        self.view.anomalous = frozenset(c for c, b in self.class_buttons.items() if b.isChecked())
        self.view.threshold = None
        self._redraw()

    def _on_score_choice(self, i: int) -> None:
        name = self.score_combo.itemData(i)
        if name:
            self.view.score_name = name
            self.view.threshold = None
            self._redraw()

    def _on_mode(self, *_) -> None:
        other = self.mode_combo.currentData() == "other"
        self.view.mode = "other" if other else "classes"
        self.class_box.setVisible(not other)
        self.other_row.setVisible(other)
        self.view.threshold = None
        self._redraw()
        if hasattr(self, "threshold_slider"):
            self.refresh(force=self.isVisible())

    def _on_other_chosen(self, i: int) -> None:
        if self.other_combo.itemData(i) == FOLDER:
            path = QFileDialog.getExistingDirectory(self, "A folder of MNIST-format IDX files")
            if not path:
                self.other_combo.setCurrentIndex(self._last_other)
                return
            self.add_other_source(path, Path(path).name)
            return
        self._last_other = i
        self.refresh(force=True)

    def set_threshold(self, value: float) -> None:
        self.view.threshold = float(value)
        self._sync_threshold()

    def _on_slider(self, pos: int) -> None:
        span = self.view.score_range()
        if span is not None:
            self.view.threshold = span[0] + (span[1] - span[0]) * pos / SLIDER_STEPS
            self._sync_threshold(from_slider=True)

    def _on_pick(self, pick) -> None:
        if pick.where == HELD_OUT:
            self.pointChosen.emit(int(pick.index))
        else:
            self.imageChosen.emit(self.view.image(pick))

    # -- drawing -----------------------------------------------------------------------------
    def _redraw(self) -> None:
        if not hasattr(self, "gallery"):
            return
        v = self.view
        hist = v.histogram(self.by_class.isChecked()) if v.scored is not None else None
        if hist is None:
            self.histogram.clear()
            self.roc.set_curve(None, "")
            self.gallery.clear()
            self.rates_label.setText(" ")
            return
        edges, groups = hist
        names = self._source.class_names if self._source is not None else ()
        groups = [(names[c][:10] if c is not None and c < len(names) else name, c, shares) for name, c, shares in groups]
        self.histogram.set_data(edges, groups, v.score_label())
        note = ("pick anomalous classes for an ROC" if v.mode == "classes" else "choose a dataset to score")
        self.roc.set_curve(v.roc(), note)
        if v.threshold is None:
            v.threshold = v.default_threshold()
        self._sync_threshold()

    def _sync_threshold(self, from_slider: bool = False) -> None:
        v = self.view
        rates, span = v.rates(), v.score_range()
        self.histogram.set_threshold(v.threshold)
        if span is not None and v.threshold is not None and not from_slider:
            pos = int(round((v.threshold - span[0]) / (span[1] - span[0]) * SLIDER_STEPS))
            self.threshold_slider.blockSignals(True)
            self.threshold_slider.setValue(min(max(pos, 0), SLIDER_STEPS))
            self.threshold_slider.blockSignals(False)
        if rates is None:
            self.rates_label.setText(" ")
            self.roc.set_point(None, None)
        else:
            n = len(v.population()[0])
            text = f"Threshold {rates.threshold:.1f}: flags {rates.flagged:,} of {n:,} images"
            if np.isfinite(rates.detection_rate):
                text += (f" · false-positive rate {100 * rates.false_positive_rate:.1f}%"
                         f" · detection rate {100 * rates.detection_rate:.1f}%")
            self.rates_label.setText(text)
            self.roc.set_point(rates.false_positive_rate, rates.detection_rate)
        self._fill_gallery()

    def _fill_gallery(self) -> None:
        v = self.view
        names = self._source.class_names if self._source is not None else ()
        other = v.scored.other_name if v.scored is not None else ""
        for key, picks in v.gallery(len(self.gallery.thumbs["most"])).items():
            items = []
            for p in picks:
                if p.where == HELD_OUT:
                    what = f"class {names[p.label] if p.label < len(names) else p.label}"
                    act = "Click: select it on the latent map"
                else:
                    what, act = f"{other} image", "Click: show where it lands on the latent map"
                items.append((p, v.image(p), f"{what} · {v.score_label()} {p.score:.1f}\n{act}"))
            self.gallery.set_row(key, items)
