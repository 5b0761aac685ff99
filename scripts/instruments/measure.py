"""How responsive the window stays while it trains, and how fast it trains compared to headless.

``measure_window`` builds a real :class:`MainWindow` and trains with the given settings to the end
inside a Qt event loop. With ``heartbeat`` it meanwhile runs a 10 ms timer on the GUI thread; the
lateness of each beat is what a person feels as lag. ``compare`` (used by ``scripts/benchmark.py``)
runs it next to ``vae-studio train`` with the same settings (:func:`cli_throughput`), alternately.

The heartbeat is an instrument, not part of the app, and not a free one: a 100 Hz timer wakes the
GUI thread a hundred times a second, which costs 1.5 to 2.5% of a core here (measured against an
idle window). On two cores that is taken from training, so ``compare`` times the window without it
and measures the lag in separate runs, whose throughput it reports too.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np
from PySide6.QtCore import QEventLoop, QSettings, QTemporaryDir, QTimer
from PySide6.QtWidgets import QApplication

from vae_studio.core.settings import RunSettings
from vae_studio.gui.run_record import SETTLED
from vae_studio.gui.session import Session
from vae_studio.gui.training_job import default_torch_threads

HEARTBEAT_MS = 10


@dataclass(frozen=True)
class WindowMeasurement:
    heartbeat_p50_ms: float  # delay beyond the 10 ms period
    heartbeat_p99_ms: float
    heartbeat_max_ms: float
    beats: int  # 0 when the heartbeat was off (its figures are then NaN)
    samples_per_s: float  # training images per second inside the window (trainer's own clock)
    wall_s: float
    steps: int
    finish: str | None

    def to_dict(self) -> dict:
        return asdict(self)


def measure_window(settings: RunSettings, torch_threads: int | None = None, timeout_s: float = 600.0,
                   show: bool = True, hover: bool = False, heartbeat: bool = True) -> WindowMeasurement:
    """Train ``settings`` in a fresh MainWindow and report heartbeat lag and throughput.

    ``hover``: meanwhile move the mouse over the latent map at 60 Hz, as a person exploring it
    during training does (each move asks for a live preview decode)."""
    from vae_studio.gui.app import MainWindow
    from vae_studio.gui.launch import dispose

    app = QApplication.instance() or QApplication([])
    tmp = QTemporaryDir()  # the person's own settings are never read or written
    store = QSettings(tmp.filePath("measure.ini"), QSettings.Format.IniFormat)
    session = Session(torch_threads=torch_threads)
    window = MainWindow(settings=store, session=session)
    window.controls.set_settings(settings)
    if show:
        window.show()

    delays: list[float] = []
    last = [time.perf_counter()]

    def beat() -> None:
        now = time.perf_counter()
        delays.append((now - last[0]) * 1000.0 - HEARTBEAT_MS)
        last[0] = now

    beats = QTimer()
    beats.setTimerType(beats.timerType().PreciseTimer)
    beats.setInterval(HEARTBEAT_MS)
    beats.timeout.connect(beat)

    mover = QTimer()
    if hover:
        from PySide6.QtCore import QEvent, QPointF, Qt
        from PySide6.QtGui import QMouseEvent

        angle = [0.0]

        def move() -> None:
            angle[0] += 0.15
            viewport = window.explorer.map.plot.viewport()
            r = viewport.rect()
            pos = QPointF(r.center().x() + 0.3 * r.width() * np.cos(angle[0]), r.center().y() + 0.3 * r.height() * np.sin(angle[0]))
            ev = QMouseEvent(QEvent.Type.MouseMove, pos, viewport.mapToGlobal(pos), Qt.MouseButton.NoButton,
                             Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
            QApplication.sendEvent(viewport, ev)

        mover.setInterval(16)
        mover.timeout.connect(move)

    loop = QEventLoop()
    session.state_changed.connect(lambda s: loop.quit() if s in SETTLED or s == "new" else None)
    deadline = QTimer()
    deadline.setSingleShot(True)
    deadline.timeout.connect(loop.quit)
    deadline.start(int(timeout_s * 1000))

    t0 = time.perf_counter()
    window.train()
    # the first beats would time the data loading, not training: start when the run does
    session.state_changed.connect(lambda s: (last.__setitem__(0, time.perf_counter()), beats.start() if heartbeat else None,
                                             mover.start() if hover else None) if s == "training" else None)
    loop.exec()
    wall = time.perf_counter() - t0
    beats.stop()
    mover.stop()
    session.shutdown(10.0)
    run = session.current
    stats = run.stats if run is not None else None
    steps = session.live_step
    finish = run.finish_reason if run is not None else None
    window.close()
    dispose(window)
    app.processEvents()

    d = np.asarray(delays[1:] or [np.nan])
    return WindowMeasurement(
        heartbeat_p50_ms=float(np.percentile(d, 50)), heartbeat_p99_ms=float(np.percentile(d, 99)),
        heartbeat_max_ms=float(d.max()), beats=len(delays[1:]),
        samples_per_s=stats.samples_per_s if stats else 0.0, wall_s=wall, steps=steps, finish=finish,
    )


def compare(settings: RunSettings, torch_threads: int | None = None, repeats: int = 1, probes: int = 1) -> dict:
    """Window against headless throughput, measured alternately, and the heartbeat's lag.

    Headless is ``vae-studio train`` itself, run as a fresh process with the same settings; the
    window trains with its own defaults and no heartbeat. Alternating the two puts both under the
    same conditions on a machine whose speed drifts; the order flips from pair to pair (window
    first, then headless first), so a steady drift favours neither. A one-epoch window run comes
    first and is not counted. With ``repeats`` > 1 the ratio is the median of the pairs'. Then
    ``probes`` more window runs with the heartbeat give its lag (the worst p99 of them) and the
    throughput the window keeps with it running.
    """
    # one short run first: what only the process's first window pays (fonts, glyph and pixmap
    # caches, lazy imports) is not training speed, as the headless process's start-up is not
    measure_window(settings.replace(epochs=1), torch_threads=torch_threads, heartbeat=False)
    wins, heads = [], []
    for i in range(repeats):
        if i % 2:
            heads.append(cli_throughput(settings))
        wins.append(measure_window(settings, torch_threads=torch_threads, heartbeat=False))
        if not i % 2:
            heads.append(cli_throughput(settings))
    probed = [measure_window(settings, torch_threads=torch_threads) for _ in range(max(1, probes))]
    ratios = [w.samples_per_s / h for w, h in zip(wins, heads) if h]
    return {
        "heartbeat_p50_ms": float(np.median([w.heartbeat_p50_ms for w in probed])),
        "heartbeat_p99_ms_worst": max(w.heartbeat_p99_ms for w in probed),
        "heartbeat_max_ms": max(w.heartbeat_max_ms for w in probed),
        "beats": sum(w.beats for w in probed),
        "probed_samples_per_s_all": [round(w.samples_per_s) for w in probed],
        "window_samples_per_s_all": [round(w.samples_per_s) for w in wins],
        "headless_samples_per_s_all": [round(h) for h in heads],
        "window_torch_threads": torch_threads or default_torch_threads(),
        "window_vs_headless": float(np.median(ratios)) if ratios else float("nan"),
        "window_vs_headless_all": [round(r, 3) for r in ratios],
        "finish": [w.finish for w in wins + probed],
    }


def cli_args(settings: RunSettings) -> list[str]:
    """``vae-studio train`` arguments for ``settings``."""
    return settings.cli_args()


def cli_throughput(settings: RunSettings) -> float:
    """Images per second of training (validation excluded) that ``vae-studio train`` reports."""
    import json
    import subprocess
    import sys
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "vae_studio", "train", *cli_args(settings), "--out", f"{tmp}/run.pt", "--json"]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    if r.returncode != 0:
        raise RuntimeError(f"vae-studio train failed: {r.stderr.strip()[-500:]}")
    return float(json.loads(r.stdout.strip().splitlines()[-1])["samples_per_s"])


if __name__ == "__main__":  # python scripts/instruments/measure.py [epochs, 0 = default] [threads, 0 = auto] [repeats] [probes]
    import json
    import sys

    epochs = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1] != "0" else RunSettings().epochs
    threads = int(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[2] != "0" else None
    repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    probes = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    result = compare(RunSettings(epochs=epochs, device="cpu"), torch_threads=threads, repeats=repeats, probes=probes)
    print(json.dumps(result, indent=1))
