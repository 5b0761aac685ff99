"""One slider per latent dimension, most informative first.

Rows are made once per latent size and never moved: re-ordering by KL only changes which
dimension each row shows, so a live snapshot costs a few label updates, not a rebuilt layout.
"""

from __future__ import annotations

import numpy as np
import torch
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSlider,
    QVBoxLayout,
    QWidget,
)

RANGE = 3.0  # +-3 standard deviations of the prior holds 99.7% of it per dimension
TICKS = 100  # slider steps per unit of z
INACTIVE_KL = 0.05  # nats; below this the posterior is the prior and the decoder ignores the dim


class LatentSliders(QWidget):
    """``changed`` carries the full code z (a float64 array) after any user change."""

    changed = Signal(object)
    takeClickedRequested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._z = np.zeros(0)
        self._kl = np.zeros(0)
        self._order = np.zeros(0, dtype=int)  # row -> dimension
        self._rng = np.random.default_rng()
        self.prior = None  # the model's prior, which "Sample prior" draws from; None: N(0, I)
        self.rows: list[tuple[QLabel, QSlider, QLabel, QLabel]] = []

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(4)
        head = QLabel("Latent dimensions")
        head.setObjectName("sectionTitle")
        outer.addWidget(head)
        self.caption = QLabel("Sorted by KL (nats): the information each dimension carries. Grey rows are inactive.")
        self.caption.setObjectName("caption")
        self.caption.setWordWrap(True)
        outer.addWidget(self.caption)

        buttons = QHBoxLayout()
        self.sample_button = QPushButton("Sample prior")
        self.sample_button.setToolTip("Draw a code from the model's prior (N(0, I), or its learned mixture): what the model generates "
                                      "from scratch")
        self.reset_button = QPushButton("Reset to 0")
        self.reset_button.setToolTip("Set every dimension to 0, the centre of the prior (its most likely point)")
        self.take_button = QPushButton("Clicked point")
        self.take_button.setToolTip("Go back to the point last clicked on the map")
        for b in (self.sample_button, self.reset_button, self.take_button):
            buttons.addWidget(b)
        outer.addLayout(buttons)
        self.sample_button.clicked.connect(self.sample_prior)
        self.reset_button.clicked.connect(self.reset)
        self.take_button.clicked.connect(self.takeClickedRequested)

        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._inner = QWidget()
        self.grid = QGridLayout(self._inner)
        self.grid.setContentsMargins(2, 2, 2, 2)
        self.grid.setHorizontalSpacing(6)
        self.grid.setVerticalSpacing(2)
        self.grid.setColumnStretch(1, 1)
        self.scroll.setWidget(self._inner)
        outer.addWidget(self.scroll, 1)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)

    # -- set-up ------------------------------------------------------------------------------
    def set_dimensions(self, d: int) -> None:
        if d == len(self.rows):
            return
        while self.rows:
            for w in self.rows.pop():
                self.grid.removeWidget(w)
                w.hide()  # gone from the screen now, not when the event loop deletes it
                w.deleteLater()
        for r in range(d):
            name = QLabel()
            slider = QSlider(Qt.Orientation.Horizontal)
            slider.setRange(int(-RANGE * TICKS), int(RANGE * TICKS))
            slider.setSingleStep(5)
            slider.setPageStep(50)
            slider.setMinimumWidth(90)
            value = QLabel("+0.00")
            value.setMinimumWidth(value.fontMetrics().horizontalAdvance("+0.00 "))
            value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            kl = QLabel()
            kl.setMinimumWidth(kl.fontMetrics().horizontalAdvance("99.99 nats"))
            slider.valueChanged.connect(lambda v, row=r: self._on_slider(row, v))
            for c, w in enumerate((name, slider, value, kl)):
                self.grid.addWidget(w, r, c)
            self.rows.append((name, slider, value, kl))
        self.grid.setRowStretch(d, 1)
        self._z = np.zeros(d)
        self._kl = np.zeros(d)
        self._order = np.arange(d)
        self._relabel()

    def set_kl(self, kl_per_dim: np.ndarray | None) -> None:
        """Re-order rows by KL, most first, and grey the inactive ones.

        While a slider is being dragged the order is kept, so the row does not jump away
        from under the mouse.
        """
        kl = np.zeros(len(self.rows)) if kl_per_dim is None else np.asarray(kl_per_dim, dtype=np.float64).reshape(-1)
        if len(kl) != len(self.rows):
            return
        self._kl = kl
        if not any(s.isSliderDown() for _, s, _, _ in self.rows) and kl.any():
            self._order = np.argsort(-kl, kind="stable")
        self._relabel()

    def _relabel(self) -> None:
        known = self._kl.any()
        for r, (name, slider, value, kl_label) in enumerate(self.rows):
            d = int(self._order[r])
            k = float(self._kl[d])
            active = not known or k >= INACTIVE_KL
            name.setText(f"z{d + 1}")
            kl_label.setText(f"{k:.2f} nats" if known else "")
            for w in (name, value, kl_label):
                w.setEnabled(active)
            tip = (
                f"z{d + 1}: KL {k:.3f} nats. "
                + ("Active: the encoder uses it, so moving it changes the digit." if active else
                   "Inactive (posterior collapse): its posterior equals the prior, so the decoder ignores it.")
                if known else f"z{d + 1}: KL is shown after the first validation"
            )
            for w in (name, slider, kl_label):
                w.setToolTip(tip)
            slider.blockSignals(True)
            slider.setValue(int(round(np.clip(self._z[d], -RANGE, RANGE) * TICKS)))
            slider.blockSignals(False)
            value.setText(f"{self._z[d]:+.2f}")

    # -- values ------------------------------------------------------------------------------
    def value(self) -> np.ndarray:
        return self._z.copy()

    def order(self) -> np.ndarray:
        """Dimensions in row order (most KL first)."""
        return self._order.copy()

    def slider_for(self, dim: int) -> QSlider:
        return self.rows[int(np.nonzero(self._order == dim)[0][0])][1]

    def set_value(self, z: np.ndarray, emit: bool = False) -> None:
        """Show code z; values beyond +-3 are kept exactly but the slider stops at its end."""
        z = np.asarray(z, dtype=np.float64).reshape(-1)
        if len(z) != len(self.rows):
            return
        self._z = z.copy()
        self._relabel()
        if emit:
            self.changed.emit(self.value())

    def _on_slider(self, row: int, v: int) -> None:
        d = int(self._order[row])
        self._z[d] = v / TICKS
        self.rows[row][2].setText(f"{self._z[d]:+.2f}")
        self.changed.emit(self.value())

    def sample_prior(self) -> None:
        """A code from the model's prior (``self.prior``, its ``model.prior``; None: N(0, I))."""
        if self.prior is None:
            z = self._rng.standard_normal(len(self.rows))
        else:  # the prior's own sampler, seeded from this widget's stream
            z = self.prior.sample(1, 1.0, torch.Generator().manual_seed(int(self._rng.integers(2**62))))[0]
        self.set_value(z, emit=True)

    def reset(self) -> None:
        self.set_value(np.zeros(len(self.rows)), emit=True)
