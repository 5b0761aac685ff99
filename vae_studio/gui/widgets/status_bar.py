"""The status bar's permanent fields: state, step and epoch, throughput, device, ETA, progress."""

from __future__ import annotations

import math

from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar

from ..run_record import RunRecord, RunState

STATE_NAMES = {
    RunState.NEW: "Ready", RunState.STARTING: "Starting…", RunState.TRAINING: "Training", RunState.PAUSED: "Paused",
    RunState.STOPPING: "Stopping…", RunState.STOPPED: "Stopped", RunState.TRAINED: "Trained",
    RunState.FAILED: "Stopped (error)", RunState.OPENED: "Opened",
}
RATE_DECAY = 0.85  # per reading (2 Hz): the ETA follows a change of speed within a few seconds, not each blip


def format_eta(seconds: float) -> str:
    if not math.isfinite(seconds) or seconds < 0:
        return "–"
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class EtaEstimate:
    """Time left from a smoothed throughput: one slow or fast interval does not move the ETA much."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._rate = 0.0
        self._weight = 0.0

    def update(self, eta: float, rate: float) -> float:
        if not (math.isfinite(eta) and rate > 0):
            return eta
        self._weight = RATE_DECAY * self._weight + (1 - RATE_DECAY)
        self._rate = RATE_DECAY * self._rate + (1 - RATE_DECAY) * rate
        smoothed = self._rate / self._weight
        return eta * rate / smoothed  # eta is remaining images / rate now


class StatusFields:
    def __init__(self, bar: QStatusBar, device_text: str):
        self.state_label = QLabel("Ready")
        self.step_label = QLabel("Step –")
        self.step_label.setToolTip("Optimisation steps taken and epochs completed out of the planned number")
        self.rate_label = QLabel("– img/s")
        self.rate_label.setToolTip("Training throughput in images per second over the last progress interval")
        self.device_label = QLabel(device_text)
        self.device_label.setToolTip("The device training runs on, and the CPU threads it uses")
        self.eta_label = QLabel("ETA –")
        self.eta_label.setToolTip("Time to the planned number of epochs at the recent speed")
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setFixedWidth(180)
        self.progress.setFormat("%p% of epochs")
        self.progress.setToolTip("Share of the planned epochs completed")
        self.widgets = (self.state_label, self.step_label, self.rate_label, self.device_label, self.eta_label, self.progress)
        for w in self.widgets:
            bar.addPermanentWidget(w)
        self.eta = EtaEstimate()

    def used_width(self) -> int:
        return sum(w.width() for w in self.widgets)

    def show_run(self, run: RunRecord | None) -> None:
        """Everything from the one run shown (its progress while it trains, its model after)."""
        state = run.state if run is not None else RunState.NEW
        loading = run.loading if run is not None and state == RunState.STARTING else None
        self._set(self.state_label, f"Reading images {loading.done:,} / {loading.total:,}" if loading else STATE_NAMES[state])
        if run is None or (not run.has_model and run.progress is None):
            texts, value = ("Step –", "– img/s", "ETA –"), 0
            self.eta.reset()
        else:
            p = run.progress
            planned = p.epochs if p is not None else run.settings.epochs
            epoch = run.epoch
            if p is not None and state.busy and state != RunState.PAUSED:
                eta = format_eta(self.eta.update(p.eta, p.samples_per_s))
                rate = f"{p.samples_per_s:,.0f} img/s"
            else:
                self.eta.reset()
                eta = "–"
                rate = f"{run.stats.samples_per_s:,.0f} img/s" if run.stats and run.stats.seconds > 0 else "– img/s"
            texts = (f"Step {run.step:,} · epoch {epoch:.2f} / {planned}", rate, f"ETA {eta}")
            value = int(1000 * min(1.0, epoch / max(1, planned)))
        for label, text in zip((self.step_label, self.rate_label, self.eta_label), texts):
            self._set(label, text)
        if self.progress.value() != value:
            self.progress.setValue(value)

    @staticmethod
    def _set(label: QLabel, text: str) -> None:
        if label.text() != text:  # every setText schedules a repaint of the status bar
            label.setText(text)
