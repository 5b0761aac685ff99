"""Figures for a paper: a plot or a generated picture as a PNG at a chosen scale, or as SVG.

What is exported is the plot's graphics items (pyqtgraph's ``ImageExporter`` / ``SVGExporter``),
never the widgets around them: no check boxes, no readouts, no buttons. Each figure gets a title
and axis labels. A plot is titled for the export only and put back as it was; its axes, which are
cached as pixmaps on screen (see ``plot_parts``), are drawn afresh so that they stay sharp at 2x.

Generated pictures (samples, manifold, traversals, ...) become a plot of their own, made offscreen:
the picture as an image item with its row and column names as tick labels, pixel-sharp at any
scale. Traversals and interpolations also export as animated GIFs (:mod:`core.animation`).
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
from pathlib import Path

import numpy as np
import pyqtgraph as pg
import pyqtgraph.exporters  # noqa: F401 - registers the exporters
from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import QApplication, QGraphicsItem

from ...core.atomic import atomic_write
from ...core.errors import ConfigError, OutputError
from .qimage import png_bytes

SUFFIXES = (".png", ".svg")
SCALES = (1, 2, 4, 8)
DEFAULT_SCALE = 2
MIN_FIGURE_PX = 300  # a small grid is shown enlarged, so its names and title fit beside it
TITLE_SIZE = "11pt"


def check_suffix(path: str | os.PathLike, allowed=SUFFIXES) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in allowed:
        kinds = ", ".join(allowed)
        raise ConfigError(f"export to one of {kinds}, not {Path(path).name!r}")
    return suffix


def export_plot(target: QGraphicsItem, path: str | os.PathLike, *, title: str, scale: float = DEFAULT_SCALE,
                titled: pg.PlotItem | None = None) -> tuple[int, int]:
    """Write ``target`` (a PlotItem, or a GraphicsLayout of plots, shown in a view) to ``path``
    (.png at ``scale`` times its size on screen, or .svg) with ``title`` over ``titled`` (the
    PlotItem on top; ``target`` itself when it is one). Returns the size written, in pixels."""
    suffix = check_suffix(path)
    titled = titled if titled is not None else target
    with _for_export(target, titled, title):
        if suffix == ".svg":
            exporter = pg.exporters.SVGExporter(target)
            with _closed_paths_spelled_out():
                data = exporter.export(toBytes=True)
            size = (int(exporter.params["width"]), int(exporter.params["height"]))
        else:
            exporter = pg.exporters.ImageExporter(target)
            exporter.params["width"] = max(1, int(round(exporter.params["width"] * scale)))  # the height follows
            image = exporter.export(toBytes=True)
            data = png_bytes(image)
            size = (image.width(), image.height())
    _write(path, data)
    return size


@contextlib.contextmanager
def _for_export(target: QGraphicsItem, titled: pg.PlotItem, title: str):
    scene = target.scene()
    cached = [(item, item.cacheMode()) for item in scene.items() if item.cacheMode() != QGraphicsItem.CacheMode.NoCache]
    buttons_hidden = titled.buttonsHidden
    for item, _ in cached:  # a cached pixmap would be scaled up, blurred
        item.setCacheMode(QGraphicsItem.CacheMode.NoCache)
    titled.hideButtons()
    titled.setTitle(title, size=TITLE_SIZE)
    _settle(target)
    try:
        yield
    finally:
        titled.setTitle(None)
        if not buttons_hidden:
            titled.showButtons()
        for item, mode in cached:
            item.setCacheMode(mode)
        _settle(target)


@contextlib.contextmanager
def _closed_paths_spelled_out():
    """pyqtgraph's SVG exporter reads a path as ``x,y`` pairs, and the "Z" (close the path) that
    Qt 6.11 writes stops it with a ValueError; a "Z" becomes a line back to where its subpath
    began, which draws the same shape."""
    module = sys.modules["pyqtgraph.exporters.SVGExporter"]
    original = module.correctCoordinates

    def correct(node, defs, item, options):
        for path in node.getElementsByTagName("path"):
            d = path.getAttribute("d")
            if "Z" in d:
                path.setAttribute("d", _without_z(d))
        return original(node, defs, item, options)

    module.correctCoordinates = correct
    try:
        yield
    finally:
        module.correctCoordinates = original


def _without_z(d: str) -> str:
    out, start = [], None
    for token in d.replace("Z", " Z ").split():
        if token == "Z":
            if start is not None:
                out.append("L" + start)
            continue
        if token.startswith("M"):
            start = token[1:]
        out.append(token)
    return " ".join(out)


def _settle(target: QGraphicsItem) -> None:
    """Apply layout changes now: Qt defers them to the next event loop turn, after the export."""
    item = target
    while item is not None:
        layout = getattr(item, "layout", None)
        if callable(getattr(layout, "activate", None)):
            layout.activate()
        item = item.parentItem()
    for child in target.childItems():
        layout = getattr(child, "layout", None)
        if callable(getattr(layout, "activate", None)):
            layout.activate()
    target.scene().prepareForPaint()


def _write(path: str | os.PathLike, data: bytes) -> None:
    try:
        with atomic_write(path) as f:  # never a half-written file
            f.write(data)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None


# -- generated pictures ------------------------------------------------------------------------
class GridFigure:
    """A tiled picture as an offscreen plot: title, axis labels, row and column names as ticks.

    ``cell`` (h, w) and ``padding`` place the names at the centres of the cells they name;
    ``extent`` ((x0, x1), (y0, y1)) instead puts the picture at those coordinates (the latent
    manifold), with row 0 at the top."""

    def __init__(self, picture: np.ndarray, *, title: str, cell: tuple[int, int], padding: int,
                 rows: list[str] = (), cols: list[str] = (), row_label: str = "", col_label: str = "",
                 extent: tuple[tuple[float, float], tuple[float, float]] | None = None):
        a = np.asarray(picture, dtype=np.float32)
        if a.ndim == 3:
            a = a[0] if a.shape[0] == 1 else np.moveaxis(a, 0, -1)
        a = np.clip(a * 255.0, 0, 255).astype(np.uint8)
        h, w = a.shape[:2]
        self.view = pg.GraphicsLayoutWidget()
        self.view.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
        self.view.setBackground(pg.getConfigOption("background"))
        self.plot: pg.PlotItem = self.view.addPlot()
        p = self.plot
        p.setTitle(title, size=TITLE_SIZE)
        p.hideButtons()
        p.setMenuEnabled(False)
        p.setMouseEnabled(x=False, y=False)
        image = pg.ImageItem(a[::-1] if extent is not None else a, axisOrder="row-major", levels=(0, 255))
        p.addItem(image)
        if extent is not None:
            (x0, x1), (y0, y1) = extent
            image.setRect(QRectF(x0, y0, x1 - x0, y1 - y0))
            p.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)
        else:
            p.invertY(True)
            p.setAspectLocked(True)
            p.setRange(xRange=(0, w), yRange=(0, h), padding=0)
            ch, cw = cell
            p.getAxis("bottom").setTicks([_ticks(cols, cw, padding)])
            p.getAxis("left").setTicks([_ticks(rows, ch, padding)])
        for name, names, label in (("bottom", cols, col_label), ("left", rows, row_label)):
            if label:
                p.setLabel(name, label)
            if extent is None and not any(names):
                p.hideAxis(name) if not label else p.getAxis(name).setStyle(showValues=False)
        # the picture on screen at a whole zoom, at least MIN_FIGURE_PX on its long side
        zoom = max(1, math.ceil(MIN_FIGURE_PX / max(h, w)))
        left = 90 if any(rows) or row_label else 40
        self.view.resize(w * zoom + left + 20, h * zoom + 90)
        self.view.show()
        QApplication.processEvents()

    def export(self, path: str | os.PathLike, scale: float = DEFAULT_SCALE) -> tuple[int, int]:
        return export_plot(self.plot, path, title=self.plot.titleLabel.text, scale=scale)

    def close(self) -> None:
        self.view.close()
        self.view.deleteLater()


def _ticks(names: list[str], size: int, padding: int) -> list[tuple[float, str]]:
    return [(padding + i * (size + padding) + size / 2, str(n)) for i, n in enumerate(names) if n]


def export_grid(picture: np.ndarray, path: str | os.PathLike, *, scale: float = DEFAULT_SCALE, **figure) -> tuple[int, int]:
    """One generated picture as a titled figure (see :class:`GridFigure`) in ``path`` (.png or .svg)."""
    check_suffix(path)
    fig = GridFigure(picture, **figure)
    try:
        return fig.export(path, scale)
    finally:
        fig.close()
