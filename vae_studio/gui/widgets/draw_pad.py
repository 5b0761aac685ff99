"""A square to draw a digit in with the mouse, read back the way MNIST digits were made."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from ...core.drawing import center_like_mnist

PAD = 280  # 10 screen pixels per MNIST pixel
STROKE = 22  # MNIST strokes are 2-3 pixels wide at 28 x 28 after scaling to the 20-pixel box


class DrawPad(QWidget):
    """White ink on black, like MNIST. ``strokeFinished`` fires when the mouse is released and
    ``changed`` while drawing; ``image28()`` is what the encoder sees."""

    changed = Signal()
    strokeFinished = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setFixedSize(PAD, PAD)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setToolTip(
            "Draw a digit with the mouse. It is cropped, scaled to fit 20 x 20 pixels and centred by its "
            "centre of mass in 28 x 28, as MNIST's digits were, then encoded."
        )
        self._canvas = QImage(PAD, PAD, QImage.Format.Format_Grayscale8)
        self._canvas.fill(0)
        self._last: QPointF | None = None
        self._pen = QPen(QColor(255, 255, 255), STROKE, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin)

    def sizeHint(self) -> QSize:
        return QSize(PAD, PAD)

    # -- contents ----------------------------------------------------------------------------
    def clear(self) -> None:
        self._canvas.fill(0)
        self._last = None
        self.update()
        self.changed.emit()
        self.strokeFinished.emit()

    def is_empty(self) -> bool:
        return not self.image().any()

    def image(self) -> np.ndarray:
        """The canvas as floats in [0, 1], (280, 280), ink high."""
        ptr = self._canvas.constBits()
        a = np.frombuffer(ptr, dtype=np.uint8).reshape(PAD, self._canvas.bytesPerLine())[:, :PAD]
        return a.astype(np.float32) / 255.0

    def image28(self) -> np.ndarray:
        return self.image_at(28)

    def image_at(self, size: int) -> np.ndarray:
        """What a model of ``size`` x ``size`` grey images sees: MNIST's 20-in-28 box, scaled."""
        return center_like_mnist(self.image(), size=size, box=max(1, round(size * 20 / 28)))

    def draw_line(self, a: QPointF, b: QPointF) -> None:
        p = QPainter(self._canvas)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        p.setPen(self._pen)
        if a == b:
            p.drawPoint(a)
        else:
            p.drawLine(a, b)
        p.end()
        self.update()

    def draw_polyline(self, points: list[tuple[float, float]]) -> None:
        """Draw a stroke through pad coordinates, as the mouse would (used to script a drawing)."""
        pts = [QPointF(x, y) for x, y in points]
        for a, b in zip(pts[:1] + pts[:-1], pts):
            self.draw_line(a, b)
        self.changed.emit()
        self.strokeFinished.emit()

    # -- events ------------------------------------------------------------------------------
    def mousePressEvent(self, ev) -> None:
        if ev.button() == Qt.MouseButton.LeftButton:
            self._last = ev.position()
            self.draw_line(self._last, self._last)
            self.changed.emit()

    def mouseMoveEvent(self, ev) -> None:
        if self._last is not None and ev.buttons() & Qt.MouseButton.LeftButton:
            pos = ev.position()
            self.draw_line(self._last, pos)
            self._last = pos
            self.changed.emit()

    def mouseReleaseEvent(self, ev) -> None:
        if ev.button() == Qt.MouseButton.LeftButton and self._last is not None:
            self.draw_line(self._last, ev.position())
            self._last = None
            self.strokeFinished.emit()

    def paintEvent(self, ev) -> None:
        p = QPainter(self)
        p.drawImage(QPoint(0, 0), self._canvas)
        # MNIST's 20 x 20 box inside the 28 x 28 frame: a guide for size, not a limit
        guide = QColor(255, 255, 255, 40)
        p.setPen(QPen(guide, 1, Qt.PenStyle.DashLine))
        m = PAD * 4 / 28
        p.drawRect(QRectF(m, m, PAD - 2 * m, PAD - 2 * m))
        p.end()
