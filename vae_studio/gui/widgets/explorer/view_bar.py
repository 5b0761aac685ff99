"""The explorer's top bar: which 2-D view the map shows, the class a conditional model decodes
as, and what is shown. A view of the explorer's state."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSpinBox, QWidget

from ....core import explorer_state as S
from ..elided_label import ElidedLabel

VIEW_MODES = (("pca", "Principal components (PCA)"), ("dims", "Two chosen dimensions"))
NO_MODEL = "No model yet: start training, or open a run."


class ViewBar(QWidget):
    def __init__(self, state: S.ExplorerState, parent: QWidget | None = None):
        super().__init__(parent)
        self.state = state
        bar = QHBoxLayout(self)
        bar.setContentsMargins(0, 0, 0, 0)
        title = QLabel("Latent space")
        title.setObjectName("sectionTitle")
        bar.addWidget(title)
        bar.addSpacing(12)
        bar.addWidget(QLabel("View"))
        self.view_combo = QComboBox()
        for key, text in VIEW_MODES:
            self.view_combo.addItem(text, key)
        self.view_combo.setToolTip(
            "How the D-dimensional codes are shown in 2-D.\n"
            "PCA: the plane in which the encoder means vary most; a click fills the other components with their mean.\n"
            "Two dimensions: plot z_i against z_j; a click takes the other dimensions from the sliders."
        )
        bar.addWidget(self.view_combo)
        self.x_label, self.x_spin = QLabel("x"), QSpinBox()
        self.y_label, self.y_spin = QLabel("y"), QSpinBox()
        for lab, spin, tip in ((self.x_label, self.x_spin, "Latent dimension on the horizontal axis"),
                               (self.y_label, self.y_spin, "Latent dimension on the vertical axis")):
            spin.setPrefix("z")
            spin.setRange(1, 1)
            for w in (lab, spin):
                w.setToolTip(tip)
            bar.addWidget(lab)
            bar.addWidget(spin)
        self.variance_label = ElidedLabel("")
        self.variance_label.setObjectName("caption")
        self.variance_label.setToolTip("Share of the encoder means' variance that the two principal components show")
        bar.addWidget(self.variance_label)
        bar.addSpacing(12)
        self.label_label = QLabel("Decode as")
        self.label_combo = QComboBox()
        tip = ("A conditional VAE decodes z together with a class label: the same z drawn as each class.\n"
               "The map, sliders, grids and draw pad all use the class chosen here.")
        for w in (self.label_label, self.label_combo):
            w.setToolTip(tip)
            w.hide()
        bar.addWidget(self.label_label)
        bar.addWidget(self.label_combo)
        bar.addStretch(1)
        self.info = ElidedLabel(NO_MODEL)
        self.info.setObjectName("caption")
        bar.addWidget(self.info)

        self.view_combo.currentIndexChanged.connect(self._on_view_controls)
        self.x_spin.valueChanged.connect(self._on_view_controls)
        self.y_spin.valueChanged.connect(self._on_view_controls)
        self.label_combo.currentIndexChanged.connect(self._on_label_combo)
        state.subscribe(self._on_state)
        self._fill_label_combo()
        self._show_view_controls()

    # -- state -> controls -------------------------------------------------------------------
    def _on_state(self, changed: frozenset) -> None:
        st = self.state
        if changed & {S.CLASSES, S.CONFIG} or (S.MODEL in changed and st.model is None):
            self._fill_label_combo()
        elif S.LABEL in changed:
            self.label_combo.blockSignals(True)
            self.label_combo.setCurrentIndex(self.label_combo.findData(st.label))
            self.label_combo.blockSignals(False)
        if changed & {S.CONDITIONAL, S.CONFIG, S.MODEL}:
            for w in (self.label_label, self.label_combo):
                w.setVisible(st.conditional)
        if changed & {S.CONFIG, S.PROJECTION, S.MODEL}:
            self._sync_view_controls()
        if S.MODEL in changed:
            snap = st.snapshot
            self.info.setText(NO_MODEL if snap is None else
                              f"step {snap.step:,} · epoch {snap.epoch:g} · {len(st.mu):,} held-out points")

    def _sync_view_controls(self) -> None:
        p = self.state.projection
        widgets = (self.view_combo, self.x_spin, self.y_spin)
        for w in widgets:
            w.blockSignals(True)
        if p is not None:
            d = p.latent_dim
            self.view_combo.setCurrentIndex([k for k, _ in VIEW_MODES].index(p.mode))
            self.x_spin.setRange(1, d)
            self.y_spin.setRange(1, d)
            if p.mode == "dims":
                self.x_spin.setValue(p.dims[0] + 1)
                self.y_spin.setValue(p.dims[1] + 1)
        for w in widgets:
            w.blockSignals(False)
        self._show_view_controls()

    def _show_view_controls(self) -> None:
        p = self.state.projection
        d = self.state.latent_dim
        dims = self.view_combo.currentData() == "dims"
        self.view_combo.setEnabled(d >= 2)
        for w in (self.x_label, self.x_spin, self.y_label, self.y_spin):
            w.setVisible(dims and d > 2)
        self.variance_label.setVisible(p is not None and not dims)
        if p is not None and p.mode == "pca" and p.explained_variance_ratio is not None:
            r = p.explained_variance_ratio
            self.variance_label.setText(
                f"variance shown: PC 1 {100 * r[0]:.0f}% + PC 2 {100 * r[1]:.0f}% = {100 * r[: p.rank].sum():.0f}%"
                if p.rank > 1 else "PC 1 shows all the variance"
            )

    def _fill_label_combo(self) -> None:
        st = self.state
        self.label_combo.blockSignals(True)
        self.label_combo.clear()
        for i in range(st.num_classes):
            self.label_combo.addItem(st.class_name(i), i)
        self.label_combo.setCurrentIndex(self.label_combo.findData(st.label))
        self.label_combo.blockSignals(False)

    # -- controls -> state -------------------------------------------------------------------
    def _on_view_controls(self, *_) -> None:
        st = self.state
        if st.projection is None:
            self._show_view_controls()
            return
        if self.view_combo.currentData() == "dims":
            i, j = self.x_spin.value() - 1, self.y_spin.value() - 1
            if i == j and st.latent_dim > 1:  # keep the two axes different: move the other one
                other = self.y_spin if self.sender() is self.x_spin else self.x_spin
                other.blockSignals(True)
                other.setValue((i + 1) % st.latent_dim + 1)
                other.blockSignals(False)
                i, j = self.x_spin.value() - 1, self.y_spin.value() - 1
            st.set_view("dims", (i, j))
        else:
            st.set_view("pca")

    def _on_label_combo(self, i: int) -> None:
        data = self.label_combo.itemData(i)
        if data is not None:
            self.on_label_chosen(int(data))

    def on_label_chosen(self, label: int) -> None:
        """Replaced by the explorer, which also tells the window about the choice."""
        self.state.set_label(label)
