"""A digit view whose pixels can be rubbed out with the mouse."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPointF, Qt, Signal

from .decoder_view import DigitView


class EraseView(DigitView):
    """While ``erasing`` is on, a drag over the image reports where it went in image pixels:
    ``rubbed(x, y)`` for each mouse position, ``strokeFinished`` when the button is released."""

    rubbed = Signal(float, float)
    strokeFinished = Signal()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.erasing = False
        self._down = False
        self.view.viewport().installEventFilter(self)

    def set_erasing(self, on: bool) -> None:
        self.erasing = bool(on)
        self.view.viewport().setCursor(Qt.CursorShape.CrossCursor if on else Qt.CursorShape.ArrowCursor)

    def image_point(self, widget_pos: QPointF) -> tuple[float, float]:
        """Image-pixel coordinates (x right, y down) of a point of the view's viewport."""
        p = self.box.mapSceneToView(self.view.mapToScene(widget_pos.toPoint()))
        return float(p.x()), float(p.y())

    def eventFilter(self, obj, ev) -> bool:
        if not self.erasing or self._image is None:
            return False
        t = ev.type()
        if t == QEvent.Type.MouseButtonPress and ev.button() == Qt.MouseButton.LeftButton:
            self._down = True
            self.rubbed.emit(*self.image_point(ev.position()))
            return True
        if t == QEvent.Type.MouseMove and self._down:
            self.rubbed.emit(*self.image_point(ev.position()))
            return True
        if t == QEvent.Type.MouseButtonRelease and self._down:
            self._down = False
            self.strokeFinished.emit()
            return True
        return False
