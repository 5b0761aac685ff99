"""An inline, non-blocking message strip: errors and notices without a modal dialog.

An unexpected error shows one sentence and a "Details…" link to the log file that holds its
traceback (see :mod:`vae_studio.logfile`), never the traceback itself.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QToolButton, QWidget

from ...logfile import report_internal


class MessageBanner(QFrame):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("banner")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        self.icon = QLabel()
        self.icon.setObjectName("bannerIcon")
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.PlainText)  # a file name with "<" is not markup
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details_link = QLabel()
        self.details_link.setObjectName("bannerDetails")
        self.details_link.setTextFormat(Qt.TextFormat.RichText)
        self.details_link.linkActivated.connect(self.open_details)
        self.details_link.hide()
        self.details_path: Path | None = None
        self.action_button = QPushButton()
        self.action_button.hide()
        self.action_button.clicked.connect(self._run_action)
        self._action: Callable[[], None] | None = None
        close = QToolButton()
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip("Dismiss this message")
        close.clicked.connect(self.hide)
        layout.addWidget(self.icon)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.details_link, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self.action_button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        self.level = ""
        self.hide()

    def show_message(self, text: str, level: str = "error", action: tuple[str, Callable[[], None]] | None = None,
                     details: str | os.PathLike | None = None) -> None:
        """Show ``text``; ``action`` adds one button, e.g. ("Restore", callback); ``details`` a
        "Details…" link that opens that file (a log holding the traceback)."""
        self.details_path = Path(details) if details else None
        if self.details_path is not None:
            self.details_link.setText('<a href="details">Details…</a>')
            self.details_link.setToolTip(str(self.details_path))
        self.details_link.setVisible(self.details_path is not None)
        self._action = action[1] if action else None
        self.action_button.setText(action[0] if action else "")
        self.action_button.setVisible(action is not None)
        self.level = level
        self.setProperty("level", level)
        self.icon.setText("⚠" if level == "error" else "ℹ")
        self.label.setText(text[:1].upper() + text[1:])
        self.style().unpolish(self)
        self.style().polish(self)
        self.show()

    def show_internal_error(self, exc: BaseException, context: str = "") -> str:
        """An unexpected error: one sentence here, its traceback in the log (and on stderr)."""
        sentence, path = report_internal(exc, context)
        self.show_message(sentence, "error", details=path)
        return sentence

    def open_details(self, _link: str = "") -> bool:
        if self.details_path is None:
            return False
        return QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.details_path)))

    def text(self) -> str:
        return self.label.text() if self.isVisible() else ""

    def _run_action(self) -> None:
        action, self._action = self._action, None
        self.hide()
        if action is not None:
            action()
