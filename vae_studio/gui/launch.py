"""Starting the application: the QApplication, the window, its event loop, and a clean exit."""

from __future__ import annotations

import sys

import shiboken6
from PySide6.QtCore import QCoreApplication, QEvent
from PySide6.QtWidgets import QApplication, QWidget

from .. import __version__
from .app import APPLICATION, ORGANIZATION, MainWindow
from .style import app_icon, apply_theme


def run_app(argv: list[str] | None = None) -> int:
    """Open the window and run the event loop until it closes; the process exit status."""
    app = QApplication.instance() or QApplication(sys.argv if argv is None else argv)
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName(APPLICATION)
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("vae-studio")
    app.setWindowIcon(app_icon())
    apply_theme(app)
    window = MainWindow()
    window.show()
    status = app.exec()
    dispose(window)
    return status


def dispose(window: QWidget) -> None:
    """Delete a window's C++ objects now, while the QApplication still exists.

    Left to interpreter shutdown, a pyqtgraph view inside a parent widget may be destroyed after
    the application object and crash the process on exit.
    """
    if shiboken6.isValid(window):
        window.deleteLater()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
