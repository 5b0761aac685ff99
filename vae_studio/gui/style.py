"""Look and feel: Fusion with a palette that follows the system's light or dark setting."""

from __future__ import annotations

from importlib import resources

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPalette
from PySide6.QtWidgets import QApplication


def resource_text(name: str) -> str:
    return (resources.files("vae_studio.resources") / name).read_text(encoding="utf-8")


def app_icon() -> QIcon:
    with resources.as_file(resources.files("vae_studio.resources") / "icon.svg") as path:
        return QIcon(str(path))


def system_is_dark() -> bool:
    hints = QGuiApplication.styleHints()
    scheme = hints.colorScheme() if hasattr(hints, "colorScheme") else Qt.ColorScheme.Unknown
    if scheme != Qt.ColorScheme.Unknown:
        return scheme == Qt.ColorScheme.Dark
    return QGuiApplication.palette().color(QPalette.ColorRole.Window).lightness() < 128


def _dark_palette() -> QPalette:
    p = QPalette()
    roles = {
        QPalette.ColorRole.Window: "#202124", QPalette.ColorRole.WindowText: "#e8eaed",
        QPalette.ColorRole.Base: "#17181a", QPalette.ColorRole.AlternateBase: "#2a2b2e",
        QPalette.ColorRole.Text: "#e8eaed", QPalette.ColorRole.Button: "#2d2e31",
        QPalette.ColorRole.ButtonText: "#e8eaed", QPalette.ColorRole.Highlight: "#2f7fd1",
        QPalette.ColorRole.HighlightedText: "#ffffff", QPalette.ColorRole.ToolTipBase: "#2d2e31",
        QPalette.ColorRole.ToolTipText: "#e8eaed", QPalette.ColorRole.PlaceholderText: "#9aa0a6",
        QPalette.ColorRole.Mid: "#55585c", QPalette.ColorRole.Midlight: "#3c3e42",
        QPalette.ColorRole.Dark: "#111214", QPalette.ColorRole.Light: "#45474b",
        QPalette.ColorRole.Link: "#8ab4f8",
    }
    for role, color in roles.items():
        p.setColor(role, QColor(color))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor("#6f7377"))
    return p


def apply_theme(app: QApplication) -> None:
    """Style the whole application once (run_app does it; an embedding host may skip it)."""
    app.setStyle("Fusion")
    if system_is_dark():
        app.setPalette(_dark_palette())
    app.setStyleSheet(resource_text("style.qss"))
    configure_plots()


def configure_plots() -> None:
    """pyqtgraph colours from the current palette, so plots match the window in light and dark."""
    pal = QGuiApplication.palette()
    pg.setConfigOptions(
        background=pal.color(QPalette.ColorRole.Base),
        foreground=pal.color(QPalette.ColorRole.WindowText),
        antialias=False,
    )
