"""A tiled grid of decoded images with its row and column names beside the cells they name.

The names are laid out with the cells, in screen pixels: a column's name sits just above its
column, a row's name just left of its row, wherever the scaled picture ends up. When the cells
are too narrow for every name, every second (third...) one is shown, so names never overlap.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QSizePolicy, QWidget

from ..qimage import to_qimage

GAP = 4  # pixels between a name and its cells
NAME_SPACING = 6  # least room between two neighbouring names


class GridView(QWidget):
    """``set_grid(picture, rows, cols, cell, padding)`` shows one tiled picture, (H, W) or
    (C, H, W) floats in [0, 1], made of ``rows`` x ``cols`` cells of ``cell`` = (h, w) pixels
    with ``padding`` pixels around each."""

    def __init__(self, placeholder: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(120, 100)
        self._placeholder = placeholder
        self._qimage: QImage | None = None
        self._picture: np.ndarray | None = None
        self._shape = (0, 0)  # rows, columns
        self._cell = (1, 1)
        self._padding = 0
        self._row_names: list[str] = []
        self._col_names: list[str] = []

    def sizeHint(self) -> QSize:
        return QSize(320, 320)

    # -- contents ----------------------------------------------------------------------------
    def set_grid(self, picture: np.ndarray, rows: int, cols: int, cell: tuple[int, int], padding: int,
                 row_names: list[str] | None = None, col_names: list[str] | None = None) -> None:
        a = np.asarray(picture, dtype=np.float32)
        if a.ndim == 3:
            a = a[0] if a.shape[0] == 1 else np.moveaxis(a, 0, -1)
        self._picture = a
        self._qimage = to_qimage(a)
        self._shape = (int(rows), int(cols))
        self._cell = (int(cell[0]), int(cell[1]))
        self._padding = int(padding)
        self._row_names = list(row_names or [])
        self._col_names = list(col_names or [])
        self.update()

    def clear(self) -> None:
        self._picture = self._qimage = None
        self._shape = (0, 0)
        self._row_names, self._col_names = [], []
        self.update()

    def image(self) -> np.ndarray | None:
        """The picture shown, or None."""
        return self._picture

    def set_placeholder(self, text: str) -> None:
        self._placeholder = text
        self.update()

    # -- geometry ----------------------------------------------------------------------------
    def picture_rect(self) -> QRectF:
        """Where the picture is drawn, in this widget's pixels (empty before a picture)."""
        return self._layout()[0]

    def cell_rect(self, row: int, col: int) -> QRectF:
        """Where cell (row, col) is drawn, in this widget's pixels."""
        pic, scale = self._layout()[:2]
        h, w = self._cell
        p = self._padding
        return QRectF(pic.left() + (p + col * (w + p)) * scale, pic.top() + (p + row * (h + p)) * scale, w * scale, h * scale)

    def column_name_rects(self) -> list[tuple[int, str, QRectF]]:
        """(column, name, rectangle) of each column name shown."""
        return self._layout()[2]

    def row_name_rects(self) -> list[tuple[int, str, QRectF]]:
        """(row, name, rectangle) of each row name shown."""
        return self._layout()[3]

    def _layout(self):
        empty = (QRectF(), 1.0, [], [])
        if self._qimage is None:
            return empty
        fm = self.fontMetrics()
        line = fm.height()
        rows = [(i, t) for i, t in enumerate(self._row_names[: self._shape[0]]) if t]
        cols = [(i, t) for i, t in enumerate(self._col_names[: self._shape[1]]) if t]
        left = max((fm.horizontalAdvance(t) for _, t in rows), default=0)
        left = left + GAP if rows else 0
        top = line + GAP if cols else 0
        gh, gw = self._qimage.height(), self._qimage.width()
        widest = max((fm.horizontalAdvance(t) for _, t in cols), default=0)
        # the last column's name is centred on its cell: room for the half that overhangs
        right = widest // 2
        room_w, room_h = self.width() - left - right, self.height() - top
        if room_w <= 0 or room_h <= 0 or gw == 0 or gh == 0:
            return empty
        scale = min(room_w / gw, room_h / gh)
        pw, ph = gw * scale, gh * scale
        x0 = (self.width() - (left + pw + right)) / 2 + left
        y0 = top  # right under the controls: a short grid does not float in the middle of the pane
        pic = QRectF(x0, y0, pw, ph)
        h, w = self._cell
        p = self._padding
        pitch_x, pitch_y = (w + p) * scale, (h + p) * scale
        col_rects = []
        stride = _stride(widest + NAME_SPACING, pitch_x, [i for i, _ in cols])
        for i, t in cols:
            if i % stride:
                continue
            cx = x0 + (p + i * (w + p) + w / 2) * scale
            tw = fm.horizontalAdvance(t)
            col_rects.append((i, t, QRectF(cx - tw / 2, y0 - GAP - line, tw, line)))
        row_rects = []
        stride = _stride(line, pitch_y, [i for i, _ in rows])
        for i, t in rows:
            if i % stride:
                continue
            cy = y0 + (p + i * (h + p) + h / 2) * scale
            tw = fm.horizontalAdvance(t)
            row_rects.append((i, t, QRectF(x0 - GAP - tw, cy - line / 2, tw, line)))
        return pic, scale, col_rects, row_rects

    # -- painting ----------------------------------------------------------------------------
    def paintEvent(self, ev) -> None:
        p = QPainter(self)
        fg = self.palette().color(self.foregroundRole())
        if self._qimage is None:
            if self._placeholder:
                p.setOpacity(0.6)
                p.setPen(fg)
                p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self._placeholder)
            p.end()
            return
        pic, _, col_rects, row_rects = self._layout()
        # nearest neighbour: a decoded digit's pixels stay visible at any size
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        p.drawImage(pic, self._qimage)
        p.setPen(fg)
        for _, t, r in col_rects:
            p.drawText(r, Qt.AlignmentFlag.AlignCenter, t)
        for _, t, r in row_rects:
            p.drawText(r, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, t)
        p.end()


def _stride(need: float, pitch: float, indices: list[int]) -> int:
    """Show every k-th name, k the least that gives each name ``need`` pixels."""
    if pitch <= 0:
        return max(1, len(indices))
    k = 1
    while k * pitch < need and k < max(1, len(indices)):
        k += 1
    # names that are far apart anyway (an interpolation's A and B) need no thinning
    if len(indices) > 1 and min(np.diff(indices)) * pitch >= need:
        return 1
    return k
