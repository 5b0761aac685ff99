"""Vanilla · Conditional · β as a segmented row of buttons."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QButtonGroup, QHBoxLayout, QPushButton, QSizePolicy, QWidget

from ...core.settings import SCHEMA

VARIANTS = SCHEMA["variant"].choices


class VariantSwitcher(QWidget):
    changed = Signal(str)  # the variant picked, by a click or by set_value

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("variantSwitcher")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        self._group = QButtonGroup(self)
        self._group.setExclusive(True)
        self.buttons: dict[str, QPushButton] = {}
        labels = SCHEMA["variant"].choice_labels
        for i, v in enumerate(VARIANTS):
            b = QPushButton(labels.get(v, v))
            b.setCheckable(True)
            b.setObjectName("variantButton")
            b.setProperty("position", "first" if i == 0 else "last" if i == len(VARIANTS) - 1 else "middle")
            b.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            bold = QFont(b.font())
            bold.setBold(True)  # the checked button's text is bold: room for it either way
            b.setMinimumWidth(QFontMetrics(bold).horizontalAdvance(b.text()) + 14)
            self._group.addButton(b, i)
            row.addWidget(b)
            self.buttons[v] = b
        self._value = VARIANTS[0]
        self.buttons[self._value].setChecked(True)
        self._group.idClicked.connect(lambda i: self.set_value(VARIANTS[i]))

    def value(self) -> str:
        return self._value

    def set_value(self, variant: str) -> None:
        if variant not in self.buttons:
            return
        self.buttons[variant].setChecked(True)
        if variant != self._value:
            self._value = variant
            self.changed.emit(variant)

    def setToolTip(self, text: str) -> None:
        super().setToolTip(text)
        for b in self.buttons.values():
            b.setToolTip(text)
