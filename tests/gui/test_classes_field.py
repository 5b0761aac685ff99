"""The Data box's Classes field: typed by a person, it becomes the run's classes setting."""

from PySide6.QtCore import Qt

from vae_studio.core.settings import RunSettings
from vae_studio.gui.widgets.controls import ControlPanel


def test_classes_field_round_trips_and_empty_means_all(qtbot):
    panel = ControlPanel()
    qtbot.addWidget(panel)
    edit = panel.classes
    assert edit.placeholderText() == "all" and panel.settings().classes is None
    edit.setFocus()
    qtbot.keyClicks(edit, "7, 1,3")
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert panel.settings().classes == (7, 1, 3)
    assert panel.settings().train_config().classes == (1, 3, 7)
    panel.set_settings(RunSettings(classes=(2, 5)))
    assert edit.text() == "2,5"
    edit.clear()
    assert panel.settings().classes is None
