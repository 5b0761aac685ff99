"""The control panel: run actions and every setting of a run, its form made from the settings schema."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ...core.config import default_epochs
from ...core.data import FOLDER_CHOICE as FOLDER_ITEM
from ...core.settings import BETA_VARIANT_DEFAULT, BETA_VARIANT_LATENT, BUILTIN_DATASETS, SCHEMA, VARIANT_PRIORS, RunSettings
from ..run_record import RunState
from .setting_fields import Field, make_field
from .variant_switcher import VARIANTS, VariantSwitcher

DATASET_LABELS = {
    "digits": "Digits (built in, 5k)",
    "mnist": "MNIST (download)",
    "fashion-mnist": "Fashion-MNIST (download)",
    "kmnist": "KMNIST (download)",
    "cifar10": "CIFAR-10, colour (download)",
}
ACTION_TIPS = {
    "train": ("Train", "Ctrl+Return", "Start training with these settings, or continue the current model up to Epochs"),
    "pause": ("Pause", "Ctrl+P", "Hold training after the current step; Resume continues exactly where it stopped"),
    "stop": ("Stop", "Ctrl+.", "End the run now; the model keeps its weights and Continue trains it further"),
    "reset": ("Reset", "Ctrl+Shift+R", "Start a new model: the current run stays in the Runs tab, with its curves and weights"),
}
VIEW_TIPS = {
    "class_label": "The class a conditional model draws: the map, the sliders and every grid decode z with this label.",
    "label_sweep": "Show one code decoded under every label (Generate → Label sweep): z keeps the style, the label picks the digit",
    "style_transfer": "Show held-out digits re-drawn as every class (Generate → Style transfer): "
    "each is encoded with its own label, then decoded under all the others",
    "traversal": "Show the traversal grid (Generate → Traversal): one row per latent dimension, most KL first, "
    "to see which factor each dimension has captured",
}
VARIANT_TEXT = {
    "vanilla": "The plain VAE: maximise the ELBO, reconstruction + KL with weight 1.",
    "conditional": "The class label goes to the encoder and the decoder, so z only holds the style: "
    "draw any class with any style.",
    "beta": "The KL term weighted by β: β > 1 trades detail for a smoother latent space whose dimensions "
    "capture separate factors (given the label, one property of the style each); β = 1 is the plain ELBO.",
}
BUSY = (RunState.STARTING, RunState.TRAINING, RunState.PAUSED, RunState.STOPPING)


class ControlPanel(QWidget):
    settings_changed = Signal()
    beta_changed = Signal(float)
    variant_switched = Signal(str)  # the person picked another variant (not set_settings)
    label_changed = Signal(int)  # the class a conditional model should draw
    show_view = Signal(str)  # "label_sweep", "style_transfer" or "traversal"

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("controlPanel")
        outer = QVBoxLayout(self)
        outer.setContentsMargins(10, 10, 10, 10)
        outer.setSpacing(10)
        outer.addLayout(self._build_actions())
        self.run_label = QLabel("New model")
        self.run_label.setObjectName("runLabel")
        self.run_label.setWordWrap(True)
        outer.addWidget(self.run_label)

        # every field but the dataset and the variant (which have widgets of their own) from the schema
        self.fields: dict[str, Field] = {
            name: make_field(spec) for name, spec in SCHEMA.items() if spec.form and name not in ("dataset", "variant")
        }
        for name, f in self.fields.items():
            setattr(self, name, f.widget)  # c.epochs, c.beta, ...: the editors themselves
            f.widget.setToolTip(SCHEMA[name].help)
        self.capacity_on = self.fields["capacity"].toggle
        self.logdir_on = self.fields["logdir"].toggle
        self.dataset = QComboBox()
        for item in BUILTIN_DATASETS:
            self.dataset.addItem(DATASET_LABELS.get(item, item), item)
        self.dataset.addItem(FOLDER_ITEM, None)
        self.dataset.setToolTip(SCHEMA["dataset"].help)
        self._last_dataset_index = 0
        self.variant = VariantSwitcher()
        self.variant.setToolTip(SCHEMA["variant"].help)
        self.variant_text = QLabel()
        self.variant_text.setObjectName("caption")
        self.variant_text.setWordWrap(True)

        data_box, data_form = self._group("Data")
        self._row(data_form, "dataset", self.dataset)
        for name in ("image_size", "channels"):
            self._row(data_form, name)
        self._row(data_form, "classes")
        model_box, model_form = self._group("Variant")
        model_form.addRow(self.variant)
        model_form.addRow(self.variant_text)
        for name in ("latent_dim", "arch", "likelihood", "hidden"):
            self._row(model_form, name)
        model_form.addRow(self.residual)
        for name in ("prior", "prior_components"):
            self._row(model_form, name)
        model_form.addRow(self._build_variant_pages())
        kl_box, kl_form = self._group("Objective")
        for name in ("kl_schedule", "warmup_epochs", "free_bits", "objective", "iwae_k"):
            self._row(kl_form, name)
        kl_form.addRow(self.binarize)
        train_box, train_form = self._group("Training")
        for name in ("epochs", "batch_size", "lr", "lr_schedule", "weight_decay", "augment", "seed"):
            self._row(train_form, name)
        train_form.addRow(self.logdir_on)
        self._row(train_form, "logdir", label="Log folder")
        device_box, device_form = self._group("Device")
        self._row(device_form, "device")
        self.device_label = QLabel()
        self.device_label.setObjectName("deviceLabel")
        self.device_label.setWordWrap(True)
        device_form.addRow("", self.device_label)
        for box in (data_box, model_box, kl_box, train_box, device_box):
            outer.addWidget(box)
        outer.addStretch(1)

        self._state = RunState.NEW
        self._variant_prior: str | None = RunSettings().prior
        self._dataset_epochs: int | None = RunSettings().epochs  # the count the form chose for the dataset
        self._model_locked = False
        self._device_text = ""
        self.set_settings(RunSettings())
        for name, f in self.fields.items():
            if name != "beta":
                f.changed.connect(self._on_changed)
        self.capacity_on.toggled.connect(self._on_changed)
        self.logdir_on.toggled.connect(self._on_changed)
        self.fields["beta"].changed.connect(self._on_beta)
        self.variant.changed.connect(self._on_variant)
        self.dataset.activated.connect(self._on_dataset_activated)
        self.class_combo.currentIndexChanged.connect(self._on_class)
        self.sweep_button.clicked.connect(lambda: self.show_view.emit("label_sweep"))
        self.transfer_button.clicked.connect(lambda: self.show_view.emit("style_transfer"))
        self.traversal_button.clicked.connect(lambda: self.show_view.emit("traversal"))
        self._refresh_enabled()

    # -- building -------------------------------------------------------------------------
    def _build_actions(self) -> QGridLayout:
        """Train, Pause, Stop and Reset are QActions: their shortcuts live on the action, which the
        buttons and the Training menu share, so a button's changing text never clears a shortcut."""
        grid = QGridLayout()
        grid.setSpacing(6)
        self.actions: dict[str, QAction] = {}
        for i, (key, (text, keys, tip)) in enumerate(ACTION_TIPS.items()):
            action = QAction(text, self)
            action.setShortcut(QKeySequence(keys))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            shown = QKeySequence(keys).toString(QKeySequence.SequenceFormat.NativeText)
            action.setToolTip(f"{tip} ({shown})")
            self.addAction(action)
            button = QPushButton(text)
            button.setToolTip(action.toolTip())
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            button.setMinimumHeight(30)
            button.clicked.connect(action.trigger)
            action.changed.connect(lambda b=button, a=action: (b.setText(a.text()), b.setEnabled(a.isEnabled())))
            grid.addWidget(button, i // 2, i % 2)
            self.actions[key] = action
            setattr(self, f"{key}_button", button)
        self.train_button.setObjectName("trainButton")
        return grid

    def _build_variant_pages(self) -> QStackedWidget:
        self.variant_pages = QStackedWidget()
        self.variant_pages.addWidget(QWidget())  # vanilla: the shared model settings are all it has
        cond = QWidget()
        cond_form = self._form(cond)
        self.class_combo = QComboBox()
        self.class_combo.setToolTip(VIEW_TIPS["class_label"])
        self.set_class_names([str(i) for i in range(10)])
        cond_form.addRow("Generate class", self.class_combo)
        self.sweep_button = QPushButton("Label sweep")
        self.sweep_button.setToolTip(VIEW_TIPS["label_sweep"])
        self.transfer_button = QPushButton("Style transfer")
        self.transfer_button.setToolTip(VIEW_TIPS["style_transfer"])
        pair = QHBoxLayout()
        pair.setSpacing(6)
        pair.addWidget(self.sweep_button)
        pair.addWidget(self.transfer_button)
        cond_form.addRow(pair)
        self.variant_pages.addWidget(cond)
        beta_page = QWidget()
        beta_form = self._form(beta_page)
        self._row(beta_form, "beta")
        beta_form.addRow(self.beta_label)
        beta_form.addRow(self.capacity_on)
        self._row(beta_form, "capacity", label="C")
        self._row(beta_form, "capacity_epochs")
        self.traversal_button = QPushButton("Show the traversal grid")
        self.traversal_button.setToolTip(VIEW_TIPS["traversal"])
        beta_form.addRow(self.traversal_button)
        self.variant_pages.addWidget(beta_page)
        return self.variant_pages

    def _row(self, form: QFormLayout, name: str, widget: QWidget | None = None, label: str | None = None) -> None:
        text = QLabel(label or SCHEMA[name].label)
        text.setToolTip(SCHEMA[name].help)
        form.addRow(text, widget or self.fields[name].widget)

    def _group(self, title: str) -> tuple[QGroupBox, QFormLayout]:
        box = QGroupBox(title)
        return box, self._form(box, margins=(8, 6, 8, 8))

    @staticmethod
    def _form(parent: QWidget, margins=(0, 4, 0, 0)) -> QFormLayout:
        form = QFormLayout(parent)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        # one alignment in every box, whatever the platform style prefers
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        form.setFormAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        form.setHorizontalSpacing(8)
        form.setVerticalSpacing(6)
        form.setContentsMargins(*margins)
        return form

    def form_label(self, widget: QWidget) -> QLabel | None:
        parent = widget.parentWidget()
        form = parent.layout() if parent else None
        if isinstance(form, QFormLayout):
            label = form.labelForField(widget)
            return label if isinstance(label, QLabel) else None
        return None

    def full_width_hint(self) -> int:
        """A width that fits every variant's panel, so that switching never clips the column."""
        hidden = self.variant_pages.isHidden()
        self.variant_pages.setHidden(False)  # a stacked widget's hint is the widest of its pages
        width = self.sizeHint().width()
        self.variant_pages.setHidden(hidden)
        return width

    def set_class_names(self, names) -> None:
        """The classes the conditional panel offers (the dataset's names)."""
        current = max(0, self.class_combo.currentIndex())
        self.class_combo.blockSignals(True)
        self.class_combo.clear()
        for i, name in enumerate(names):
            self.class_combo.addItem(str(name), i)
        self.class_combo.setCurrentIndex(min(current, self.class_combo.count() - 1))
        self.class_combo.blockSignals(False)

    def set_label(self, label: int) -> None:
        """Follow a class chosen elsewhere (the explorer's own choice) without echoing it back."""
        i = self.class_combo.findData(int(label))
        if i >= 0 and i != self.class_combo.currentIndex():
            self.class_combo.blockSignals(True)
            self.class_combo.setCurrentIndex(i)
            self.class_combo.blockSignals(False)

    # -- settings in and out --------------------------------------------------------------
    def settings(self) -> RunSettings:
        values = {name: f.get() for name, f in self.fields.items()}
        values["hidden"] = values["hidden"] or RunSettings().hidden
        return RunSettings(dataset=self.dataset.currentData() or "digits", variant=self.variant.value(), **values)

    def set_settings(self, s: RunSettings) -> None:
        widgets = [self.dataset, self.variant, self.capacity_on, self.logdir_on, *(f.widget for f in self.fields.values())]
        blocked = [w.blockSignals(True) for w in widgets]
        try:
            self._select_dataset(s.dataset)
            self.variant.set_value(s.variant)
            # the prior the form chose for this variant, if that is the one it holds; the same for epochs
            self._variant_prior = s.prior if s.prior == VARIANT_PRIORS.get(s.variant) else None
            self._dataset_epochs = s.epochs if s.epochs == default_epochs(s.dataset) else None
            for name, f in self.fields.items():
                f.set(getattr(s, name))
        finally:
            for w, b in zip(widgets, blocked):
                w.blockSignals(b)
        self._refresh_enabled()
        self.settings_changed.emit()

    def _select_dataset(self, source: str) -> None:
        i = self.dataset.findData(source)
        if i < 0:  # a folder: an item above "Folder of images…" that shows the end of its path
            i = self.dataset.count() - 1
            path = Path(source)
            shown = f"…/{path.parent.name}/{path.name}" if path.parent.name else path.name
            self.dataset.insertItem(i, shown, source)
            self.dataset.setItemData(i, source, Qt.ItemDataRole.ToolTipRole)
        self.dataset.setCurrentIndex(i)
        self._last_dataset_index = i

    # -- state ----------------------------------------------------------------------------
    def set_state(self, state: RunState, model_locked: bool) -> None:
        """Enable what makes sense: settings that shape the model only when no model exists."""
        self._state = state
        self._model_locked = model_locked
        busy = state in BUSY
        a = self.actions
        a["train"].setEnabled(not busy)
        a["train"].setText("Continue" if model_locked and not busy else "Train")
        a["pause"].setEnabled(state in (RunState.STARTING, RunState.TRAINING, RunState.PAUSED))
        a["pause"].setText("Resume" if state == RunState.PAUSED else "Pause")
        a["stop"].setEnabled(busy and state != RunState.STOPPING)
        a["reset"].setEnabled(not busy and model_locked)
        self._refresh_enabled()

    def _refresh_enabled(self) -> None:
        busy = self._state in BUSY
        locked = self._model_locked
        for name, spec in SCHEMA.items():
            widget = self.dataset if name == "dataset" else self.fields[name].widget if name in self.fields else None
            if widget is not None:
                widget.setEnabled(not busy and not (locked and spec.shapes_model))
        # another variant is another model: switching keeps the current run in the run list and
        # starts a new one, so it is open whenever nothing trains
        self.variant.setEnabled(not busy)
        self.capacity_on.setEnabled(not busy)
        for w in (self.capacity, self.capacity_epochs):
            w.setEnabled(not busy and self.capacity_on.isChecked())
        self.logdir_on.setEnabled(not busy)
        self.logdir.setEnabled(not busy and self.logdir_on.isChecked())
        self.iwae_k.setEnabled(not busy and self.fields["objective"].get() == "iwae")
        mixture = self.fields["prior"].get() == "mixture"
        self.prior_components.setEnabled(self.prior.isEnabled() and mixture)
        self.free_bits.setEnabled(not busy and not mixture)  # a floor per dimension of N(0, I)
        schedule = self.fields["kl_schedule"].get()
        self.warmup_epochs.setEnabled(not busy and schedule != "constant")
        label = self.form_label(self.warmup_epochs)
        if label is not None:
            label.setText("Cycle length" if schedule == "cyclical" else SCHEMA["warmup_epochs"].label)
        variant = self.variant.value()
        # β is the one setting that can move mid-run (the trainer applies it at its next step)
        self.beta.setEnabled(variant == "beta" and self._state != RunState.STOPPING)
        self.variant_pages.setCurrentIndex(VARIANTS.index(variant))
        # a stacked widget is as tall as its tallest page; only the shown page should count
        for i in range(self.variant_pages.count()):
            page = self.variant_pages.widget(i)
            shown = i == self.variant_pages.currentIndex()
            page.setSizePolicy(QSizePolicy.Policy.Preferred,
                               QSizePolicy.Policy.Preferred if shown else QSizePolicy.Policy.Ignored)
        self.variant_pages.adjustSize()
        self.variant_pages.setVisible(variant != "vanilla")
        self.variant_text.setText(VARIANT_TEXT[variant])

    def set_device_text(self, text: str) -> None:
        self.device_label.setText(text)

    # -- reactions ------------------------------------------------------------------------
    def _on_changed(self, *_):
        self._refresh_enabled()
        self.settings_changed.emit()

    def _on_variant(self, variant: str):
        if variant == "beta" and self.beta.value() == 1.0 and self._state not in BUSY:
            self.beta.setValue(BETA_VARIANT_DEFAULT)  # the β panel starts where β-VAE papers do
            if self.fields["latent_dim"].get() == RunSettings().latent_dim:
                self.fields["latent_dim"].set(BETA_VARIANT_LATENT)
        # each variant starts with its own prior; one the person chose (not the one the form put there) stays
        if self._state not in BUSY and self.fields["prior"].get() == self._variant_prior:
            self._variant_prior = VARIANT_PRIORS[variant]
            self.fields["prior"].set(self._variant_prior)
        self._on_changed()
        self.variant_switched.emit(variant)

    def _on_class(self, i: int):
        data = self.class_combo.itemData(i)
        if data is not None:
            self.label_changed.emit(int(data))

    def _on_beta(self, value: float):
        self.settings_changed.emit()
        self.beta_changed.emit(value)

    def _on_dataset_activated(self, index: int):
        if self.dataset.itemData(index) is None:  # "Folder of images…"
            folder = QFileDialog.getExistingDirectory(
                self, "Folder of images (one subfolder per class, or none) or of MNIST-format IDX files")
            if folder:
                self._select_dataset(folder)
            else:
                self.dataset.setCurrentIndex(self._last_dataset_index)
                return
        self._last_dataset_index = self.dataset.currentIndex()
        # each built-in set starts with its own epoch count (as `vae-studio train` picks it); a count
        # the person typed stays, and a folder keeps the count there is
        auto = default_epochs(self.dataset.currentData())
        if auto is not None and self._state not in BUSY and self.fields["epochs"].get() == self._dataset_epochs:
            self._dataset_epochs = auto
            self.fields["epochs"].set(auto)
        self._on_changed()
