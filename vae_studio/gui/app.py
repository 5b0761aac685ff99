"""The main window: built from its parts without an event loop (``launch.run_app`` runs one), so
tests and host applications can embed it; it shows the session's current run."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QElapsedTimer, QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QMainWindow,
    QMessageBox,
    QScrollArea,
    QSplitter,
    QStyle,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from .. import __version__
from .applications import Applications
from ..core.config import likelihood_label
from ..core.history import History
from ..core.image_format import describe as describe_images
from ..core.settings import VARIANT_NAMES
from .file_menu import FileMenu
from .gc_on_gui_thread import collect_on_gui_thread
from .persistence import restore_window, save_window
from .help import GUIDE, HelpDialog, shortcuts_html
from .run_record import RunRecord, RunState
from .session import Session
from .style import app_icon, configure_plots
from .training_job import device_summary
from .widgets.banner import MessageBanner
from .widgets.controls import ControlPanel
from .widgets.diagnostics import DiagnosticsPanel
from .autosave import offer_restore
from .widgets.explorer import LatentExplorer
from .widgets.loss_plot import LossPlot
from .widgets.runs import RunsPanel
from .widgets.status_bar import StatusFields

EMPTY_HISTORY = History()  # what the loss plot shows with no run

ORGANIZATION = "VAE Studio"
APPLICATION = "VAE Studio"
REDRAW_HZ = 10
# While a model trains, every millisecond the window paints is taken from the training process on
# a small machine (on two cores a stall of one of PyTorch's two threads stalls both). The loss
# curves and the status bar therefore redraw at 2 Hz during a run, the latent map with each
# snapshot (about 1 Hz); when idle everything redraws at once.
PLOT_MIN_INTERVAL_MS = 500
JOIN_TIMEOUT_S = 5.0


class MainWindow(QMainWindow):
    def __init__(self, settings: QSettings | None = None, session: Session | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        collect_on_gui_thread()  # worker threads must never be the ones that destroy Qt objects
        self.setWindowTitle("VAE Studio")
        self.setWindowIcon(app_icon())
        self.settings_store = settings or QSettings(
            QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION, APPLICATION
        )
        self.session = session or Session(self)
        if self.session.parent() is None:
            self.session.setParent(self)
        configure_plots()

        self.controls = ControlPanel()
        scroll = QScrollArea()
        scroll.setWidget(self.controls)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # room for a vertical scroll bar too: the conditional and β panels are taller than the
        # vanilla one, and a bar that appears must not push the fields under the right edge
        bar = scroll.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        scroll.setMinimumWidth(self.controls.full_width_hint() + bar + 8)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)

        self.banner = MessageBanner()
        self.explorer = LatentExplorer()
        self.loss_plot = LossPlot()
        self.diagnostics = DiagnosticsPanel()
        self.training_splitter = QSplitter(Qt.Orientation.Horizontal)
        self.training_splitter.addWidget(self.loss_plot)
        self.training_splitter.addWidget(self.diagnostics)
        self.training_splitter.setStretchFactor(0, 3)
        self.training_splitter.setStretchFactor(1, 1)
        self.training_splitter.setChildrenCollapsible(False)
        self.training_splitter.setSizes([900, 330])
        self.runs = RunsPanel(self.session)
        self.bottom_tabs = QTabWidget()
        self.bottom_tabs.setDocumentMode(True)
        self.bottom_tabs.addTab(self.training_splitter, "Loss and diagnostics")
        self.bottom_tabs.addTab(self.runs, "Runs")
        self.bottom_tabs.setTabToolTip(1, "Every run of this session: compare their curves and held-out figures, load one back")
        self.plots_splitter = QSplitter(Qt.Orientation.Vertical)
        self.plots_splitter.addWidget(self.explorer)
        self.plots_splitter.addWidget(self.bottom_tabs)
        self.plots_splitter.setStretchFactor(0, 3)
        self.plots_splitter.setStretchFactor(1, 2)
        self.plots_splitter.setChildrenCollapsible(False)
        self.bottom_tabs.setMinimumHeight(280)
        self.plots_splitter.setSizes([600, 380])
        main = QWidget()
        main_layout = QVBoxLayout(main)
        main_layout.setContentsMargins(6, 8, 8, 4)
        main_layout.setSpacing(6)
        main_layout.addWidget(self.banner)
        main_layout.addWidget(self.plots_splitter, 1)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(scroll)
        self.splitter.addWidget(main)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(False)
        self.setCentralWidget(self.splitter)

        self.status = StatusFields(self.statusBar(), device_summary("auto", self.session.torch_threads))
        self._build_menus()
        self.apps = Applications(self)  # the Anomalies tab and File > Export synthetic digits

        s = self.session
        s.current_changed.connect(self._on_current_changed)
        s.current_run_changed.connect(self._on_run_changed)
        s.error.connect(self.show_error)
        s.internal_error.connect(self.show_internal_error)
        s.logged_error.connect(lambda text, log: (self.banner.show_message(text, "error", details=Path(log)),
                                                  self._status_message(text, 15000)))
        s.info.connect(self.show_info)
        # class names and probe images while the training process starts, not once it trains
        s.dataset_loaded.connect(self._sync_dataset)
        s.saved.connect(lambda path: self.statusBar().showMessage(f"Saved the run to {path}", 8000))
        s.runs_changed.connect(self._on_runs_changed)
        self.runs.load_requested.connect(self.load_run)
        self.bottom_tabs.currentChanged.connect(lambda _=0: self._refresh_runs_view())
        self.explorer.labelChanged.connect(lambda k: self.controls.set_label(k))

        c = self.controls
        c.actions["train"].triggered.connect(self.train)
        c.actions["pause"].triggered.connect(self.toggle_pause)
        c.actions["stop"].triggered.connect(self.session.stop)
        c.actions["reset"].triggered.connect(self.reset)
        c.beta_changed.connect(self.session.set_beta)
        c.settings_changed.connect(self._on_settings_changed)
        c.variant_switched.connect(self._on_variant_switched)
        c.label_changed.connect(self.explorer.set_label)
        c.show_view.connect(self.show_view)

        # the plots redraw from the current run at a fixed rate, never per message
        self.redraw_timer = QTimer(self)
        self.redraw_timer.setInterval(1000 // REDRAW_HZ)
        self.redraw_timer.timeout.connect(self.redraw)
        self.redraw_timer.start()
        self._run: RunRecord | None = None  # the run the views show: always the session's current
        self._dirty: set[str] = set()
        self._probe_source = None
        self._plot_clock = QElapsedTimer()
        self._plot_clock.start()

        self._restore_settings()
        self._on_settings_changed()  # the device line, the label controls of the model Train makes
        self._on_current_changed(self.session.current)
        offer_restore(self)

    # -- building -------------------------------------------------------------------------------
    def _build_menus(self) -> None:
        self.file_menu = FileMenu(self)
        self.open_action, self.save_action = self.file_menu.open_action, self.file_menu.save_action
        quit_action = self.file_menu.quit_action

        # the same QActions as the panel's buttons: one shortcut each, shown in the menu
        train_menu = self.menuBar().addMenu("&Training")
        for action in self.controls.actions.values():
            train_menu.addAction(action)

        help_menu = self.menuBar().addMenu("&Help")
        self.guide_action = QAction("&What am I looking at?", self, shortcut=QKeySequence.StandardKey.HelpContents,
                                    triggered=lambda: self._show_help("What am I looking at?", GUIDE))
        self.shortcuts_action = QAction("&Keyboard shortcuts", self, triggered=lambda: self._show_help(
            "Keyboard shortcuts", shortcuts_html([*self.controls.actions.values(), self.open_action,
                                                  self.save_action, quit_action, self.guide_action])))
        for a in (self.guide_action, self.shortcuts_action):
            help_menu.addAction(a)
        help_menu.addSeparator()
        help_menu.addAction(QAction("&About VAE Studio", self, triggered=self._about))
        self.help_dialog: HelpDialog | None = None

    def _show_help(self, title: str, html: str) -> HelpDialog:
        if self.help_dialog is not None:
            self.help_dialog.close()
        self.help_dialog = HelpDialog(title, html, self)
        self.help_dialog.show()  # non-modal: the window stays usable beside it
        return self.help_dialog

    # -- training -------------------------------------------------------------------------------
    def train(self) -> None:
        self.banner.hide()
        settings = self.controls.settings()
        self.loss_plot.set_weight_visible(settings.kl_schedule != "constant")
        if self.session.start(settings):
            self.statusBar().showMessage("Loading data and building the model…", 3000)

    def toggle_pause(self) -> None:
        if self.session.state == RunState.PAUSED:
            self.session.resume()
        else:
            self.session.pause()

    def reset(self) -> None:
        self.session.reset()
        self.banner.hide()

    def load_run(self, run_id: int) -> bool:
        """Make a run from the run list current: the explorer shows it, Train continues it."""
        run = self.session.run(run_id)
        if run is None or not self.session.activate_run(run_id):
            return False
        self.banner.hide()
        self.statusBar().showMessage(f"Loaded {run.name} ({run.settings.describe()}): Continue trains it further", 8000)
        return True

    def show_view(self, name: str) -> None:
        """Bring a generated view forward: "label_sweep", "style_transfer" or "traversal"."""
        g = self.explorer.generation
        page = {"label_sweep": g.label_sweep, "style_transfer": g.style_transfer, "traversal": g.traversal}[name]
        self.explorer.tabs.setCurrentWidget(g)
        g.show_page(page)

    def _on_variant_switched(self, variant: str) -> None:
        s = self.session
        self.diagnostics.set_free_bits(self.controls.free_bits.value())
        if s.busy or not s.has_model:
            return
        # another variant is another model: keep the trained one in the run list, start afresh
        run = s.current
        self.reset()
        kept = f"{run.name} stays in the Runs tab; " if run is not None else ""
        self.show_info(f"{kept}Train starts a new {VARIANT_NAMES[variant]}.")

    def _on_runs_changed(self) -> None:
        n = len(self.session.runs)
        self.bottom_tabs.setTabText(1, f"Runs ({n})" if n else "Runs")

    def _refresh_runs_view(self) -> None:
        if self.bottom_tabs.currentWidget() is self.runs:
            self.runs.refresh_curves()
            self.runs.refresh_table()

    # -- files (the File menu's work is in file_menu.py) ---------------------------------------
    def save_run(self, path: str) -> None:
        self.session.save(path)

    def open_run(self, path: str) -> bool:
        return self.session.open(path) is not None

    def export_history(self, path: str) -> None:
        if self.session.export_history_csv(path):
            self.statusBar().showMessage(f"Wrote the loss history to {path}", 8000)

    def export_plot(self, path: str, what: str = "loss") -> bool:
        """A figure or GIF of File > Export ("loss", "map", "kl", "picture", "traversal_gif", ...)."""
        return self.file_menu.exports.write(what, path)

    def _about(self) -> None:
        box = QMessageBox(QMessageBox.Icon.Information, "About VAE Studio",
                          f"VAE Studio {__version__}\nTrain, watch and explore variational autoencoders.", parent=self)
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.open()  # non-blocking

    # -- messages -------------------------------------------------------------------------------
    def show_error(self, text: str) -> None:
        self.banner.show_message(text, "error")
        self._status_message(text, 15000)

    def show_internal_error(self, exc: BaseException) -> None:
        """One sentence in the banner, the traceback in the error log it links to (and on stderr)."""
        text = self.banner.show_internal_error(exc, "training")
        self._status_message(text, 15000)

    def show_info(self, text: str) -> None:
        self.banner.show_message(text, "info")
        self._status_message(text, 10000)

    def _status_message(self, text: str, ms: int) -> None:
        """A one-line summary that fits beside the permanent fields (the banner has the full text)."""
        bar = self.statusBar()
        room = max(120, bar.width() - self.status.used_width() - 60)
        text = text[:1].upper() + text[1:]
        bar.showMessage(bar.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight, room), ms)

    # -- the current run ------------------------------------------------------------------------
    def _on_current_changed(self, run: RunRecord | None) -> None:
        """Another run is shown (new, opened, loaded back, or none after Reset): every view takes it whole."""
        self._run = run
        self.status.eta.reset()
        self.loss_plot.reset_view()
        if run is not None and run.state.settled:
            current = self.controls.settings()
            # the model comes from the run; keep the person's device choice, which is about this machine
            self.controls.set_settings(run.settings.replace(device=current.device))
            self.loss_plot.set_weight_visible(run.settings.kl_schedule != "constant")
        s = run.settings if run is not None else self.controls.settings()
        self.loss_plot.set_likelihood(likelihood_label(s.likelihood, s.binarize))
        self.diagnostics.set_free_bits(self.controls.free_bits.value())
        self.explorer.clear()
        self.diagnostics.clear()
        self._probe_source = None
        if run is not None and run.state.settled:
            self._sync_dataset()
        self._dirty = {"state", "history", "snapshot", "progress", "fit"}
        self._on_state()

    def _on_run_changed(self, aspects: frozenset) -> None:
        self._dirty |= aspects
        if "state" in aspects:
            self._on_state()

    def _on_state(self) -> None:
        run = self._run
        st = run.state if run is not None else RunState.NEW
        self.controls.set_state(st, model_locked=self.session.has_model)
        self.open_action.setEnabled(not self.session.busy)
        self.save_action.setEnabled(self.session.has_model)
        self._update_run_label()
        if st.settled and run.finish_reason in ("completed", "stopped"):
            self.statusBar().showMessage(f"Training {run.finish_reason}", 5000)
        if st.settled or st == RunState.PAUSED:  # a run that stands still is shown whole
            self._dirty |= {"history", "fit"}
        self.redraw()

    def _on_settings_changed(self) -> None:
        self.diagnostics.set_free_bits(self.controls.free_bits.value())
        settings = self.controls.settings()
        self.explorer.set_variant(settings.variant, settings.beta_label)
        run = self._run
        if run is not None and run.started is not None and run.state.busy:
            return  # the device a run trains on is in the status bar already
        self.status.device_label.setText(device_summary(settings.device, self.session.torch_threads))
        self.controls.set_device_text(self.status.device_label.text())

    def _update_run_label(self) -> None:
        s, run = self.session, self._run
        if run is None or not s.has_model:
            text = "New model: Train starts from random weights."
        elif s.busy:
            on = f" on {describe_images(run.started.image_shape)} images" if run.started is not None else ""
            text = f"Training this model{on}; settings that shape it are fixed until Reset."
        else:
            text = (f"{run.name}: {run.status_text()} (step {run.step:,}). Continue trains it up to Epochs; "
                    "Reset or another variant starts a new run (this one stays in the Runs tab).")
        self.controls.run_label.setText(text)

    def _sync_dataset(self) -> None:
        # the probe images and class names change only with the dataset
        dataset = self.session.dataset
        if dataset is not None and dataset is not self._probe_source:
            self._probe_source = dataset
            self.explorer.set_class_names(dataset.class_names)
            self.explorer.set_probe_split(dataset.test)
            self.explorer.set_train_split(dataset.train)
            self.controls.set_class_names(dataset.class_names)

    def redraw(self) -> None:
        """Bring every view up to date with the current run (a 10 Hz timer calls this)."""
        run = self._run
        training = run is not None and run.state == RunState.TRAINING
        due = not training or self._plot_clock.hasExpired(PLOT_MIN_INTERVAL_MS)
        dirty = self._dirty
        if "snapshot" in dirty:
            dirty.discard("snapshot")
            snap = run.snapshot if run is not None else None
            if snap is None:
                self.explorer.clear()
                self.diagnostics.clear()
            else:
                self._sync_dataset()
                self.explorer.set_snapshot(snap)
                self.diagnostics.set_snapshot(snap)
        if not due or not (dirty & {"history", "progress", "state", "fit", "settings", "name"}):
            return
        history = run.history if run is not None else EMPTY_HISTORY
        if run is not None and run.started is not None:
            self.loss_plot.set_pixels(run.started.pixels)
            p = run.progress
            threads = getattr(p, "threads", None) or run.started.threads  # the tuner may change the count mid-run
            self.status.device_label.setText(_device_text(run.started.device, threads))
        elif run is not None:
            self.loss_plot.set_pixels(run.pixels)
        p = run.progress if run is not None else None
        planned = p.step * p.epochs / p.epoch if run is not None and run.state.busy and p and p.epoch > 0 else None
        drew = self.loss_plot.refresh(history, planned_steps=planned, force="fit" in dirty)
        if "fit" in dirty:
            self.loss_plot.fit_to_data(history)
        if self.bottom_tabs.currentWidget() is self.runs:
            self.runs.refresh_status()
            if drew:
                self.runs.refresh_curves()
        self._plot_clock.restart()
        self.status.show_run(run)
        if dirty & {"state", "name", "settings"}:
            self._update_run_label()
        dirty.clear()

    # -- persistence ----------------------------------------------------------------------------
    def _restore_settings(self) -> None:
        notes = restore_window(self, self.settings_store)
        if notes:
            self.show_info("Saved settings adjusted: " + "; ".join(notes) + ".")

    def save_settings(self) -> None:
        save_window(self, self.settings_store)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.redraw_timer.stop()
        self.session.shutdown(JOIN_TIMEOUT_S)
        self.apps.wait(JOIN_TIMEOUT_S)
        self.save_settings()
        super().closeEvent(event)


def _device_text(device: str, threads: int | None) -> str:
    if threads and device.upper().startswith("CPU"):
        return f"CPU, {threads} thread{'s' if threads != 1 else ''}"
    return device
