"""The File menu: open and save runs, export the loss history, and the Export submenu (export_menu.py)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog

from .export_menu import ExportMenu


class FileMenu(QObject):
    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.menu = menu = window.menuBar().addMenu("&File")
        self.open_action = QAction("&Open run…", window, shortcut=QKeySequence.StandardKey.Open, triggered=self.ask_open)
        self.open_action.setToolTip("Open a saved run: its curves, settings and weights; Continue trains it further")
        self.save_action = QAction("&Save run…", window, shortcut=QKeySequence.StandardKey.Save, triggered=self.ask_save)
        self.save_action.setToolTip("Save weights, optimizer state, settings and loss history to one file")
        self.export_csv_action = QAction("Export loss &history (CSV)…", window, triggered=self.ask_export_csv)
        self.quit_action = QAction("&Quit", window, shortcut=QKeySequence.StandardKey.Quit, triggered=window.close)
        for a in (self.open_action, self.save_action):
            menu.addAction(a)
        menu.addSeparator()
        menu.addAction(self.export_csv_action)
        self.exports = ExportMenu(window, menu)
        self._exports_end = menu.addSeparator()
        menu.addAction(self.quit_action)
        menu.setToolTipsVisible(True)

    def add_export(self, action: QAction) -> None:
        """Another Export… entry, after the others."""
        self.menu.insertAction(self._exports_end, action)

    def _last_dir(self) -> str:
        return str(self.window.settings_store.value("paths/last_dir", ""))

    def _ask(self, title: str, kinds: str, suffix: str, save: bool = True) -> str | None:
        ask = QFileDialog.getSaveFileName if save else QFileDialog.getOpenFileName
        path, _ = ask(self.window, title, self._last_dir(), kinds)
        if not path:
            return None
        self.window.settings_store.setValue("paths/last_dir", str(Path(path).parent))
        return path if not save or path.endswith(suffix) else path + suffix

    def ask_save(self) -> None:
        path = self._ask("Save run", "VAE Studio runs (*.pt)", ".pt")
        if path:
            self.window.save_run(path)

    def ask_open(self) -> None:
        path = self._ask("Open run", "VAE Studio runs (*.pt);;All files (*)", ".pt", save=False)
        if path:
            self.window.open_run(path)

    def ask_export_csv(self) -> None:
        path = self._ask("Export loss history", "CSV (*.csv)", ".csv")
        if path:
            self.window.export_history(path)
