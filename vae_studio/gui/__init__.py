"""The desktop window: PySide6 + pyqtgraph views over the core engine (reached via ``session``)."""

from .app import MainWindow, run_app

__all__ = ["MainWindow", "run_app"]
