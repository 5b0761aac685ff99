"""Rows of small clickable digits: the least and most typical images and those just flagged."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QGridLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from ..qimage import to_qimage

THUMB = 34  # screen pixels of a 28 x 28 digit: big enough to read, eight fit in a narrow column


def pixmap(image: np.ndarray, side: int = THUMB) -> QPixmap:
    """A float image in [0, 1], grey (H, W) or (C, H, W), as a crisp pixmap ``side`` pixels wide."""
    q = to_qimage(image)
    return QPixmap.fromImage(q.scaled(side, side, Qt.AspectRatioMode.KeepAspectRatio,
                                      Qt.TransformationMode.FastTransformation))


class Thumbnail(QLabel):
    clicked = Signal(object)  # the pick shown

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.pick = None
        self.setFixedSize(THUMB + 2, THUMB + 2)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setObjectName("thumbnail")

    def show_pick(self, pick, image: np.ndarray | None, tooltip: str) -> None:
        self.pick = pick
        if pick is None or image is None:
            self.clear()
            self.setToolTip("")
            self.setCursor(Qt.CursorShape.ArrowCursor)
            return
        self.setPixmap(pixmap(image))
        self.setToolTip(tooltip)
        self.setCursor(Qt.CursorShape.PointingHandCursor)

    def mousePressEvent(self, ev) -> None:
        if ev.button() == Qt.MouseButton.LeftButton and self.pick is not None:
            self.clicked.emit(self.pick)
        super().mousePressEvent(ev)


class Gallery(QWidget):
    """Titled rows of ``per_row`` thumbnails; ``picked(pick)`` when one is clicked."""

    picked = Signal(object)

    def __init__(self, rows: list[tuple[str, str, str]], per_row: int = 8, parent: QWidget | None = None):
        """``rows``: (key, title, tooltip) each."""
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Preferred)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(1)
        self.titles: dict[str, QLabel] = {}
        self.thumbs: dict[str, list[Thumbnail]] = {}
        for key, title, tip in rows:
            label = QLabel(title)
            label.setObjectName("caption")
            label.setToolTip(tip)
            layout.addWidget(label)
            grid = QGridLayout()
            grid.setSpacing(1)
            grid.setContentsMargins(0, 0, 0, 2)
            thumbs = []
            for i in range(per_row):
                t = Thumbnail()
                t.clicked.connect(self.picked)
                grid.addWidget(t, 0, i)
                thumbs.append(t)
            layout.addLayout(grid)
            self.titles[key] = label
            self.thumbs[key] = thumbs
        layout.addStretch(1)

    def set_row(self, key: str, items: list[tuple[object, np.ndarray, str]]) -> None:
        """(pick, image, tooltip) per thumbnail; the rest of the row is emptied."""
        for i, t in enumerate(self.thumbs[key]):
            if i < len(items):
                t.show_pick(*items[i])
            else:
                t.show_pick(None, None, "")

    def clear(self) -> None:
        for key in self.thumbs:
            self.set_row(key, [])
