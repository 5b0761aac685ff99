"""Run comparison figures: each run's model scored on the same held-out images in a worker thread."""

from __future__ import annotations

import threading
from typing import Callable

from PySide6.QtCore import QObject, Signal
from superqt.utils import create_worker

from ..core.data import load_for_model
from ..core.image_format import model_format
from ..core.evaluate import EvalResult, evaluate_weights
from .run_record import RunRecord

EVAL_MAX_IMAGES = 2000  # held-out images a run comparison scores: seconds, not minutes, on a CPU
DEFAULT_IWAE_SAMPLES = 50


def _score_runs(jobs: list[tuple], datasets: dict, k: int) -> list[tuple[int, int, EvalResult]]:
    out = []
    for run_id, step, cfg, state, source in jobs:
        key = (source, *model_format(cfg.image_shape))
        if key not in datasets:
            datasets[key] = load_for_model(source, cfg.image_shape)
        result = evaluate_weights(cfg, state, datasets[key].test, iwae_samples=k, max_images=EVAL_MAX_IMAGES)
        out.append((run_id, step, result))
    return out


class RunScorer(QObject):
    """Scores runs one batch at a time; a request made while one runs is served when it ends."""

    ready = Signal()  # new figures in some RunRecord.metrics
    failed = Signal(str)

    def __init__(self, find_run: Callable[[int], RunRecord | None], datasets: Callable[[], dict], parent=None):
        super().__init__(parent)
        self._find = find_run
        self._datasets = datasets
        self._worker = None
        self._pending: tuple[list[int], int] | None = None
        self._done = threading.Event()
        self._done.set()

    @property
    def busy(self) -> bool:
        return self._worker is not None

    def request(self, runs: list[RunRecord], k: int = DEFAULT_IWAE_SAMPLES) -> bool:
        """Score ``runs`` (−ELBO, recon, KL, IWAE NLL with ``k`` samples, active units); False if
        none needed it. A run that is training is left out: its weights move."""
        jobs = []
        for run in runs:
            weights = run.weights()
            if weights is None or run.result(k) is not None or run.state.busy:
                continue
            jobs.append((run.id, run.model_step(), *weights, run.source))
        if not jobs:
            return False
        if self._worker is not None:
            self._pending = ([r.id for r in runs], k)
            return True
        datasets = dict(self._datasets())  # the worker adds to its own copy, never to the session's
        done = threading.Event()
        self._done = done

        def score():
            try:
                return _score_runs(jobs, datasets, k)
            finally:
                done.set()

        worker = create_worker(score, _start_thread=False)
        worker.returned.connect(lambda results: self._on_results(results, k))
        worker.errored.connect(lambda exc: self.failed.emit(f"cannot score the runs: {exc}"))
        worker.finished.connect(self._on_finished)
        self._worker = worker
        worker.start()
        return True

    def wait(self, timeout: float) -> bool:
        self._pending = None
        return self._done.wait(timeout)

    def _on_results(self, results, k: int) -> None:
        for run_id, step, result in results:
            run = self._find(run_id)
            if run is not None:
                run.metrics[(k, step)] = result
        self.ready.emit()

    def _on_finished(self) -> None:
        self._worker = None
        pending, self._pending = self._pending, None
        if pending:
            ids, k = pending
            self.request([r for r in map(self._find, ids) if r is not None], k)
