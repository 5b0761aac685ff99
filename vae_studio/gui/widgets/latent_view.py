"""The latent-space area: a live map of the probe set's posterior means, and room for the decoder.

For now the map shows the first two latent dimensions of each snapshot, coloured by class; the
decoded-digit view beside it is the place the next step of the project fills (click to decode,
one slider per dimension).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QLabel, QSplitter, QVBoxLayout, QWidget

from .loss_plot import _legend_brush, cache_static_parts

# ten distinguishable class colours (Tableau 10)
CLASS_COLORS = ("#4E79A7", "#F28E2B", "#E15759", "#76B7B2", "#59A14F", "#EDC948", "#B07AA1", "#FF9DA7", "#9C755F", "#BAB0AC")


class LatentMap(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        title = QLabel("Latent space")
        title.setObjectName("sectionTitle")
        self.caption = QLabel("Held-out digits appear here, placed by their code z, once training starts.")
        self.caption.setObjectName("caption")
        self.caption.setWordWrap(True)
        layout.addWidget(title)
        layout.addWidget(self.caption)
        self.view = pg.PlotWidget()
        self.view.setToolTip("Each point is a held-out image at the mean of its posterior q(z|x), coloured by its class")
        self.view.setAspectLocked(True)
        self.view.showGrid(x=True, y=True, alpha=0.15)
        self.view.setLabel("bottom", "z₁")
        self.view.setLabel("left", "z₂")
        layout.addWidget(self.view, 1)
        self._brushes = [pg.mkBrush(c) for c in CLASS_COLORS]  # one brush per class, not per point
        self.scatter = pg.ScatterPlotItem(size=5, pen=None)
        self.view.addItem(self.scatter)
        self.legend = self.view.addLegend(offset=(5, 5), labelTextSize="8pt", brush=_legend_brush())
        self._legend_classes: tuple[str, ...] | None = None
        cache_static_parts(self.view.getPlotItem())
        self._version = -1

    def set_classes(self, names: tuple[str, ...]) -> None:
        if names == self._legend_classes:
            return
        self._legend_classes = names
        self.legend.clear()
        self.legend.setColumnCount(5 if len(names) > 5 else 1)
        for i, name in enumerate(names):
            sample = pg.ScatterPlotItem(size=7, pen=None, brush=self._brushes[i % len(self._brushes)])
            self.legend.addItem(sample, name)

    def show_snapshot(self, mu: np.ndarray | None, labels: np.ndarray | None, step: int = 0) -> None:
        if mu is None or len(mu) == 0:
            self.scatter.setData([], [])
            return
        x = mu[:, 0]
        y = mu[:, 1] if mu.shape[1] > 1 else np.zeros_like(x)
        brushes = [self._brushes[int(c) % len(self._brushes)] for c in labels]
        self.scatter.setData(x, y, brush=brushes)
        dims = mu.shape[1]
        more = f" of {dims}" if dims > 2 else ""
        self.caption.setText(f"{len(x):,} held-out images at step {step:,}: dimensions 1 and 2{more} of the posterior mean")


class DecoderPlaceholder(QFrame):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("placeholder")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QVBoxLayout(self)
        title = QLabel("Decoded digit")
        title.setObjectName("sectionTitle")
        note = QLabel("Coming next: click the latent map to decode that point, and move one slider per latent dimension.")
        note.setObjectName("caption")
        note.setWordWrap(True)
        note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(title)
        layout.addStretch(1)
        layout.addWidget(note)
        layout.addStretch(1)


class LatentArea(QSplitter):
    """Map on the left, decoder on the right; a splitter so either can be given the room."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.map = LatentMap()
        self.decoder = DecoderPlaceholder()
        self.addWidget(self.map)
        self.addWidget(self.decoder)
        self.setStretchFactor(0, 3)
        self.setStretchFactor(1, 2)
        self.setChildrenCollapsible(False)
