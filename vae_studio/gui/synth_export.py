"""File > Export synthetic digits: the IDX folder ``vae-studio synth`` writes, from the run shown.

Only a conditional model can label what it generates; any other is refused with a sentence
that says how to get one. The codes come from a Gaussian mixture fitted to the training codes of
each class (the run's stored one when it was opened from a file); drawing and writing happen in
a worker thread, so the window stays usable while thousands of digits are made.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QInputDialog

from ..core.data import class_subset
from ..core.models import build_model
from ..core.sampler import PosteriorSampler, fit_posterior_sampler
from ..core.settings import VARIANT_NAMES
from ..core.synth import export_folder
from .background import LatestJob

DEFAULT_PER_CLASS = 1000
MAX_PER_CLASS = 100_000


def synthesize_folder(config, state: dict, folder: str, per_class: int, classes, train_split, stored_sampler,
                      class_names, seed: int = 0) -> tuple[str, int, int]:
    """Fit (or take) the sampler and write the folder; (folder, train images, test images)."""
    model = build_model(config)
    model.load_state_dict(state)
    model.eval().requires_grad_(False)
    posterior = PosteriorSampler.from_dict(stored_sampler) if stored_sampler else None
    if posterior is None and train_split is not None:
        posterior = fit_posterior_sampler(model, class_subset(train_split, classes), seed=seed)
    train, test = export_folder(model, folder, per_class, classes=classes, posterior=posterior,
                                sampler="posterior" if posterior is not None else "prior", seed=seed,
                                class_names=class_names)
    return folder, len(train.labels), len(test.labels)


class SynthExport(QObject):
    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.action = QAction("Export s&ynthetic digits…", window, triggered=self.ask)
        self.action.setToolTip("Generate labelled digits with the conditional model shown and write them as an "
                               "MNIST-format IDX folder, as vae-studio synth does")
        window.file_menu.add_export(self.action)
        self.job = LatestJob(self)
        self.job.done.connect(self._on_done)
        self.job.failed.connect(lambda _k, msg: window.show_error(f"cannot export synthetic digits: {msg}"))

    def _refusal(self) -> str | None:
        run = self.window.session.current
        weights = run.weights() if run is not None else None
        if weights is None:
            return "there is no model to generate with yet: train a conditional VAE first"
        if not weights[0].conditional:
            return (f"synthetic labelled digits need a conditional model, and this one is "
                    f"{VARIANT_NAMES.get(weights[0].variant, weights[0].variant)}: choose Conditional and train one")
        if self.job.busy:
            return "synthetic digits are being written already; wait for them to finish"
        return None

    def ask(self) -> None:
        refusal = self._refusal()
        if refusal:
            self.window.show_error(refusal)
            return
        per_class, ok = QInputDialog.getInt(self.window, "Export synthetic digits", "Images per class:",
                                            DEFAULT_PER_CLASS, 1, MAX_PER_CLASS)
        if not ok:
            return
        folder = QFileDialog.getExistingDirectory(self.window, "Folder for the IDX files (created if need be)",
                                                  str(self.window.settings_store.value("paths/last_dir", "")))
        if folder:
            self.export(folder, per_class)

    def export(self, folder: str, per_class: int) -> bool:
        """Write ``per_class`` digits of each class the model learnt into ``folder``; False if refused."""
        refusal = self._refusal()
        if refusal:
            self.window.show_error(refusal)
            return False
        run = self.window.session.current
        config, state = run.weights()
        classes = run.settings.classes or tuple(range(config.num_classes))
        dataset = self.window.session.dataset
        train = dataset.train if dataset is not None else None  # the run's own: the session loaded it for the run
        names = dataset.class_names if dataset is not None else None
        stored = run.bundle.get("posterior_sampler") if run.bundle is not None else None
        self.window.statusBar().showMessage(f"Writing {per_class:,} synthetic digits of each class to {folder}…")
        self.job.request(folder, synthesize_folder, config, state, str(Path(folder)), per_class, classes, train,
                         stored, names)
        return True

    def _on_done(self, _key, result) -> None:
        folder, n_train, n_test = result
        self.window.statusBar().showMessage(
            f"Wrote {n_train:,} synthetic digits (and {n_test:,} as the t10k split) to {folder}: "
            "choose that folder as a dataset to train on them", 15000)

    def wait(self, timeout: float) -> bool:
        return self.job.wait(timeout)
