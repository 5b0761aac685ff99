"""The session's runs: a list to pick from, overlaid loss curves, and a table of held-out figures.

Every run trained or opened in this window stays here with its settings, curves and model.
Selecting runs overlays their curves and scores them (off the GUI thread, through the session);
"Load into explorer" makes a run current again, so the explorer shows it and Train continues it.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from .smoothing import Smoother
from ..scoring import DEFAULT_IWAE_SAMPLES, EVAL_MAX_IMAGES
from .plot_parts import add_grid, cache_static_parts, legend_brush

if TYPE_CHECKING:
    from ..session import Session

# Okabe-Ito, in an order where neighbours differ most; runs take them in turn
RUN_COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")
COLUMNS = ("Run", "−ELBO", "recon", "KL", "IWAE NLL", "active units")


def run_color(run_id: int) -> str:
    return RUN_COLORS[(run_id - 1) % len(RUN_COLORS)]


class RunsPanel(QWidget):
    load_requested = Signal(int)  # a run id

    def __init__(self, session: "Session", parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self._curves: dict[int, tuple[pg.PlotDataItem, pg.PlotDataItem]] = {}
        self._drawn_versions: dict[int, int] = {}
        self._smoothers: dict[int, Smoother] = {}
        self._legend_ids: tuple[int, ...] = ()

        root = QHBoxLayout(self)
        root.setContentsMargins(0, 0, 0, 0)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        root.addWidget(self.splitter)

        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(6, 0, 6, 0)
        title = QLabel("Runs")
        title.setObjectName("sectionTitle")
        ll.addWidget(title)
        cap = QLabel("Every run of this session. Select two or more (Ctrl/Shift-click) to compare them.")
        cap.setObjectName("caption")
        cap.setWordWrap(True)
        ll.addWidget(cap)
        self.list = QListWidget()
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.list.setToolTip("Runs trained or opened in this window; double-click one to explore it")
        self.list.setWordWrap(True)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setResizeMode(QListWidget.ResizeMode.Adjust)
        ll.addWidget(self.list, 1)
        self.load_button = QPushButton("Load into explorer")
        self.load_button.setToolTip("Make the selected run current: the latent explorer shows its model, Train continues it")
        ll.addWidget(self.load_button)
        self.splitter.addWidget(left)

        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 6, 0)
        rl.setSpacing(4)
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setToolTip("−ELBO of each selected run, nats per image: solid, training (smoothed); "
                                 "circles, held out after each epoch")
        self.plot: pg.PlotItem = self.graphics.addPlot()
        self.plot.setLabel("left", "−ELBO", units="nats / image")
        self.plot.getAxis("left").enableAutoSIPrefix(False)
        self.plot.setLabel("bottom", "training step")
        self.plot.setTitle("−ELBO · lines: training, smoothed · dots: held out", size="9pt")
        add_grid(self.plot)
        self.plot.setClipToView(True)
        self.plot.setDownsampling(auto=True, mode="peak")
        self.legend = self.plot.addLegend(offset=(-10, 10), labelTextSize="9pt", brush=legend_brush(), colCount=3)
        cache_static_parts(self.plot)
        self.graphics.setMinimumHeight(130)

        bar = QHBoxLayout()
        head = QLabel("Held-out figures")
        head.setObjectName("sectionTitle")
        bar.addWidget(head)
        bar.addSpacing(10)
        self.k_label = QLabel("IWAE samples k")
        self.k_spin = QSpinBox()
        self.k_spin.setRange(1, 5000)
        self.k_spin.setValue(DEFAULT_IWAE_SAMPLES)
        self.k_spin.setKeyboardTracking(False)
        tip = ("Importance samples per image for the IWAE bound on −log p(x) (Burda et al. 2015): k = 1 is the "
               "−ELBO; larger k is tighter and slower")
        for w in (self.k_label, self.k_spin):
            w.setToolTip(tip)
        bar.addWidget(self.k_label)
        bar.addWidget(self.k_spin)
        self.status = QLabel("")
        self.status.setObjectName("caption")
        bar.addWidget(self.status, 1)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for c in range(1, len(COLUMNS)):
            header.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        self.table.setToolTip(
            f"On the first {EVAL_MAX_IMAGES:,} held-out images (the same for every run), nats per image, lower is "
            "better.\n−ELBO = recon + KL; IWAE NLL is a tighter bound on −log p(x); active units: dimensions "
            "whose encoder mean varies over the data."
        )
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 8)  # compact rows
        self.table.setMinimumHeight(self._table_height(2))
        figures = QWidget()
        fl = QVBoxLayout(figures)
        fl.setContentsMargins(0, 0, 0, 0)
        fl.setSpacing(4)
        fl.addLayout(bar)
        fl.addWidget(self.table, 1)
        # the curves and the figures share the height; the person can give either more
        self.right_splitter = QSplitter(Qt.Orientation.Vertical)
        self.right_splitter.addWidget(self.graphics)
        self.right_splitter.addWidget(figures)
        self.right_splitter.setChildrenCollapsible(False)
        self.right_splitter.setSizes([300, 200])
        rl.addWidget(self.right_splitter, 1)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setSizes([260, 800])

        self.list.itemSelectionChanged.connect(self._on_selection)
        self.list.itemDoubleClicked.connect(lambda item: self.load_requested.emit(item.data(Qt.ItemDataRole.UserRole)))
        self.load_button.clicked.connect(self._load_selected)
        self.k_spin.valueChanged.connect(lambda _=0: self._on_selection())
        session.runs_changed.connect(self.refresh_list)
        session.current_changed.connect(lambda _run: self.refresh_list())
        session.metrics_ready.connect(self.refresh_table)
        self._watched: set[int] = set()
        self.refresh_list()

    # -- public ------------------------------------------------------------------------------
    def selected_ids(self) -> list[int]:
        return [item.data(Qt.ItemDataRole.UserRole) for item in self.list.selectedItems()]

    def select(self, run_ids) -> None:
        wanted = set(run_ids)
        self.list.blockSignals(True)
        for i in range(self.list.count()):
            item = self.list.item(i)
            item.setSelected(item.data(Qt.ItemDataRole.UserRole) in wanted)
        self.list.blockSignals(False)
        self._on_selection()

    def curve_data(self) -> dict[int, tuple]:
        """(x, y) of each visible run's training −ELBO curve, by run id (for tests)."""
        out = {}
        for run_id, (train, _) in self._curves.items():
            if train.isVisible():
                out[run_id] = train.getOriginalDataset()
        return out

    def table_rows(self) -> list[list[str]]:
        return [[self.table.item(r, c).text() if self.table.item(r, c) else "" for c in range(self.table.columnCount())]
                for r in range(self.table.rowCount())]

    def _table_height(self, rows: int) -> int:
        header = self.table.horizontalHeader().sizeHint().height()
        return header + rows * self.table.verticalHeader().defaultSectionSize() + 2 * self.table.frameWidth() + 2

    @staticmethod
    def _item_text(run, mark: str) -> str:
        return f"{run.label}{mark}\n    {run.status_text()}, step {run.step:,} · {run.origin}"

    def refresh_status(self) -> None:
        """Each run's line from its record: state, epoch and step (cheap: texts only)."""
        current = self.session.current
        for i in range(self.list.count()):
            item = self.list.item(i)
            run = self.session.run(item.data(Qt.ItemDataRole.UserRole))
            if run is not None:
                text = self._item_text(run, " (current)" if run is current else "")
                if item.text() != text:
                    item.setText(text)

    def _on_run_changed(self, aspects: frozenset) -> None:
        if aspects & {"state", "name", "settings"}:
            self.refresh_status()

    def refresh_list(self) -> None:
        for run in self.session.runs:
            if run.id not in self._watched:  # a run's state changes reach its line at once
                self._watched.add(run.id)
                run.changed.connect(self._on_run_changed)
        keep = set(self.selected_ids())
        self.list.blockSignals(True)
        self.list.clear()
        current = self.session.current
        for run in self.session.runs:
            mark = " (current)" if run is current else ""
            item = QListWidgetItem(self._item_text(run, mark))
            item.setData(Qt.ItemDataRole.UserRole, run.id)
            item.setForeground(pg.mkColor(run_color(run.id)))
            s = run.settings
            item.setToolTip(
                f"{run.name}: {s.describe()}\ndataset {s.dataset} · hidden {','.join(map(str, s.hidden))} · "
                f"{s.likelihood} · lr {s.lr:g} · batch {s.batch_size} · seed {s.seed}"
            )
            self.list.addItem(item)
            item.setSelected(run.id in keep)
        self.list.blockSignals(False)
        self._on_selection()

    def refresh_curves(self) -> None:
        """Redraw the overlaid curves whose buffers moved (the window calls this while it shows)."""
        selected = set(self.selected_ids())
        for run in self.session.runs:
            pair = self._curves.get(run.id)
            if run.id not in selected:
                if pair:
                    for item in pair:
                        item.hide()
                continue
            if pair is None:
                color = run_color(run.id)
                train = self.plot.plot(pen=pg.mkPen(color, width=2), name=run.name)
                val = self.plot.plot(pen=None, symbol="o", symbolSize=6, symbolBrush=color, symbolPen=None)
                pair = self._curves[run.id] = (train, val)
            h = run.history
            if self._drawn_versions.get(run.id) != h.version or not pair[0].isVisible():
                smoother = self._smoothers.setdefault(run.id, Smoother())
                pair[0].setData(h.array("step"), smoother.arrays(h)["neg_elbo"])
                pair[1].setData(h.array("val_step"), h.array("val_neg_elbo"))
                self._drawn_versions[run.id] = h.version
            for item in pair:
                item.show()
        shown = tuple(run_id for run_id, (train, _) in self._curves.items() if train.isVisible())
        if shown != self._legend_ids:  # the legend names only what is drawn
            self._legend_ids = shown
            self.legend.clear()
            for run_id in shown:
                run = self.session.run(run_id)
                self.legend.addItem(self._curves[run_id][0], run.name if run else "")
        self.plot.enableAutoRange()

    def refresh_table(self) -> None:
        k = self.k_spin.value()
        runs = [r for r in (self.session.run(i) for i in self.selected_ids()) if r is not None]
        self.table.setRowCount(len(runs))
        # up to three runs are always in view; more scroll
        self.table.setMinimumHeight(self._table_height(max(2, min(len(runs), 3))))
        self.table.setHorizontalHeaderItem(4, QTableWidgetItem(f"IWAE NLL (k={k})"))
        waiting = 0
        for row, run in enumerate(runs):
            res = run.result(k)
            if res is None:
                pending = "training…" if run is self.session.current and self.session.busy else "…"
                waiting += pending == "…"
                cells = [run.label, pending, "", "", "", ""]
            else:
                cells = [run.label, f"{res.neg_elbo:.2f}", f"{res.recon:.2f}", f"{res.kl:.2f}",
                         f"{res.nll_iwae:.2f}" if res.nll_iwae is not None and math.isfinite(res.nll_iwae) else "–",
                         f"{res.active_units} / {len(res.kl_per_dim)}"]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if col == 0:
                    item.setForeground(pg.mkColor(run_color(run.id)))
                    item.setToolTip(run.label)
                else:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row, col, item)
        if not runs:
            self.status.setText("Select runs on the left.")
        elif waiting and self.session.scoring:
            self.status.setText(f"scoring {waiting} run{'s' if waiting > 1 else ''} on the held-out set…")
        else:
            self.status.setText("nats per image, lower is better")

    # -- internals ---------------------------------------------------------------------------
    def _on_selection(self) -> None:
        ids = self.selected_ids()
        self.load_button.setEnabled(len(ids) == 1)
        self.session.request_metrics(ids, self.k_spin.value())
        self.refresh_curves()
        self.refresh_table()

    def _load_selected(self) -> None:
        ids = self.selected_ids()
        if len(ids) == 1:
            self.load_requested.emit(ids[0])
