"""The Apply tab: corrupt a digit and let the VAE restore it.

A held-out digit (the one clicked on the map, or any by number) or the draw pad's digit is
corrupted by Gaussian noise, salt-and-pepper noise, an occluding box, or strokes rubbed out with
the mouse. The VAE's restoration is shown beside the clean and the corrupted digit and a 3x3
median filter, each with its PSNR against the clean digit. Two ways to restore: the best-fit
code (the code whose decoded image best explains the damaged one, found by gradient steps off
the GUI thread), or encode -> decode, which where the damage has a known place (a box, erased
strokes) is iterated with the known pixels put back, the passes shown. A chart gives the PSNR
against the noise level over held-out digits, computed off the GUI thread.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QComboBox, QGridLayout, QHBoxLayout, QLabel, QPushButton, QSlider, QSpinBox, QVBoxLayout, QWidget,
)

from ....core import explorer_state as S
from ....core.corruption import Corruption, corrupt, erase, median3x3, psnr
from ....core.denoise import DEFAULT_ITERATIONS, psnr_curve, restore
from ....core.models import build_model
from ...background import LatestJob
from ..decoder_view import DigitView
from ..erase_view import EraseView
from .psnr_chart import PsnrChart

# kind -> (label, symbol, lowest, highest, first shown)
KINDS = {
    "gaussian": ("Gaussian noise", "σ", 0.0, 1.0, 0.5),
    "saltpepper": ("Salt and pepper", "p", 0.0, 0.6, 0.2),
    "occlusion": ("Occluding box", "side", 0.1, 0.8, 0.4),
    "erase": ("Erase by hand", "", 0.0, 0.0, 0.0),
}
PER_UNIT = 100  # the level slider moves in hundredths
# held-out digits behind the chart: a stable mean in seconds; a best-fit code costs ~150 decoder passes
CURVE_IMAGES = {"encoder": 64, "fit": 16}
CURVE_SHARE = 0.1  # while a model trains, the chart follows it with at most this share of the time
BRUSH = 1.6  # radius of the eraser, in image pixels
STRIP_STEPS = 8  # inpainting iterates shown
METHODS = (("fit", "Best-fit code"), ("encoder", "Encode → decode"))


def _private_model(config, state: dict):
    model = build_model(config)
    model.load_state_dict(state)
    return model.eval().requires_grad_(False)


def _curve_job(config, state: dict, clean: np.ndarray, labels, kind: str, method: str, iterations: int):
    return psnr_curve(_private_model(config, state), clean, kind, labels=labels if config.conditional else None,
                      method=method, iterations=iterations)


def _fit_job(config, state: dict, clean: np.ndarray, damaged: Corruption, kind: str, level: float, label):
    return restore(_private_model(config, state), clean, damaged, kind=kind, level=level, labels=label, method="fit")


def _strip_steps(total: int) -> list[int]:
    """Which of the iterates 0..total to show: the first few, then spread out to the last."""
    if total + 1 <= STRIP_STEPS:
        return list(range(total + 1))
    return sorted(set(np.round(np.geomspace(1, total + 1, STRIP_STEPS)).astype(int) - 1))


def _db(v: float) -> str:
    return "exact" if v >= 99 else f"{v:.1f} dB"


class ApplyTab(QWidget):
    def __init__(self, state: S.ExplorerState, parent: QWidget | None = None):
        super().__init__(parent)
        self.state = state
        self.seed = 0
        self.mask: np.ndarray | None = None  # erased pixels, for "erase"
        self.result = None  # the last core DenoiseResult
        self.chart_job = LatestJob(self, max_share=CURVE_SHARE)
        self.chart_job.done.connect(self._on_curve)
        self.chart_job.failed.connect(lambda _k, msg: self.chart.set_curve(None, "", f"cannot compute: {msg}"))
        self._chart_key = None
        self.fit_job = LatestJob(self)  # a best-fit code takes ~150 gradient steps: off the GUI thread
        self.fit_job.done.connect(self._on_fit)
        self.fit_job.failed.connect(lambda _k, msg: self.restored_view.title.setText(f"VAE\nfailed: {msg}"))
        self._fit_key = None

        root = QVBoxLayout(self)
        root.setContentsMargins(4, 4, 4, 4)
        root.setSpacing(4)
        top = QGridLayout()
        top.setHorizontalSpacing(6)
        top.setVerticalSpacing(3)
        self.source_combo = QComboBox()
        self.source_combo.addItem("Held-out digit", "held_out")
        self.source_combo.addItem("Draw pad", "drawing")
        self.source_combo.setToolTip("The clean digit: a held-out one (click a dot on the map, or pick its number) "
                                     "or what is on the Draw tab's pad")
        self.index_spin = QSpinBox()
        self.index_spin.setPrefix("#")
        self.index_spin.setRange(0, 0)
        self.index_spin.setToolTip("Which held-out digit (the map's points, in order)")
        self.kind_combo = QComboBox()
        for key, (label, *_rest) in KINDS.items():
            self.kind_combo.addItem(label, key)
        self.kind_combo.setToolTip("How the digit is damaged. Noise has no known place, so the VAE redraws the "
                                   "whole image; a box or erased strokes do, so it inpaints them, keeping the rest")
        self.method_combo = QComboBox()
        for key, label in METHODS:
            self.method_combo.addItem(label, key)
        self.method_combo.setToolTip(
            "Best-fit code: the code whose decoded image best explains the damaged digit under the damage's own "
            "noise model, plus the prior (gradient steps from the encoder's guess); the better of the two.\n"
            "Encode → decode: one pass through the encoder and decoder; for a box or erased strokes, repeated with "
            "the known pixels put back, the passes shown below.")
        self.level_slider = QSlider(Qt.Orientation.Horizontal)
        self.level_label = QLabel("")
        self.level_label.setMinimumWidth(70)
        self.new_button = QPushButton("New noise")
        self.iter_spin = QSpinBox()
        self.iter_spin.setRange(0, 100)
        self.iter_spin.setValue(DEFAULT_ITERATIONS)
        self.iter_spin.setSuffix(" passes")
        self.iter_spin.setToolTip("Inpainting passes: encode, decode, put the known pixels back, again")
        for combo in (self.source_combo, self.kind_combo, self.method_combo):
            # narrow panes elide the text rather than push the tab wider than its pane
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(8)
        top.addWidget(self.source_combo, 0, 0)
        top.addWidget(self.index_spin, 0, 1)
        top.addWidget(self.kind_combo, 0, 2)
        top.addWidget(self.method_combo, 0, 3)
        top.addWidget(self.level_slider, 1, 0)
        top.addWidget(self.level_label, 1, 1)
        top.addWidget(self.new_button, 1, 2)
        top.addWidget(self.iter_spin, 1, 3)
        for col, stretch in ((0, 3), (2, 2), (3, 2)):
            top.setColumnStretch(col, stretch)
        root.addLayout(top)

        row = QHBoxLayout()
        row.setSpacing(4)
        self.clean_view = DigitView("Clean", "The digit as it was", min_size=80, placeholder="no model")
        self.corrupted_view = EraseView("Corrupted", "The damaged digit. With \"Erase with the mouse\", rub strokes "
                                        "out here", min_size=80, placeholder="")
        self.restored_view = DigitView("VAE", "What the VAE makes of the damaged digit", min_size=80, placeholder="")
        self.median_view = DigitView("Median 3×3", "A 3×3 median filter of the damaged digit: the yardstick",
                                     min_size=80, placeholder="")
        for v in (self.clean_view, self.corrupted_view, self.restored_view, self.median_view):
            row.addWidget(v)
        root.addLayout(row, 3)

        bottom = QHBoxLayout()
        left = QVBoxLayout()
        self.steps_title = QLabel("")
        self.steps_title.setObjectName("caption")
        self.steps_title.setWordWrap(True)
        left.addWidget(self.steps_title)
        self.steps_view = DigitView("", "Inpainting, pass by pass: the unknown pixels are filled by the decoder, the "
                                    "known ones put back each time", min_size=40, placeholder="")
        left.addWidget(self.steps_view, 1)
        bottom.addLayout(left, 1)
        self.chart = PsnrChart()
        bottom.addWidget(self.chart, 1)
        root.addLayout(bottom, 2)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(60)  # while rubbing out, the VAE catches up ~16 times a second
        self._timer.timeout.connect(self.apply)
        self.source_combo.currentIndexChanged.connect(lambda _=0: self.apply())
        self.index_spin.valueChanged.connect(lambda _=0: self._new_digit())
        self.kind_combo.currentIndexChanged.connect(self._on_kind)
        self.method_combo.currentIndexChanged.connect(self._on_method)
        self.level_slider.valueChanged.connect(self._on_level)
        self.new_button.clicked.connect(self._on_new)
        self.iter_spin.valueChanged.connect(lambda _=0: (self.apply(), self._request_curve()))
        self.corrupted_view.rubbed.connect(self._rub)
        self.corrupted_view.strokeFinished.connect(self.apply)
        state.subscribe(self._on_state)
        self._on_kind()

    # -- choices -----------------------------------------------------------------------------
    @property
    def kind(self) -> str:
        return self.kind_combo.currentData()

    @property
    def level(self) -> float:
        return self.level_slider.value() / PER_UNIT

    def set_level(self, level: float) -> None:
        self.level_slider.setValue(int(round(level * PER_UNIT)))

    def _on_kind(self, *_) -> None:
        kind = self.kind
        _, _, lo, hi, first = KINDS[kind]
        erasing = kind == "erase"
        self.level_slider.setVisible(not erasing)
        self.level_label.setVisible(not erasing)
        self.new_button.setText("Restore strokes" if erasing else "New noise")
        self.new_button.setToolTip("Undo the erasing" if erasing else "Draw the noise (or place the box) afresh")
        self.iter_spin.setEnabled(self.method == "encoder" and kind in ("occlusion", "erase"))
        self.corrupted_view.set_erasing(erasing)
        self.level_slider.blockSignals(True)
        self.level_slider.setRange(int(round(lo * PER_UNIT)), int(round(hi * PER_UNIT)))
        self.set_level(first)
        self.level_slider.blockSignals(False)
        self._show_level()
        self.apply()
        self._request_curve()

    def _on_level(self, *_) -> None:
        self._show_level()
        self.apply()

    def _show_level(self) -> None:
        _, symbol, *_ = KINDS[self.kind]
        self.level_label.setText(f"{symbol} = {self.level:.2f}")
        self.chart.set_level(self.level if self.kind != "erase" else None)

    def _on_new(self) -> None:
        if self.kind == "erase":
            self.mask = None
        else:
            self.seed += 1
        self.apply()

    def _new_digit(self) -> None:
        self.mask = None
        self.apply()

    def _rub(self, x: float, y: float) -> None:
        clean = self.clean()
        if clean is None:
            return
        h, w = clean.shape
        if self.mask is None or self.mask.shape != clean.shape:
            self.mask = np.zeros(clean.shape, dtype=bool)
        rows, cols = np.ogrid[:h, :w]
        self.mask |= (rows + 0.5 - y) ** 2 + (cols + 0.5 - x) ** 2 <= BRUSH**2
        self.corrupted_view.set_image(np.where(self.mask, 0.0, clean))
        self._timer.start()

    # -- the state ---------------------------------------------------------------------------
    def _on_state(self, changed: frozenset) -> None:
        st = self.state
        if changed & {S.MODEL, S.POINTS, S.PROBES}:
            n = st.probe_count()
            self.index_spin.blockSignals(True)
            self.index_spin.setRange(0, max(0, n - 1))
            self.index_spin.blockSignals(False)
        if S.SELECTION in changed and 0 <= st.selected < st.probe_count():
            for w, v in ((self.source_combo, 0), (self.index_spin, st.selected)):
                w.blockSignals(True)
                w.setCurrentIndex(v) if w is self.source_combo else w.setValue(v)
                w.blockSignals(False)
            self.mask = None
        if changed & {S.MODEL, S.SELECTION, S.PROBES, S.DRAWN, S.LABEL} and self.isVisible():
            self.apply()
        if changed & {S.MODEL, S.PROBES} and self.isVisible():
            self._request_curve(throttled=True)

    def showEvent(self, ev) -> None:
        super().showEvent(ev)
        self.apply()
        self._request_curve()

    def clean(self) -> np.ndarray | None:
        """The clean digit (H, W) in [0, 1], or None."""
        st = self.state
        if self.source_combo.currentData() == "drawing":
            return st.drawing
        i = self.index_spin.value()
        return st.probe_image(i) if 0 <= i < st.probe_count() else None

    def _label(self):
        st = self.state
        if st.model is None or not st.model.conditional:
            return None
        if self.source_combo.currentData() == "drawing":
            return st.label
        return int(st.labels[self.index_spin.value()])

    def _what(self) -> str:
        if self.source_combo.currentData() == "drawing":
            return "your drawing"
        i = self.index_spin.value()
        return f"#{i}, class {self.state.class_name(int(self.state.labels[i]))}"

    def corruption(self, clean: np.ndarray) -> Corruption:
        if self.kind == "erase":
            mask = self.mask if self.mask is not None and self.mask.shape == clean.shape else np.zeros(clean.shape, bool)
            return erase(clean[None], mask[None])
        return corrupt(clean[None], self.kind, self.level, seed=self.seed)

    # -- applying ----------------------------------------------------------------------------
    @property
    def method(self) -> str:
        return self.method_combo.currentData()

    def _on_method(self, *_) -> None:
        self.iter_spin.setEnabled(self.method == "encoder" and self.kind in ("occlusion", "erase"))
        self.apply()
        self._request_curve()

    def apply(self) -> None:
        """Corrupt the chosen digit and restore it with the model shown: encode -> decode at once,
        the best-fit code in a worker thread (the other panels are shown meanwhile)."""
        self._timer.stop()
        st = self.state
        clean = self.clean()
        if st.model is None or clean is None:
            self.result = None
            self._fit_key = None
            for v in (self.clean_view, self.corrupted_view, self.restored_view, self.median_view, self.steps_view):
                v.clear()
            self.clean_view.set_placeholder("no model" if st.model is None else "draw on the pad")
            self.steps_title.setText("")
            return
        damaged = self.corruption(clean)
        self.clean_view.set_image(clean)
        self.clean_view.title.setText("Clean\n" + self._what())
        self.corrupted_view.set_image(damaged.images[0])
        self.corrupted_view.title.setText(f"Corrupted\n{_db(psnr(clean[None], damaged.images)[0])}")
        median = median3x3(damaged.images)
        self.median_view.set_image(median[0])
        self.median_view.title.setText(f"Median 3×3\n{_db(psnr(clean[None], median)[0])}")
        label, kind, level = self._label(), self.kind, self.level
        untouched = damaged.known.all()  # nothing erased yet: nothing to restore
        if self.method == "encoder" or untouched:
            self._fit_key = None
            erased = damaged.locatable and not untouched
            self._show_result(restore(st.model, clean[None], damaged, kind=kind, level=level, labels=label,
                                      method="encoder", iterations=self.iter_spin.value() if erased else 0))
            return
        snap = st.snapshot
        self._fit_key = (id(snap), snap.step, clean.tobytes(), damaged.images.tobytes(), kind, level, label)
        self.result = None  # until the fit comes back
        self.restored_view.title.setText("VAE\nfitting…")
        self.fit_job.request(self._fit_key, _fit_job, snap.model_config, snap.state, clean[None], damaged, kind, level,
                             label)

    def _on_fit(self, key, result) -> None:
        if key == self._fit_key:  # else the digit, the damage or the model has changed since
            self._show_result(result)

    def _show_result(self, r) -> None:
        self.result = r
        self.restored_view.set_image(r.denoised[0])
        self.restored_view.title.setText(f"VAE\n{_db(r.psnr_denoised[0])}")
        self._show_steps(r)

    def _show_steps(self, r) -> None:
        self.steps_view.clear()
        if self.kind == "erase" and r.corrupted.known.all():
            self.steps_title.setText("Rub strokes out on the corrupted digit: the VAE fills them in.")
        elif r.method == "fit":
            self.steps_title.setText("Best-fit code: gradient steps from the encoder's guess to the code whose image "
                                     "best explains the damaged digit. Encode → decode shows inpainting pass by pass.")
        elif r.steps is None:
            self.steps_title.setText("Noise has no known place: encode → decode is one pass over the whole digit. "
                                     "A box or erased strokes are inpainted pass by pass.")
        else:
            shown = _strip_steps(len(r.steps) - 1)
            h, w = r.clean.shape[-2:]
            gap = 1
            strip = np.full((h, len(shown) * (w + gap) - gap), 0.25, dtype=np.float32)
            for j, t in enumerate(shown):
                strip[:, j * (w + gap): j * (w + gap) + w] = r.steps[t][0]
            self.steps_view.set_image(strip)
            self.steps_view.set_labels([], [(j * (w + gap) + w / 2, str(t)) for j, t in enumerate(shown)])
            self.steps_title.setText(f"Inpainting, encode → decode with the known pixels kept: passes "
                                     f"{shown[0]} to {shown[-1]}")

    def _curve_kind(self) -> str:
        return "occlusion" if self.kind == "erase" else self.kind

    def _request_curve(self, throttled: bool = False) -> None:
        st = self.state
        if not self.isVisible():
            return
        snap = st.snapshot
        if snap is None or st.probe_count() == 0:
            self._chart_key = None
            self.chart.set_curve(None, "", "no model yet")
            return
        kind, method, iterations = self._curve_kind(), self.method, self.iter_spin.value()
        n = min(CURVE_IMAGES[method], st.probe_count())
        key = (id(snap), snap.step, kind, method, iterations if kind == "occlusion" and method == "encoder" else 0, n)
        if key == self._chart_key or self.chart_job.running_key == key:
            return
        clean, labels = st.probe_examples(np.arange(n))
        self.chart_job.request(key, _curve_job, snap.model_config, snap.state, clean, labels, kind, method, iterations,
                               throttled=throttled)

    def _on_curve(self, key, curve) -> None:
        self._chart_key = key
        label, symbol, *_ = KINDS[key[2]]
        note = ", boxes" if self.kind == "erase" else ""
        self.chart.set_curve(curve, f"{label.lower()} {symbol}", f"mean PSNR of {key[-1]} held-out digits{note}")
        self._show_level()
