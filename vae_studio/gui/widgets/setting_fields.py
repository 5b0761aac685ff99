"""Form widgets made from the settings schema: the range, choices, unit and help of each come
from its one declaration in :mod:`vae_studio.core.settings`, never typed again here."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

from PySide6.QtCore import SignalInstance
from PySide6.QtGui import QRegularExpressionValidator, QValidator
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QLineEdit, QSpinBox, QWidget

from ...core.settings import Setting

INT_WIDGET_MAX = 2**31 - 1  # a QSpinBox holds a C int


class ScientificSpinBox(QDoubleSpinBox):
    """A spin box for values spanning decades (learning rates): shows 1e-3, steps ×/÷ 10^(1/4)."""

    def __init__(self, lo: float, hi: float, parent: QWidget | None = None):
        super().__init__(parent)
        self.setDecimals(12)
        self.setRange(lo, hi)
        self.setKeyboardTracking(False)

    def textFromValue(self, value: float) -> str:
        return f"{value:.3g}"

    def valueFromText(self, text: str) -> float:
        try:
            return float(text)
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int):
        try:
            v = float(text)
        except ValueError:
            return QValidator.State.Intermediate, text, pos
        ok = self.minimum() <= v <= self.maximum() and math.isfinite(v)
        return (QValidator.State.Acceptable if ok else QValidator.State.Intermediate), text, pos

    def stepBy(self, steps: int) -> None:
        self.setValue(self.value() * 10 ** (steps / 4))


@dataclass
class Field:
    """One setting's editor: the widget, how to read and write it, and its change signal."""

    widget: QWidget
    get: Callable[[], Any]
    set: Callable[[Any], None]
    changed: SignalInstance
    toggle: QCheckBox | None = None  # an optional setting's on/off box


def make_field(spec: Setting) -> Field:
    if spec.choices:
        box = QComboBox()
        for item in spec.choices:
            box.addItem(spec.choice_labels.get(item, item), item)
        return Field(box, box.currentData, lambda v: box.setCurrentIndex(max(0, box.findData(v))), box.currentIndexChanged)
    if spec.kind is bool:
        box = QCheckBox(spec.label)
        return Field(box, box.isChecked, box.setChecked, box.toggled)
    if spec.kind is str and spec.optional:
        return _optional_text(spec)
    if spec.kind is tuple:
        edit = QLineEdit()
        digits = len(str(int(spec.hi)))
        edit.setValidator(QRegularExpressionValidator(rf"^\s*\d{{1,{digits}}}(\s*,\s*\d{{1,{digits}}})*\s*,?\s*$"))

        if spec.optional:
            edit.setPlaceholderText("all")

        def get() -> tuple[int, ...] | None:
            sizes = tuple(int(p) for p in edit.text().replace(" ", "").split(",") if p)
            if not sizes and spec.optional:
                return None
            return tuple(min(max(int(spec.lo), s), int(spec.hi)) for s in sizes)

        return Field(edit, get, lambda v: edit.setText(",".join(str(h) for h in v or ())), edit.editingFinished)
    if spec.kind is int:
        spin = QSpinBox()
        spin.setRange(int(spec.lo), int(min(spec.hi, INT_WIDGET_MAX)))
        spin.setKeyboardTracking(False)
        if spec.unit:
            spin.setSuffix(f" {spec.unit}")
        return Field(spin, spin.value, spin.setValue, spin.valueChanged)
    if spec.log_scale:
        spin = ScientificSpinBox(spec.lo, spec.hi)
    else:
        spin = QDoubleSpinBox()
        spin.setRange(spec.lo, spec.hi)
        spin.setDecimals(spec.decimals)
        spin.setSingleStep(spec.step)
        spin.setKeyboardTracking(False)
    if spec.unit:
        spin.setSuffix(f" {spec.unit}")
    if not spec.optional:
        return Field(spin, spin.value, spin.setValue, spin.valueChanged)
    toggle = QCheckBox(spec.label)
    toggle.setToolTip(spec.help)

    def get_optional() -> float | None:
        return spin.value() if toggle.isChecked() else None

    def set_optional(v: float | None) -> None:
        toggle.setChecked(v is not None)
        if v is not None:
            spin.setValue(v)

    return Field(spin, get_optional, set_optional, spin.valueChanged, toggle=toggle)


def _optional_text(spec: Setting) -> Field:
    """A check box that switches the setting on, and the text it takes (a folder, say); switched on
    with nothing typed, it takes the placeholder shown in the field."""
    toggle = QCheckBox(spec.label)
    toggle.setToolTip(spec.help)
    edit = QLineEdit()
    edit.setPlaceholderText(spec.placeholder)

    def get() -> str | None:
        if not toggle.isChecked():
            return None
        return edit.text().strip() or spec.placeholder or None

    def set_value(v: str | None) -> None:
        toggle.setChecked(v is not None)
        if v is not None:
            edit.setText("" if v == spec.placeholder else v)

    return Field(edit, get, set_value, edit.editingFinished, toggle=toggle)
