"""The applications lab's parts of the window, wired to the run the session shows: the Anomalies
tab beside "Loss and diagnostics" and "Runs", and File > Export synthetic digits.

The Apply tab (denoising and inpainting) and the map's quality figure belong to the latent
explorer and follow its state; this module feeds the anomaly view with the current run's model
and the held-out images behind the map, and takes its gallery's clicks to the map.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject

from ..core.anomaly_view import ModelSource, held_out_points
from ..core.data import class_subset
from .run_record import RunRecord
from .synth_export import SynthExport
from .widgets.anomaly import AnomalyPanel


class Applications(QObject):
    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.anomaly = AnomalyPanel()
        tabs = window.bottom_tabs
        i = tabs.addTab(self.anomaly, "Anomalies")
        tabs.setTabToolTip(i, "Anomaly and out-of-distribution scores of the held-out digits (or another dataset) "
                              "under the model shown: histogram, ROC, threshold and the images it flags")
        self.anomaly.pointChosen.connect(window.explorer.select_point)
        self.anomaly.imageChosen.connect(window.explorer.show_image_code)
        self.synth = SynthExport(window)
        self._run: RunRecord | None = None
        self._held: tuple | None = None  # (dataset id, probe index bytes, Split)
        self._train: tuple | None = None  # (dataset id, classes, Split): the images that calibrate the score
        s = window.session
        s.current_changed.connect(self._on_current)
        s.current_run_changed.connect(self._on_run_changed)
        s.dataset_loaded.connect(self.update_source)
        self._on_current(s.current)

    def _on_current(self, run: RunRecord | None) -> None:
        self._run = run
        self.update_source()

    def _on_run_changed(self, aspects: frozenset) -> None:
        if aspects & {"snapshot", "state", "settings"}:
            self.update_source()

    def _held_out(self, dataset, probe) -> object | None:
        probe = np.asarray(probe)
        if len(probe) == 0 or int(probe.max()) >= len(dataset.test):
            return None  # the snapshot's points are of another dataset than the one at hand
        key = (id(dataset), probe.tobytes())
        if self._held is None or self._held[:2] != key:
            self._held = (*key, held_out_points(dataset.test, probe))
        return self._held[2]

    def update_source(self) -> None:
        """Hand the anomaly view the model shown, or none."""
        run, dataset = self._run, self.window.session.dataset
        snap = run.snapshot if run is not None else None
        held = self._held_out(dataset, snap.probe_index) if snap is not None and dataset is not None else None
        if held is None:
            self.anomaly.set_source(None)
            return
        classes = run.settings.classes
        if self._train is None or self._train[:2] != (id(dataset), classes):
            self._train = (id(dataset), classes, class_subset(dataset.train, classes))
        source = ModelSource((run.id, snap.step), snap.model_config, snap.state, held, tuple(dataset.class_names),
                             classes, snap.step, self._train[2], run.settings.binarize)
        self.anomaly.set_source(source, live=run.state.busy)

    def wait(self, timeout: float) -> bool:
        """Let the work done off the GUI thread end (the window is closing); True if it did."""
        return all([self.anomaly.wait(timeout), self.synth.wait(timeout), self.window.explorer.wait(timeout)])
