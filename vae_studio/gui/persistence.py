"""What the window remembers between launches: geometry, splitters, the run settings, the plot's scale."""

from __future__ import annotations

import json

from PySide6.QtCore import QByteArray, QSettings

from ..core.settings import RunSettings

DEFAULT_SIZE = (1280, 800)  # fits a 1280×800 laptop screen


def restore_window(window, store: QSettings) -> list[str]:
    """Put the window back as it was; the notes say which saved settings had to be adjusted."""
    geometry = store.value("window/geometry")
    if isinstance(geometry, QByteArray) and not geometry.isEmpty():
        window.restoreGeometry(geometry)
    else:
        window.resize(*DEFAULT_SIZE)
    for key, splitter in (("window/splitter", window.splitter), ("window/plots_splitter", window.plots_splitter)):
        value = store.value(key)
        if isinstance(value, QByteArray) and not value.isEmpty():
            splitter.restoreState(value)
    notes: list[str] = []
    raw = store.value("run/settings")
    if isinstance(raw, str) and raw:
        try:
            settings, notes = RunSettings.from_dict(json.loads(raw))
        except ValueError:
            settings, notes = RunSettings(), ["the saved settings were unreadable; the defaults are used"]
        window.controls.set_settings(settings)
    window.loss_plot.log_scale.setChecked(store.value("plot/log_scale", False, type=bool))
    return notes


def save_window(window, store: QSettings) -> None:
    store.setValue("window/geometry", window.saveGeometry())
    store.setValue("window/splitter", window.splitter.saveState())
    store.setValue("window/plots_splitter", window.plots_splitter.saveState())
    store.setValue("run/settings", json.dumps(window.controls.settings().to_dict()))
    store.setValue("plot/log_scale", window.loss_plot.log_scale.isChecked())
    store.sync()
