"""The Decode tab: the current code's image, the hover preview, the clicked digit beside its
reconstruction, and one slider per latent dimension. A view of the explorer's state."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QVBoxLayout, QWidget

from ....core import explorer_state as S
from ..decoder_view import DigitView
from ..latent_sliders import LatentSliders

ORIGINAL = "Original"


class DecodeTab(QWidget):
    """``decoded(np.ndarray)``: the (H, W) image now shown for the current code."""

    decoded = Signal(object)

    def __init__(self, state: S.ExplorerState, parent: QWidget | None = None):
        super().__init__(parent)
        self.state = state
        dl = QVBoxLayout(self)
        dl.setContentsMargins(4, 4, 4, 4)
        top = QHBoxLayout()
        self.decoded_view = DigitView(
            "Decoded z", "The decoder's mean image p(x|z) for the current code: click the map or move a slider",
            min_size=120, placeholder="click the map",
        )
        top.addWidget(self.decoded_view, 2)
        side = QGridLayout()
        side.setSpacing(4)
        self.hover_view = DigitView("Under the cursor", "A live preview of the code under the mouse pointer on the map",
                                    min_size=56, placeholder="hover the map")
        self.original_view = DigitView(ORIGINAL, "The held-out image you clicked on the map", min_size=56,
                                       placeholder="click a dot")
        self.recon_view = DigitView(
            "Reconstruction", "That image decoded from its posterior mean: how much of it the code kept", min_size=56,
            placeholder="click a dot",
        )
        side.addWidget(self.hover_view, 0, 0)
        side.addWidget(self.original_view, 1, 0)
        side.addWidget(self.recon_view, 1, 1)
        top.addLayout(side, 2)
        self.top_box = QWidget()
        self.top_box.setLayout(top)
        dl.addWidget(self.top_box, 2)
        self.sliders = LatentSliders()
        dl.addWidget(self.sliders, 3)
        self.sliders.changed.connect(lambda z: state.set_z(z))
        self.sliders.takeClickedRequested.connect(state.take_clicked)
        state.subscribe(self._on_state)

    def _on_state(self, changed: frozenset) -> None:
        st = self.state
        if S.CONFIG in changed or (S.MODEL in changed and st.model is None):
            d = st.latent_dim
            self.sliders.set_dimensions(d)
            # many dimensions: the room goes to the sliders; a few: to the pictures
            self.top_box.setMaximumHeight(190 if d > 6 else 440)
        if S.KL in changed:
            self.sliders.set_kl(st.kl)
        if S.MODEL in changed:
            self.sliders.prior = None if st.model is None else st.model.prior
        if st.model is None:
            if S.MODEL in changed:
                for v in (self.decoded_view, self.hover_view, self.original_view, self.recon_view):
                    v.clear()
                self.original_view.title.setText(ORIGINAL)
            return
        if changed & {S.Z, S.CONFIG} and st.z is not None:
            self.sliders.set_value(st.z)
        if changed & {S.Z, S.MODEL, S.LABEL} and st.z is not None:
            img = st.decode(st.z)
            self.decoded_view.set_image(img)
            self.decoded.emit(img)
        if changed & {S.HOVER, S.MODEL, S.LABEL}:
            if st.hover_z is None:
                self.hover_view.clear()
            else:
                self.hover_view.set_image(st.decode(st.hover_z))
        if changed & {S.SELECTION, S.MODEL, S.POINTS, S.PROBES, S.CLASSES}:
            self._show_selected()

    def _show_selected(self) -> None:
        st = self.state
        i = st.selected
        if st.mu is None or not (0 <= i < len(st.mu)):
            self.original_view.clear()
            self.recon_view.clear()
            self.original_view.title.setText(ORIGINAL)
            return
        self.original_view.set_image(st.probe_image(i))
        c = int(st.labels[i])
        self.recon_view.set_image(st.decode(st.mu[i], c, own=True))  # with its own class, not the chosen one
        self.original_view.title.setText(f"{ORIGINAL} (class {st.class_name(c)})" if st.class_names else ORIGINAL)

    def decoded_image(self) -> np.ndarray | None:
        return self.decoded_view.image()
