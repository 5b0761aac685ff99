"""A crisp view of one decoded digit or of a tiled grid of them.

Pixels stay square and sharp at any size (nearest-neighbour, aspect locked): a 28 x 28 digit
blown up to 280 pixels should show its pixels, not a blur that hides what the decoder made.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget


class DigitView(QWidget):
    """A titled image panel. ``set_image`` takes floats in [0, 1], shape (H, W)."""

    def __init__(
        self, title: str = "", tooltip: str = "", min_size: int = 112, placeholder: str = "", parent: QWidget | None = None
    ):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.title = QLabel(title)
        self.title.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.title.setWordWrap(True)
        if not title:
            self.title.hide()
        layout.addWidget(self.title)
        self.view = pg.GraphicsView()
        self.view.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        self.view.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        self.view.setMinimumSize(min_size, min_size)
        self.view.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        # a PlotItem only so that row/column names can live on its axes, laid out in screen
        # pixels; with no names the axes are hidden and it is a bare image
        self.plot = pg.PlotItem(enableMenu=False)
        self.plot.hideButtons()
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.setContentsMargins(0, 0, 0, 0)
        for side in ("left", "bottom", "right", "top"):
            self.plot.hideAxis(side)
        self.box = self.plot.getViewBox()
        self.box.setAspectLocked(True)
        self.box.invertY(True)
        self.box.setDefaultPadding(0.0)
        self.view.setCentralItem(self.plot)
        self.item = pg.ImageItem(axisOrder="row-major")
        self.item.setAutoDownsample(False)
        self.box.addItem(self.item)
        self._image: np.ndarray | None = None
        # shown while there is no image, so an empty panel says what will appear in it
        self._placeholder = pg.TextItem(placeholder, color=self.palette().color(self.foregroundRole()), anchor=(0.5, 0.5))
        self._placeholder.setOpacity(0.6)
        self._placeholder.setPos(14, 14)
        self.box.addItem(self._placeholder, ignoreBounds=True)
        self.box.setRange(xRange=(0, 28), yRange=(0, 28), padding=0)
        layout.addWidget(self.view, 1)
        if tooltip:
            self.setToolTip(tooltip)

    def sizeHint(self) -> QSize:
        return QSize(200, 200)

    def image(self) -> np.ndarray | None:
        """The array last shown (what the person sees), or None."""
        return self._image

    def set_placeholder(self, text: str) -> None:
        """What the empty panel says will appear in it."""
        self._placeholder.setText(text)

    def set_image(self, image: np.ndarray | None) -> None:
        if image is None:
            self.clear()
            return
        a = np.asarray(image, dtype=np.float32)
        if a.ndim == 3 and a.shape[0] in (1, 3):  # (C, H, W) -> (H, W[, C])
            a = a[0] if a.shape[0] == 1 else np.moveaxis(a, 0, -1)
        reshaped = self._image is None or self._image.shape != a.shape
        self._image = a
        self._placeholder.hide()
        self.item.setImage(a, levels=(0.0, 1.0), autoLevels=False)
        if reshaped:
            self._fit()

    def clear(self) -> None:
        self._image = None
        self.item.clear()
        self.set_labels([], [])
        self._placeholder.show()
        self.box.setRange(xRange=(0, 28), yRange=(0, 28), padding=0)

    def set_labels(self, rows: list[tuple[float, str]], cols: list[tuple[float, str]]) -> None:
        """Names beside the image: ``rows`` on the left (y, text), ``cols`` on top (x, text), with
        positions in image pixels. A traversal or interpolation grid names its rows and columns."""
        for side, ticks in (("left", rows), ("top", cols)):
            axis = self.plot.getAxis(side)
            if ticks:
                axis.setTicks([list(ticks), []])
                axis.setStyle(tickLength=0)
                axis.setPen(pg.mkPen(None))
                axis.setTextPen(self.palette().color(self.foregroundRole()))
                self.plot.showAxis(side)
            else:
                self.plot.hideAxis(side)

    def _fit(self) -> None:
        if self._image is None:
            return
        h, w = self._image.shape[:2]
        self.box.setRange(xRange=(0, w), yRange=(0, h), padding=0)
