"""File > Export: the loss plot, the latent map, the KL chart and the generated pictures as figures
(PNG at the chosen scale, or SVG), traversals and interpolations as animated GIFs.

The figures are made by ``widgets/figure_export.py`` from the plots' graphics items, so what is
written is the plot with a title and its axis labels, never the buttons and readouts around it.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QFileDialog, QMenu

from ..core.errors import VaeStudioError
from .widgets import figure_export

FIGURE_KINDS = "PNG image (*.png);;SVG drawing (*.svg)"
SCALE_KEY = "export/scale"


class ExportMenu(QObject):
    def __init__(self, window, file_menu: QMenu):
        super().__init__(window)
        self.window = window
        menu = file_menu.addMenu("&Export")
        menu.setToolTipsVisible(True)
        self.menu = menu
        self.actions: dict[str, QAction] = {}
        for key, text, tip in (
            ("loss", "&Loss plot…", "The loss curves as a figure: PNG or SVG, with a title and axis labels"),
            ("map", "Latent &map…", "The latent map as a figure: PNG or SVG"),
            ("kl", "&KL per dimension…", "The KL-per-dimension chart as a figure: PNG or SVG"),
            ("picture", "&Generated picture…", "The picture shown in the Generate tab as a figure: PNG or SVG"),
            ("traversal_gif", "&Traversal animation (GIF)…", "Every dimension swept from −3 to +3 and back, looping"),
            ("interpolation_gif", "&Interpolation animation (GIF)…", "From A to B and back, straight line and slerp side by side"),
        ):
            action = QAction(text, window, triggered=lambda _=False, k=key: self.ask(k))
            action.setToolTip(tip)
            menu.addAction(action)
            self.actions[key] = action
        menu.addSeparator()
        scale_menu = menu.addMenu("&Scale of PNG and GIF")
        group = QActionGroup(self)
        self.scale_actions: dict[int, QAction] = {}
        for s in figure_export.SCALES:
            a = QAction(f"{s}×", window, checkable=True, triggered=lambda _=False, v=s: self.set_scale(v))
            group.addAction(a)
            scale_menu.addAction(a)
            self.scale_actions[s] = a
        try:
            stored = int(window.settings_store.value(SCALE_KEY, figure_export.DEFAULT_SCALE))
        except (TypeError, ValueError):
            stored = figure_export.DEFAULT_SCALE
        self.set_scale(stored if stored in figure_export.SCALES else figure_export.DEFAULT_SCALE)

    # -- scale ---------------------------------------------------------------------------------
    @property
    def scale(self) -> int:
        return self._scale

    def set_scale(self, scale: int) -> None:
        self._scale = int(scale)
        self.scale_actions[self._scale].setChecked(True)
        self.window.settings_store.setValue(SCALE_KEY, self._scale)
        for page in self.window.explorer.generation.all_pages():
            page.export_scale = self._scale

    # -- exports (also called by tests and scripts with a path) -------------------------------
    def export(self, what: str, path: str | os.PathLike) -> None:
        """Write ``what`` ("loss", "map", "kl", "picture", "traversal_gif", "interpolation_gif") to ``path``."""
        w, scale = self.window, self._scale
        run = w.session.current
        named = f" · {run.name}" if run is not None else ""
        if what == "loss":
            lp = w.loss_plot
            figure_export.export_plot(lp.graphics.ci, path, title=f"Loss per image, nats{named}", titled=lp.plot, scale=scale)
        elif what == "map":
            plot = w.explorer.map.plot.getPlotItem()
            figure_export.export_plot(plot, path, title=f"Latent space: held-out posterior means{named}", scale=scale)
        elif what == "kl":
            figure_export.export_plot(w.diagnostics.plot, path, title=f"KL per latent dimension, held out{named}", scale=scale)
        elif what == "picture":
            w.explorer.generation.tabs.currentWidget().export(path, scale)
        elif what in ("traversal_gif", "interpolation_gif"):
            g = w.explorer.generation
            (g.traversal if what == "traversal_gif" else g.interpolation).export(path, scale)
        else:
            raise ValueError(f"nothing to export as {what!r}")

    def ask(self, what: str) -> None:
        gif = what.endswith("_gif")
        stem = {"loss": "loss", "map": "latent-map", "kl": "kl-per-dimension", "traversal_gif": "latent-traversal",
                "interpolation_gif": "interpolation"}.get(what) or self.window.explorer.generation.tabs.currentWidget().file_stem
        kinds = "Animated GIF (*.gif)" if gif else FIGURE_KINDS
        start = str(Path(str(self.window.settings_store.value("paths/last_dir", ""))) / f"{stem}{'.gif' if gif else '.png'}")
        path, chosen = QFileDialog.getSaveFileName(self.window, "Export", start, kinds)
        if not path:
            return
        if Path(path).suffix.lower() not in (".png", ".svg", ".gif"):
            path += ".svg" if "svg" in chosen else ".gif" if gif else ".png"
        self.window.settings_store.setValue("paths/last_dir", str(Path(path).parent))
        self.write(what, path)

    def write(self, what: str, path: str | os.PathLike) -> bool:
        """:meth:`export`, with a failure in the banner and a success in the status bar."""
        try:
            self.export(what, path)
        except (OSError, ValueError, VaeStudioError) as exc:
            self.window.show_error(f"could not export to {path}: {exc}")
            return False
        self.window.statusBar().showMessage(f"Wrote {path}", 8000)
        return True
