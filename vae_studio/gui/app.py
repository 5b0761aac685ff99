"""The main window and the application entry point.

``MainWindow()`` builds the whole window without starting an event loop, so tests and host
applications can embed it; ``run_app()`` is what ``vae-studio`` with no arguments calls.
"""

from __future__ import annotations

import json
import math
import sys

import shiboken6
from PySide6.QtCore import QByteArray, QCoreApplication, QElapsedTimer, QEvent, QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QScrollArea,
    QSplitter,
    QStyle,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from .. import __version__
from .session import VARIANT_NAMES, RunSettings, Session, State, device_summary
from .style import app_icon, apply_theme, configure_plots
from .widgets.banner import MessageBanner
from .widgets.controls import ControlPanel
from .widgets.diagnostics import DiagnosticsPanel
from .autosave import find_orphans
from .widgets.explorer import LatentExplorer
from .widgets.loss_plot import LossPlot
from .widgets.runs import RunsPanel

ORGANIZATION = "VAE Studio"
APPLICATION = "VAE Studio"
REDRAW_HZ = 10
# While a model trains, every millisecond the window paints is taken from the training process on
# a small machine (on two cores a stall of one of PyTorch's two threads stalls both). The loss
# curves and the status bar therefore redraw at 2 Hz during a run, the latent map with each
# snapshot (about 1 Hz); when idle everything redraws at once.
PLOT_MIN_INTERVAL_MS = 500
JOIN_TIMEOUT_S = 5.0


