"""The desktop window: PySide6 + pyqtgraph views over the core engine (reached via ``session``)."""

from .app import MainWindow
from .launch import dispose, run_app

__all__ = ["MainWindow", "dispose", "run_app"]
