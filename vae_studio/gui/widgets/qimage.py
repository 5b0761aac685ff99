"""A picture the core made (floats in [0, 1]) as a QImage that owns its pixels, and a QImage as PNG bytes."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QBuffer, QByteArray, QIODevice
from PySide6.QtGui import QImage

from ...core.errors import OutputError


def to_qimage(picture: np.ndarray) -> QImage:
    """Grey (H, W) or (1, H, W), colour (3, H, W) or (H, W, 3), floats in [0, 1], as 8-bit pixels."""
    a = np.clip(np.rint(np.asarray(picture, dtype=np.float32) * 255.0), 0, 255).astype(np.uint8)
    if a.ndim == 3 and a.shape[0] in (1, 3):
        a = a[0] if a.shape[0] == 1 else np.moveaxis(a, 0, -1)
    if a.ndim == 3 and a.shape[-1] == 1:
        a = a[..., 0]
    a = np.ascontiguousarray(a)
    h, w = a.shape[:2]
    if a.ndim == 2:
        return QImage(a.data, w, h, w, QImage.Format.Format_Grayscale8).copy()  # a copy: the array is temporary
    return QImage(a.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def png_bytes(image: QImage) -> bytes:
    """The image encoded as PNG, in memory: written to disk in one atomic step afterwards."""
    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buf, "PNG"):
        raise OutputError("could not encode the picture as PNG")
    buf.close()
    return bytes(data.data())