def _format_eta(seconds: float) -> str:
    if not math.isfinite(seconds) or seconds < 0:
        return "–"
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class MainWindow(QMainWindow):
    def __init__(self, settings: QSettings | None = None, session: Session | None = None, parent: QWidget | None = None):
        super().__init__(parent)
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

        self._build_status_bar()
        self._build_menus()

        s = self.session
        s.state_changed.connect(self._on_state)
        s.error.connect(self.show_error)
        s.info.connect(self.show_info)
        s.started.connect(self._on_started)
        # class names and probe images while the training process starts, not once it trains
        s.dataset_loaded.connect(self._on_dataset_loaded)
        s.saved.connect(lambda path: self.statusBar().showMessage(f"Saved the run to {path}", 8000))
        s.run_loaded.connect(self._on_run_loaded)
        # KL per dimension reaches the chart with each snapshot (about 1 Hz), not per epoch message
        s.runs_changed.connect(self._on_runs_changed)
        self.runs.load_requested.connect(self.load_run)
        self.bottom_tabs.currentChanged.connect(lambda _=0: self._refresh_runs_view())
        self.explorer.labelChanged.connect(lambda k: self.controls.set_label(k))

        c = self.controls
        c.train_button.clicked.connect(self.train)
        c.pause_button.clicked.connect(self.toggle_pause)
        c.stop_button.clicked.connect(self.session.stop)
        c.reset_button.clicked.connect(self.reset)
        c.beta_changed.connect(self.session.set_beta)
        c.settings_changed.connect(self._on_settings_changed)
        c.variant_switched.connect(self._on_variant_switched)
        c.label_changed.connect(self.explorer.set_label)
        c.show_view.connect(self.show_view)
        c.set_training_threads(self.session.torch_threads)

        # the plots redraw from the session's buffers at a fixed rate, never per message
        self.redraw_timer = QTimer(self)
        self.redraw_timer.setInterval(1000 // REDRAW_HZ)
        self.redraw_timer.timeout.connect(self.redraw)
        self.redraw_timer.start()
        self._snapshot_version = -1
        self._probe_source = None
        self._plot_clock = QElapsedTimer()
        self._plot_clock.start()

        self._restore_settings()
        self._on_state(self.session.state.value)
        self._offer_restore()

    # -- building -------------------------------------------------------------------------------
    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.state_label = QLabel("Ready")
        self.step_label = QLabel("Step –")
        self.step_label.setToolTip("Optimisation steps taken and epochs completed out of the planned number")
        self.rate_label = QLabel("– img/s")
        self.rate_label.setToolTip("Training throughput in images per second over the last progress interval")
        self.device_label = QLabel(device_summary("auto", self.session.torch_threads))
        self.device_label.setToolTip("The device training runs on")
        self.eta_label = QLabel("ETA –")
        self.eta_label.setToolTip("Time to the planned number of epochs at the current speed")
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setFixedWidth(180)
        self.progress.setFormat("%p% of epochs")
        self.progress.setToolTip("Share of the planned epochs completed")
        for w in (self.state_label, self.step_label, self.rate_label, self.device_label, self.eta_label):
            bar.addPermanentWidget(w)
        bar.addPermanentWidget(self.progress)

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.open_action = QAction("&Open run…", self, shortcut=QKeySequence.StandardKey.Open, triggered=self._ask_open)
        self.open_action.setToolTip("Open a saved run: its curves, settings and weights; Continue trains it further")
        self.save_action = QAction("&Save run…", self, shortcut=QKeySequence.StandardKey.Save, triggered=self._ask_save)
        self.save_action.setToolTip("Save weights, optimizer state, settings and loss history to one file")
        self.export_csv_action = QAction("Export loss &history (CSV)…", self, triggered=self._ask_export_csv)
        self.export_png_action = QAction("Export &plot (PNG)…", self, triggered=self._ask_export_png)
        quit_action = QAction("&Quit", self, shortcut=QKeySequence.StandardKey.Quit, triggered=self.close)
        for a in (self.open_action, self.save_action):
            file_menu.addAction(a)
        file_menu.addSeparator()
        file_menu.addAction(self.export_csv_action)
        file_menu.addAction(self.export_png_action)
        file_menu.addSeparator()
        file_menu.addAction(quit_action)
        file_menu.setToolTipsVisible(True)

        train_menu = self.menuBar().addMenu("&Training")
        c = self.controls
        self.menu_actions: dict = {}
        for button in (c.train_button, c.pause_button, c.stop_button, c.reset_button):
            # the button holds the shortcut; the menu shows it and clicks the same button
            action = QAction(button.text(), self)
            action.triggered.connect(button.click)
            train_menu.addAction(action)
            self.menu_actions[button] = action

        help_menu = self.menuBar().addMenu("&Help")
        help_menu.addAction(QAction("&About VAE Studio", self, triggered=self._about))

    # -- training -------------------------------------------------------------------------------
    def train(self) -> None:
        self.banner.hide()
        settings = self.controls.settings()
        self.loss_plot.set_weight_visible(settings.kl_schedule != "constant")
        if self.session.start(settings):
            self.statusBar().showMessage("Loading data and building the model…", 3000)

    def toggle_pause(self) -> None:
        if self.session.state == State.PAUSED:
            self.session.resume()
        else:
            self.session.pause()

    def reset(self) -> None:
        self.session.reset()
        self.banner.hide()
        self.explorer.clear()
        self.diagnostics.clear()
        self._probe_source = None
        self.loss_plot.refresh(self.session.history, force=True)
        self.progress.setValue(0)

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

    # -- files ----------------------------------------------------------------------------------
    def save_run(self, path: str) -> None:
        self.session.save(path)

    def open_run(self, path: str) -> bool:
        return self.session.open(path) is not None

    def export_history(self, path: str) -> None:
        self.session.export_history_csv(path)
        self.statusBar().showMessage(f"Wrote the loss history to {path}", 8000)

    def export_plot(self, path: str) -> bool:
        ok = self.loss_plot.grab().save(path, "PNG")
        if ok:
            self.statusBar().showMessage(f"Wrote the plot to {path}", 8000)
        else:
            self.show_error(f"cannot write the plot to {path}")
        return ok

    def _last_dir(self) -> str:
        return str(self.settings_store.value("paths/last_dir", ""))

    def _remember_dir(self, path: str) -> None:
        from pathlib import Path

        self.settings_store.setValue("paths/last_dir", str(Path(path).parent))

    def _ask_save(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save run", self._last_dir(), "VAE Studio runs (*.pt)")
        if path:
            if not path.endswith(".pt"):
                path += ".pt"
            self._remember_dir(path)
            self.save_run(path)

    def _ask_open(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open run", self._last_dir(), "VAE Studio runs (*.pt);;All files (*)")
        if path:
            self._remember_dir(path)
            self.open_run(path)

    def _ask_export_csv(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export loss history", self._last_dir(), "CSV (*.csv)")
        if path:
            self._remember_dir(path)
            self.export_history(path if path.endswith(".csv") else path + ".csv")

    def _ask_export_png(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export plot", self._last_dir(), "PNG image (*.png)")
        if path:
            self._remember_dir(path)
            self.export_plot(path if path.endswith(".png") else path + ".png")

    def _about(self) -> None:
        box = QMessageBox(QMessageBox.Icon.Information, "About VAE Studio",
                          f"VAE Studio {__version__}\nTrain, watch and explore variational autoencoders.", parent=self)
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.open()  # non-blocking

    # -- messages -------------------------------------------------------------------------------
    def _offer_restore(self) -> None:
        """A run autosaved by a process that crashed or was killed: offer it back."""
        orphans = find_orphans()
        if not orphans:
            return
        latest = orphans[0]

        def restore() -> None:
            if self.open_run(str(latest.path)):
                for o in orphans:
                    o.path.unlink(missing_ok=True)

        self.banner.show_message(
            f"VAE Studio did not close normally last time. A run autosaved at {latest.describe()} can be restored.",
            level="info", action=("Restore", restore),
        )

    def show_error(self, text: str) -> None:
        self.banner.show_message(text, "error")
        self._status_message(text, 15000)

    def show_info(self, text: str) -> None:
        self.banner.show_message(text, "info")
        self._status_message(text, 10000)

    def _status_message(self, text: str, ms: int) -> None:
        """A one-line summary that fits beside the permanent fields (the banner has the full text)."""
        bar = self.statusBar()
        used = sum(w.width() for w in (self.state_label, self.step_label, self.rate_label, self.device_label,
                                       self.eta_label, self.progress))
        room = max(120, bar.width() - used - 60)
        text = text[:1].upper() + text[1:]
        bar.showMessage(bar.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight, room), ms)

    # -- reactions ------------------------------------------------------------------------------
    def _on_state(self, state: str) -> None:
        st = State(state)
        self.controls.set_state(st, model_locked=self.session.has_model)
        busy = self.session.busy
        self.open_action.setEnabled(not busy)
        self.save_action.setEnabled(self.session.has_model)
        for button, action in self.menu_actions.items():
            action.setEnabled(button.isEnabled())
            keys = button.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            action.setText(f"{button.text()}\t{keys}")  # Train/Continue, Pause/Resume
        names = {
            State.IDLE: "Ready", State.STARTING: "Starting…", State.RUNNING: "Training", State.PAUSED: "Paused",
            State.STOPPING: "Stopping…", State.READY: "Trained" if self.session.last_finish_reason != "error" else "Stopped (error)",
        }
        self.state_label.setText(names[st])
        self._update_run_label()
        if st == State.READY and self.session.last_finish_reason in ("completed", "stopped"):
            self.statusBar().showMessage(f"Training {self.session.last_finish_reason}", 5000)
        if st in (State.READY, State.PAUSED):  # a run that stands still is shown whole
            self.loss_plot.refresh(self.session.history)
            self.loss_plot.fit_to_data(self.session.history)
        self.redraw()

    def _on_started(self, info) -> None:
        self.device_label.setText(info.device)
        self.loss_plot.set_pixels(info.pixels)
        self._update_run_label()

    def _on_run_loaded(self, settings: RunSettings) -> None:
        current = self.controls.settings()
        # the model comes from the file; keep the person's device choice, which is about this machine
        self.controls.set_settings(settings.replace(device=current.device))
        self.loss_plot.set_pixels(self.session.pixels)
        self.loss_plot.set_weight_visible(settings.kl_schedule != "constant")
        self.loss_plot.refresh(self.session.history, force=True)
        self.loss_plot.fit_to_data(self.session.history)
        self.explorer.clear()
        self.diagnostics.clear()
        self.diagnostics.set_free_bits(settings.free_bits)
        self._probe_source = None
        self._snapshot_version = -1  # the run's own model (if it has one) goes back in at once
        self.redraw()
        self.statusBar().showMessage(
            f"Opened a run at step {self.session.live_step:,}, epoch {self.session.completed_epochs}: "
            "Continue trains it further", 8000,
        )

    def _on_settings_changed(self) -> None:
        self.diagnostics.set_free_bits(self.controls.free_bits.value())
        if not self.session.busy:
            self.device_label.setText(device_summary(self.controls.settings().device, self.session.torch_threads))

    def _update_run_label(self) -> None:
        s = self.session
        if not s.has_model:
            text = "New model: Train starts from random weights."
        elif s.busy:
            text = "Training this model; settings that shape it are fixed until Reset."
        else:
            name = f"{s.current.name}: model" if s.current is not None else "Model"
            text = (f"{name} at step {s.live_step:,}, epoch {s.completed_epochs}: Continue trains it up to Epochs; "
                    "Reset or another variant starts a new run (this one stays in the Runs tab).")
        self.controls.run_label.setText(text)

    def _on_dataset_loaded(self) -> None:
        if self.session.snapshot_version != self._snapshot_version:
            self.redraw()  # the previous run's pictures go first: their probe points index another set
        self._sync_dataset()

    def _sync_dataset(self) -> None:
        # the probe images and class names change only with the dataset
        dataset = self.session.dataset
        if dataset is not None and dataset is not self._probe_source:
            self._probe_source = dataset
            self.explorer.set_class_names(dataset.class_names)
            self.explorer.set_probe_split(dataset.test)
            self.controls.set_class_names(dataset.class_names)

    def redraw(self) -> None:
        """Bring every view up to date with the session (a 10 Hz timer calls this)."""
        s = self.session
        due = s.state != State.RUNNING or self._plot_clock.hasExpired(PLOT_MIN_INTERVAL_MS)
        p = s.latest_progress
        if due:
            planned = p.step * p.epochs / p.epoch if s.busy and p is not None and p.epoch > 0 else None
            drew = self.loss_plot.refresh(s.history, planned_steps=planned)
            if drew and self.bottom_tabs.currentWidget() is self.runs:
                self.runs.refresh_curves()
            if drew:
                self._plot_clock.restart()
        if s.snapshot_version != self._snapshot_version:
            self._snapshot_version = s.snapshot_version
            snap = s.latest_snapshot
            if snap is None:
                self.explorer.clear()
                self.diagnostics.clear()
            else:
                self._sync_dataset()
                self.explorer.set_snapshot(snap)
                self.diagnostics.set_snapshot(snap)
        if not due:
            return
        if p is not None:
            texts = (f"Step {p.step:,} · epoch {p.epoch:.2f} / {p.epochs}", f"{p.samples_per_s:,.0f} img/s",
                     f"ETA {_format_eta(p.eta) if s.busy else '–'}")
            value = int(1000 * min(1.0, p.epoch / max(1, p.epochs)))
        elif not s.has_model:
            texts, value = ("Step –", "– img/s", "ETA –"), 0
        else:
            return
        # set only what changed: every setText schedules a repaint of the status bar
        for label, text in zip((self.step_label, self.rate_label, self.eta_label), texts):
            if label.text() != text:
                label.setText(text)
        if self.progress.value() != value:
            self.progress.setValue(value)

    # -- persistence ----------------------------------------------------------------------------
    def _restore_settings(self) -> None:
        st = self.settings_store
        geometry = st.value("window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 820)
        for key, splitter in (("window/splitter", self.splitter), ("window/plots_splitter", self.plots_splitter)):
            value = st.value(key)
            if isinstance(value, QByteArray) and not value.isEmpty():
                splitter.restoreState(value)
        raw = st.value("run/settings")
        if isinstance(raw, str) and raw:
            try:
                self.controls.set_settings(RunSettings.from_dict(json.loads(raw)))
            except (ValueError, TypeError, AttributeError):
                pass  # settings from another version: keep the defaults
        self.loss_plot.log_scale.setChecked(st.value("plot/log_scale", False, type=bool))

    def save_settings(self) -> None:
        st = self.settings_store
        st.setValue("window/geometry", self.saveGeometry())
        st.setValue("window/splitter", self.splitter.saveState())
        st.setValue("window/plots_splitter", self.plots_splitter.saveState())
        st.setValue("run/settings", json.dumps(self.controls.settings().to_dict()))
        st.setValue("plot/log_scale", self.loss_plot.log_scale.isChecked())
        st.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.redraw_timer.stop()
        self.session.shutdown(JOIN_TIMEOUT_S)
        self.save_settings()
        super().closeEvent(event)


def run_app(argv: list[str] | None = None) -> int:
    """Open the window and run the event loop until it closes; the process exit status."""
    app = QApplication.instance() or QApplication(sys.argv if argv is None else argv)
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName(APPLICATION)
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("vae-studio")
    app.setWindowIcon(app_icon())
    apply_theme(app)
    window = MainWindow()
    window.show()
    status = app.exec()
    dispose(window)
    return status


def dispose(window: QWidget) -> None:
    """Delete a window's C++ objects now, while the QApplication still exists.

    Left to interpreter shutdown, a pyqtgraph view inside a parent widget may be destroyed after
    the application object and crash the process on exit.
    """
    if shiboken6.isValid(window):
        window.deleteLater()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
