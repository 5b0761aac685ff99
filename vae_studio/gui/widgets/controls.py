"""The control panel: run buttons and every setting of a run, each with a tooltip that teaches it."""

from __future__ import annotations

import math

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QFontMetrics, QKeySequence, QRegularExpressionValidator
from PySide6.QtWidgets import (
    QHBoxLayout,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ..session import ARCHS, DATASETS, DEFAULT_BETA_VARIANT_BETA, DEVICES, KL_SCHEDULES, LIKELIHOODS, VARIANTS, RunSettings, State, device_summary

FOLDER_ITEM = "Folder of IDX files…"

DATASET_LABELS = {
    "digits": "Digits (built in, 5k)",
    "mnist": "MNIST (download)",
    "fashion-mnist": "Fashion-MNIST (download)",
    "kmnist": "KMNIST (download)",
}

TIPS = {
    "dataset": "The images to learn from: the built-in digits need no download; MNIST-style sets are fetched once; "
    "a folder of IDX files (train-*/t10k-*) works offline.",
    "variant": "Vanilla learns p(x|z); conditional also gives the class label to encoder and decoder, "
    "so z only has to hold the style; β weights the KL term by β to trade detail for a tidier latent space.",
    "arch": "MLP: fully connected layers, fast on a CPU; conv: convolutional layers that see local strokes, "
    "sharper digits but slower without a GPU.",
    "likelihood": "How a decoded image is scored against the real one: Bernoulli treats pixels as ink probabilities "
    "(the usual choice for digits); Gaussian uses a squared error with a learned noise level.",
    "latent_dim": "Number of dimensions of z: 2 lets you see the latent space directly; more dimensions "
    "reconstruct better but must be projected to be seen.",
    "hidden": "Sizes of the hidden layers, comma-separated (e.g. 512,256): wider layers learn more detail "
    "but train more slowly.",
    "epochs": "How many passes over the training set to make in total (a continued run trains up to this count).",
    "batch_size": "Images per gradient step: larger batches give smoother, faster steps per image "
    "but fewer updates per epoch.",
    "lr": "Adam's step size: too low learns slowly, too high makes the loss jump or become non-finite.",
    "beta": "Weight of the KL term: β > 1 pushes the code towards the prior for smoother, more disentangled "
    "factors at the cost of blurrier reconstructions; it can be changed while training.",
    "kl_schedule": "How the KL weight moves over training: constant keeps it at 1; linear warm-up ramps it "
    "from 0 to 1; cyclical repeats the ramp, which helps against posterior collapse.",
    "warmup_epochs": "Epochs the KL weight takes to ramp from 0 to 1 (one cycle for the cyclical schedule), "
    "so the decoder learns to use z before the KL term pulls it towards the prior.",
    "free_bits": "A KL floor in nats per latent dimension: dimensions below it are not pushed further "
    "towards the prior, which keeps more of them in use.",
    "seed": "Seed for the initial weights and batch order: the same seed and settings give the same run.",
    "device": "Where training runs: auto uses a CUDA GPU when there is one, otherwise the CPU "
    "(with every core but one, which keeps the window responsive).",
    "train": "Start training with these settings, or continue the current model up to Epochs",
    "pause": "Hold training after the current step; Resume continues exactly where it stopped",
    "stop": "End the run now; the model keeps its weights and Train continues it",
    "reset": "Start a new model: the current run stays in the run list (Runs tab), with its curves and weights",
    "capacity_on": "Burgess et al.'s controlled capacity: instead of pushing the KL down, the objective is "
    "β·|KL − C|, with the target C raised from 0 over the ramp, so the code takes in information gradually.",
    "capacity": "The KL target C in nats that the code is allowed to carry at the end of the ramp.",
    "capacity_epochs": "Epochs over which the capacity target rises linearly from 0 to C.",
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
    "tend to capture separate factors. β can change while training.",
}


class VariantSwitcher(QWidget):
    """Vanilla · Conditional · β as a segmented row of buttons, with a QComboBox's item API
    (``currentData``, ``findData``, ``setCurrentIndex``, ``currentIndexChanged``) so code and
    tests that drove the old combo box keep working."""

    currentIndexChanged = Signal(int)
    LABELS = {"vanilla": "Vanilla", "conditional": "Conditional", "beta": "β"}

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("variantSwitcher")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        self._group = QButtonGroup(self)
        self._group.setExclusive(True)
        self.buttons: dict[str, QPushButton] = {}
        for i, v in enumerate(VARIANTS):
            b = QPushButton(self.LABELS.get(v, v))
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
        self.buttons[VARIANTS[0]].setChecked(True)
        self._index = 0
        self._group.idClicked.connect(self.setCurrentIndex)

    def count(self) -> int:
        return len(VARIANTS)

    def itemData(self, i: int) -> str:
        return VARIANTS[i]

    def findData(self, value) -> int:
        return VARIANTS.index(value) if value in VARIANTS else -1

    def currentIndex(self) -> int:
        return self._index

    def currentData(self) -> str:
        return VARIANTS[self._index]

    def currentText(self) -> str:
        return self.LABELS[self.currentData()]

    def setCurrentIndex(self, i: int) -> None:
        i = max(0, min(int(i), len(VARIANTS) - 1))
        self._group.button(i).setChecked(True)
        if i != self._index:
            self._index = i
            self.currentIndexChanged.emit(i)

    def setToolTip(self, text: str) -> None:
        super().setToolTip(text)
        for b in self.buttons.values():
            b.setToolTip(text)



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
        from PySide6.QtGui import QValidator

        try:
            v = float(text)
        except ValueError:
            return QValidator.State.Intermediate, text, pos
        ok = self.minimum() <= v <= self.maximum() and math.isfinite(v)
        return (QValidator.State.Acceptable if ok else QValidator.State.Intermediate), text, pos

    def stepBy(self, steps: int) -> None:
        self.setValue(self.value() * 10 ** (steps / 4))


def _combo(items, labels=None) -> QComboBox:
    box = QComboBox()
    for item in items:
        box.addItem((labels or {}).get(item, item), item)
    return box


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

        # -- run buttons ------------------------------------------------------------------
        buttons = QGridLayout()
        buttons.setSpacing(6)
        self.train_button = QPushButton("Train")
        self.train_button.setObjectName("trainButton")
        self.pause_button = QPushButton("Pause")
        self.stop_button = QPushButton("Stop")
        self.reset_button = QPushButton("Reset")
        shortcuts = {
            self.train_button: ("train", "Ctrl+Return"),
            self.pause_button: ("pause", "Ctrl+P"),
            self.stop_button: ("stop", "Ctrl+."),
            self.reset_button: ("reset", "Ctrl+Shift+R"),
        }
        for button, (key, seq) in shortcuts.items():
            button.setShortcut(QKeySequence(seq))
            shown = QKeySequence(seq).toString(QKeySequence.SequenceFormat.NativeText)
            button.setToolTip(f"{TIPS[key]} ({shown})")
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            button.setMinimumHeight(30)
        buttons.addWidget(self.train_button, 0, 0)
        buttons.addWidget(self.pause_button, 0, 1)
        buttons.addWidget(self.stop_button, 1, 0)
        buttons.addWidget(self.reset_button, 1, 1)
        outer.addLayout(buttons)

        self.run_label = QLabel("New model")
        self.run_label.setObjectName("runLabel")
        self.run_label.setWordWrap(True)
        outer.addWidget(self.run_label)

        # -- data ---------------------------------------------------------------------------
        self.dataset = _combo(DATASETS, DATASET_LABELS)
        self.dataset.addItem(FOLDER_ITEM, None)
        self._last_dataset_index = 0
        data_box, data_form = self._group("Data")
        data_form.addRow("Dataset", self.dataset)

        # -- variant: the switcher, the model every variant shares, then each variant's panel --
        self.variant = VariantSwitcher()
        self.variant_text = QLabel()
        self.variant_text.setObjectName("caption")
        self.variant_text.setWordWrap(True)
        self.arch = _combo(ARCHS, {"mlp": "MLP", "conv": "Convolutional"})
        self.likelihood = _combo(LIKELIHOODS, {"bernoulli": "Bernoulli", "gaussian": "Gaussian"})
        self.latent_dim = QSpinBox()
        self.latent_dim.setRange(1, 512)
        self.hidden = QLineEdit()
        self.hidden.setValidator(QRegularExpressionValidator(r"^\s*\d{1,4}(\s*,\s*\d{1,4})*\s*,?\s*$"))
        model_box, model_form = self._group("Variant")
        model_form.addRow(self.variant)
        model_form.addRow(self.variant_text)
        model_form.addRow("Latent dims", self.latent_dim)
        model_form.addRow("Architecture", self.arch)
        model_form.addRow("Likelihood", self.likelihood)
        model_form.addRow("Hidden sizes", self.hidden)

        self.variant_pages = QStackedWidget()
        self.variant_pages.addWidget(QWidget())  # vanilla: the shared model settings are all it has

        cond = QWidget()
        cond_form = self._form(cond)
        self.class_combo = QComboBox()
        self.set_class_names([str(i) for i in range(10)])
        cond_form.addRow("Generate class", self.class_combo)
        self.sweep_button = QPushButton("Label sweep")
        self.transfer_button = QPushButton("Style transfer")
        pair = QHBoxLayout()
        pair.setSpacing(6)
        pair.addWidget(self.sweep_button)
        pair.addWidget(self.transfer_button)
        cond_form.addRow(pair)
        self.variant_pages.addWidget(cond)

        beta_page = QWidget()
        beta_form = self._form(beta_page)
        self.beta = QDoubleSpinBox()
        self.beta.setRange(0.0, 1000.0)
        self.beta.setDecimals(2)
        self.beta.setSingleStep(0.5)
        self.beta.setKeyboardTracking(False)
        self.capacity_on = QCheckBox("Capacity target C")
        self.capacity = QDoubleSpinBox()
        self.capacity.setRange(0.0, 1000.0)
        self.capacity.setDecimals(1)
        self.capacity.setSuffix(" nats")
        self.capacity_epochs = QDoubleSpinBox()
        self.capacity_epochs.setRange(0.0, 10_000.0)
        self.capacity_epochs.setDecimals(1)
        self.capacity_epochs.setSuffix(" epochs")
        self.traversal_button = QPushButton("Show the traversal grid")
        beta_form.addRow("β (KL weight)", self.beta)
        beta_form.addRow(self.capacity_on)
        beta_form.addRow("C", self.capacity)
        beta_form.addRow("Ramp", self.capacity_epochs)
        beta_form.addRow(self.traversal_button)
        self.variant_pages.addWidget(beta_page)
        model_form.addRow(self.variant_pages)

        # -- KL schedule: shared by every variant --------------------------------------------
        self.kl_schedule = _combo(KL_SCHEDULES, {"constant": "Constant", "linear": "Linear warm-up", "cyclical": "Cyclical"})
        self.warmup_epochs = QDoubleSpinBox()
        self.warmup_epochs.setRange(0.0, 10_000.0)
        self.warmup_epochs.setDecimals(1)
        self.free_bits = QDoubleSpinBox()
        self.free_bits.setRange(0.0, 100.0)
        self.free_bits.setDecimals(2)
        self.free_bits.setSingleStep(0.05)
        self.free_bits.setSuffix(" nats")
        kl_box, kl_form = self._group("KL term")
        kl_form.addRow("Schedule", self.kl_schedule)
        kl_form.addRow("Warm-up epochs", self.warmup_epochs)
        kl_form.addRow("Free bits", self.free_bits)

        # -- training -----------------------------------------------------------------------
        self.epochs = QSpinBox()
        self.epochs.setRange(1, 100_000)
        self.batch_size = QSpinBox()
        self.batch_size.setRange(1, 65536)
        self.lr = ScientificSpinBox(1e-7, 1e7)
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        train_box, train_form = self._group("Training")
        train_form.addRow("Epochs", self.epochs)
        train_form.addRow("Batch size", self.batch_size)
        train_form.addRow("Learning rate", self.lr)
        train_form.addRow("Seed", self.seed)

        # -- device -------------------------------------------------------------------------
        self.device = _combo(DEVICES, {"auto": "Auto", "cpu": "CPU", "cuda": "CUDA"})
        self.device_label = QLabel()
        self.device_label.setObjectName("deviceLabel")
        self.device_label.setWordWrap(True)
        device_box, device_form = self._group("Device")
        device_form.addRow("Device", self.device)
        device_form.addRow("", self.device_label)

        for box in (data_box, model_box, kl_box, train_box, device_box):
            outer.addWidget(box)
        outer.addStretch(1)

        tips = {
            self.dataset: "dataset", self.variant: "variant", self.arch: "arch", self.likelihood: "likelihood",
            self.latent_dim: "latent_dim", self.hidden: "hidden", self.epochs: "epochs",
            self.batch_size: "batch_size", self.lr: "lr", self.beta: "beta", self.kl_schedule: "kl_schedule",
            self.warmup_epochs: "warmup_epochs", self.free_bits: "free_bits", self.seed: "seed", self.device: "device",
            self.capacity_on: "capacity_on", self.capacity: "capacity", self.capacity_epochs: "capacity_epochs",
            self.class_combo: "class_label", self.sweep_button: "label_sweep", self.transfer_button: "style_transfer",
            self.traversal_button: "traversal",
        }
        for widget, key in tips.items():
            widget.setToolTip(TIPS[key])
            label = self._form_label(widget)
            if label is not None:
                label.setToolTip(TIPS[key])

        self.set_settings(RunSettings())
        self._model_locked = False
        self._state = State.IDLE
        for combo in (self.arch, self.likelihood, self.kl_schedule, self.device):
            combo.currentIndexChanged.connect(self._on_changed)
        self.variant.currentIndexChanged.connect(self._on_changed)
        self.dataset.activated.connect(self._on_dataset_activated)
        for spin in (self.latent_dim, self.epochs, self.batch_size, self.seed):
            spin.valueChanged.connect(self._on_changed)
        for spin in (self.lr, self.warmup_epochs, self.free_bits, self.capacity, self.capacity_epochs):
            spin.valueChanged.connect(self._on_changed)
        self.capacity_on.toggled.connect(self._on_changed)
        self.hidden.editingFinished.connect(self._on_changed)
        self.beta.valueChanged.connect(self._on_beta)
        self.variant.currentIndexChanged.connect(self._on_variant)
        self.class_combo.currentIndexChanged.connect(self._on_class)
        self.sweep_button.clicked.connect(lambda: self.show_view.emit("label_sweep"))
        self.transfer_button.clicked.connect(lambda: self.show_view.emit("style_transfer"))
        self.traversal_button.clicked.connect(lambda: self.show_view.emit("traversal"))
        self._refresh_enabled()
        self._refresh_device()

    # -- building -------------------------------------------------------------------------
    def _group(self, title: str) -> tuple[QGroupBox, QFormLayout]:
        box = QGroupBox(title)
        return box, self._form(box, margins=(8, 6, 8, 8))

    @staticmethod
    def _form(parent: QWidget, margins=(0, 4, 0, 0)) -> QFormLayout:
        form = QFormLayout(parent)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        form.setHorizontalSpacing(8)
        form.setVerticalSpacing(6)
        form.setContentsMargins(*margins)
        return form

    @staticmethod
    def _form_label(widget: QWidget) -> QLabel | None:
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
        hidden = tuple(int(p) for p in self.hidden.text().replace(" ", "").split(",") if p) or (400,)
        return RunSettings(
            dataset=self.dataset.currentData() or "digits",
            variant=self.variant.currentData(),
            arch=self.arch.currentData(),
            likelihood=self.likelihood.currentData(),
            latent_dim=self.latent_dim.value(),
            hidden=hidden,
            epochs=self.epochs.value(),
            batch_size=self.batch_size.value(),
            lr=self.lr.value(),
            beta=self.beta.value(),
            kl_schedule=self.kl_schedule.currentData(),
            warmup_epochs=self.warmup_epochs.value(),
            free_bits=self.free_bits.value(),
            capacity_on=self.capacity_on.isChecked(),
            capacity=self.capacity.value(),
            capacity_epochs=self.capacity_epochs.value(),
            seed=self.seed.value(),
            device=self.device.currentData(),
        )

    def set_settings(self, s: RunSettings) -> None:
        widgets = [self.dataset, self.variant, self.arch, self.likelihood, self.latent_dim, self.hidden, self.epochs,
                   self.batch_size, self.lr, self.beta, self.kl_schedule, self.warmup_epochs, self.free_bits,
                   self.capacity_on, self.capacity, self.capacity_epochs, self.seed, self.device]
        blocked = [w.blockSignals(True) for w in widgets]
        try:
            self._select_dataset(s.dataset)
            for combo, value in ((self.variant, s.variant), (self.arch, s.arch), (self.likelihood, s.likelihood),
                                 (self.kl_schedule, s.kl_schedule), (self.device, s.device)):
                i = combo.findData(value)
                combo.setCurrentIndex(max(0, i))
            self.latent_dim.setValue(s.latent_dim)
            self.hidden.setText(",".join(str(h) for h in s.hidden))
            self.epochs.setValue(s.epochs)
            self.batch_size.setValue(s.batch_size)
            self.lr.setValue(s.lr)
            self.beta.setValue(s.beta)
            self.warmup_epochs.setValue(s.warmup_epochs)
            self.free_bits.setValue(s.free_bits)
            self.capacity_on.setChecked(s.capacity_on)
            self.capacity.setValue(s.capacity)
            self.capacity_epochs.setValue(s.capacity_epochs)
            self.seed.setValue(s.seed)
        finally:
            for w, b in zip(widgets, blocked):
                w.blockSignals(b)
        self._refresh_enabled()
        self._refresh_device()
        self.settings_changed.emit()

    def _select_dataset(self, source: str) -> None:
        i = self.dataset.findData(source)
        if i < 0:  # a folder: keep it as an item above "Folder of IDX files…"
            i = self.dataset.count() - 1
            self.dataset.insertItem(i, source if len(source) < 40 else "…" + source[-38:], source)
            self.dataset.setItemData(i, source, Qt.ItemDataRole.ToolTipRole)
        self.dataset.setCurrentIndex(i)
        self._last_dataset_index = i

    # -- state ----------------------------------------------------------------------------
    def set_state(self, state: State, model_locked: bool) -> None:
        """Enable what makes sense: settings that shape the model only when no model exists."""
        self._state = state
        self._model_locked = model_locked
        busy = state in (State.STARTING, State.RUNNING, State.PAUSED, State.STOPPING)
        self.train_button.setEnabled(not busy)
        self.train_button.setText("Continue" if model_locked and not busy else "Train")
        self.pause_button.setEnabled(state in (State.STARTING, State.RUNNING, State.PAUSED))
        self.pause_button.setText("Resume" if state == State.PAUSED else "Pause")
        self.stop_button.setEnabled(busy and state != State.STOPPING)
        self.reset_button.setEnabled(not busy and model_locked)
        self._refresh_enabled()

    def _refresh_enabled(self) -> None:
        busy = getattr(self, "_state", State.IDLE) in (State.STARTING, State.RUNNING, State.PAUSED, State.STOPPING)
        locked = getattr(self, "_model_locked", False)
        for w in (self.dataset, self.arch, self.likelihood, self.latent_dim, self.hidden):
            w.setEnabled(not busy and not locked)
        # another variant is another model: switching keeps the current run in the run list and
        # starts a new one, so it is open whenever nothing trains
        self.variant.setEnabled(not busy)
        for w in (self.epochs, self.batch_size, self.lr, self.kl_schedule, self.free_bits, self.seed, self.device,
                  self.capacity_on):
            w.setEnabled(not busy)
        for w in (self.capacity, self.capacity_epochs):
            w.setEnabled(not busy and self.capacity_on.isChecked())
        schedule = self.kl_schedule.currentData()
        self.warmup_epochs.setEnabled(not busy and schedule != "constant")
        label = self._form_label(self.warmup_epochs)
        if label is not None:
            label.setText("Cycle length" if schedule == "cyclical" else "Warm-up epochs")
        variant = self.variant.currentData()
        # β is the one setting that can move mid-run (the trainer applies it at its next step)
        self.beta.setEnabled(variant == "beta")
        self.variant_pages.setCurrentIndex(self.variant.currentIndex())
        # a stacked widget is as tall as its tallest page; only the shown page should count
        for i in range(self.variant_pages.count()):
            page = self.variant_pages.widget(i)
            shown = i == self.variant_pages.currentIndex()
            page.setSizePolicy(QSizePolicy.Policy.Preferred,
                               QSizePolicy.Policy.Preferred if shown else QSizePolicy.Policy.Ignored)
        self.variant_pages.adjustSize()
        self.variant_pages.setVisible(variant != "vanilla")
        self.variant_text.setText(VARIANT_TEXT[variant])

    def set_training_threads(self, threads: int | None) -> None:
        self._threads = threads
        self._refresh_device()

    def _refresh_device(self) -> None:
        self.device_label.setText(device_summary(self.device.currentData(), getattr(self, "_threads", None)))

    # -- reactions ------------------------------------------------------------------------
    def _on_changed(self, *_):
        self._refresh_enabled()
        self._refresh_device()
        self.settings_changed.emit()

    def _on_variant(self, *_):
        if self.variant.currentData() == "beta" and self.beta.value() == 1.0:
            self.beta.setValue(DEFAULT_BETA_VARIANT_BETA)
        self.variant_switched.emit(self.variant.currentData())

    def _on_class(self, i: int):
        data = self.class_combo.itemData(i)
        if data is not None:
            self.label_changed.emit(int(data))

    def _on_beta(self, value: float):
        self.settings_changed.emit()
        self.beta_changed.emit(value)

    def _on_dataset_activated(self, index: int):
        if self.dataset.itemData(index) is None:  # "Folder of IDX files…"
            folder = QFileDialog.getExistingDirectory(self, "Folder of MNIST-format IDX files")
            if folder:
                self._select_dataset(folder)
            else:
                self.dataset.setCurrentIndex(self._last_dataset_index)
                return
        self._last_dataset_index = self.dataset.currentIndex()
        self._on_changed()
