"""The Draw tab: a pad to draw a digit on, what the encoder sees of it, its reconstruction and
its -ELBO. The drawing goes into the explorer's state, which encodes it; the map shows its
posterior from there."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ....core import explorer_state as S
from ..decoder_view import DigitView
from ..draw_pad import DrawPad

NOTHING_DRAWN = "−ELBO: draw something first."
DRAW_CAPTION = "Draw a digit. It is encoded, and its posterior (★ with a ±1σ ellipse) appears on the map."
COLOUR_CAPTION = ("The pad draws grey ink, and this model reads colour images: drawing is for models of grey "
                  "images (Colour: Grey in the Data settings).")


class DrawTab(QWidget):
    def __init__(self, state: S.ExplorerState, parent: QWidget | None = None):
        super().__init__(parent)
        self.state = state
        gl = QHBoxLayout(self)
        gl.setContentsMargins(4, 4, 4, 4)
        left = QVBoxLayout()
        self.caption = cap = QLabel(DRAW_CAPTION)
        cap.setObjectName("caption")
        cap.setWordWrap(True)
        cap.setMaximumWidth(280)
        left.addWidget(cap)
        self.pad = DrawPad()
        left.addWidget(self.pad)
        self.clear_button = QPushButton("Clear")
        self.clear_button.setToolTip("Wipe the pad and remove the drawing's posterior from the map")
        left.addWidget(self.clear_button)
        left.addStretch(1)
        gl.addLayout(left)
        right = QVBoxLayout()
        pair = QHBoxLayout()
        self.input_view = DigitView("Encoder input, 28×28", "Your drawing cropped, scaled and centred the way MNIST digits were",
                                    min_size=96, placeholder="draw on the pad")
        self.drawn_recon_view = DigitView("Reconstruction", "Decoded from the posterior mean of your drawing", min_size=96,
                                          placeholder="draw on the pad")
        pair.addWidget(self.input_view)
        pair.addWidget(self.drawn_recon_view)
        pair_box = QWidget()
        pair_box.setLayout(pair)
        pair_box.setMaximumHeight(240)
        right.addWidget(pair_box, 1)
        self.elbo_label = QLabel(NOTHING_DRAWN)
        self.elbo_label.setWordWrap(True)
        self.elbo_label.setToolTip(
            "−ELBO = reconstruction + KL, in nats: an upper bound on −log p(x). The lower it is, the more typical "
            "the model finds your drawing; compare with the held-out digits' median."
        )
        right.addWidget(self.elbo_label)
        right.addStretch(1)
        gl.addLayout(right, 1)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(60)  # live while drawing, ~16 encodes a second at most
        self._timer.timeout.connect(self.encode_drawing)
        self.pad.changed.connect(self._timer.start)
        self.pad.strokeFinished.connect(self.encode_drawing)
        self.clear_button.clicked.connect(self.pad.clear)
        state.subscribe(self._on_state)

    def encode_drawing(self) -> None:
        """Hand what is on the pad to the state, which encodes it."""
        self._timer.stop()
        model = self.state.model
        size = model.cfg.image_shape[-1] if model is not None else 28
        x = self.pad.image_at(size)
        self.input_view.set_image(x)
        self.state.set_drawing(x)

    def _on_state(self, changed: frozenset) -> None:
        if not changed & {S.DRAWN, S.MODEL, S.LABEL, S.CONFIG}:
            return
        st = self.state
        colour = st.model is not None and not st.drawable()
        self.pad.setEnabled(not colour)
        self.clear_button.setEnabled(not colour)
        self.caption.setText(COLOUR_CAPTION if colour else DRAW_CAPTION)
        if S.CONFIG in changed and st.drawable():
            size = st.model.cfg.image_shape[-1]
            self.input_view.title.setText(f"Encoder input, {size}×{size}")
            if not self.pad.is_empty() and (st.drawing is None or st.drawing.shape[-1] != size):
                self.encode_drawing()  # the same drawing at the new model's size
                return
        if st.drawn is None or st.model is None:
            self.drawn_recon_view.clear()
            self.elbo_label.setText(NOTHING_DRAWN)
            if st.drawing is None:
                self.input_view.clear()
            else:
                self.input_view.set_image(st.drawing)
            return
        self.drawn_recon_view.set_image(st.decode(st.drawn[0]))
        nelbo, rec, kl = st.drawn_score
        typical = st.typical_neg_elbo()
        ref = f"<br>Held-out digits: median {typical:.1f} nats." if typical is not None else ""
        self.elbo_label.setText(
            f"<b>−ELBO {nelbo:.1f} nats</b> = reconstruction {rec:.1f} + KL {kl:.1f}.{ref}"
            "<br>Lower is more typical of the training data."
        )
