"""A whole-window smoke run, as a person would do it: press Train, wait for the run to finish,
click the latent map, drag a slider, save a screenshot.

    python scripts/instruments/smoke.py OUT.png

It runs on whatever Qt platform is set (offscreen, or a real X11 window with
QT_QPA_PLATFORM=xcb), prints one JSON line of what it saw, and exits non-zero when a step did
not have its effect. The real-window and clean-wheel tests run it in a separate process.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import numpy as np
from PySide6.QtCore import QEventLoop, QSettings, Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from vae_studio.gui.app import MainWindow
from vae_studio.gui.launch import dispose
from vae_studio.core.settings import RunSettings
from vae_studio.gui.style import apply_theme


def wait_until(condition, timeout_ms: int) -> bool:
    """Run the event loop until ``condition()`` holds or the time is up; whether it holds."""
    loop = QEventLoop()
    timer = QTimer()
    timer.setInterval(20)
    timer.timeout.connect(lambda: loop.quit() if condition() else None)
    QTimer.singleShot(timeout_ms, loop.quit)
    timer.start()
    if not condition():
        loop.exec()
    timer.stop()
    return condition()


def run_smoke(out: Path, epochs: int = 3, timeout_s: float = 120.0) -> dict:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    apply_theme(app)
    store = QSettings(str(Path(tempfile.mkdtemp()) / "smoke.ini"), QSettings.Format.IniFormat)
    w = MainWindow(settings=store)
    w.controls.set_settings(RunSettings(hidden=(64,), latent_dim=2, epochs=epochs, device="cpu"))
    w.resize(1400, 900)
    w.show()
    result: dict = {"platform": app.platformName()}
    result["exposed"] = QTest.qWaitForWindowExposed(w, 10_000)

    QTest.mouseClick(w.controls.train_button, Qt.MouseButton.LeftButton)
    result["trained"] = wait_until(lambda: w.session.current is not None and w.session.current.finish_reason == "completed" and not w.session.busy, int(timeout_s * 1000))
    w.redraw()
    app.processEvents()
    result["map_points"] = int(len(w.explorer.map_xy()))

    before = w.explorer.decoded_image()
    w.explorer.map.settle()
    pos = w.explorer.map.view_to_widget(1.2, -0.8)
    QTest.mouseClick(w.explorer.map.plot.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    app.processEvents()
    clicked = w.explorer.decoded_image()
    result["click_changed_image"] = bool(before is not None and clicked is not None and not np.array_equal(before, clicked))

    slider = w.explorer.sliders.slider_for(0)
    slider.setFocus()
    for _ in range(20):  # the keyboard moves it the way a person's arrow keys would
        QTest.keyClick(slider, Qt.Key.Key_PageUp)
    app.processEvents()
    moved = w.explorer.decoded_image()
    result["slider_changed_image"] = bool(moved is not None and not np.array_equal(moved, clicked))

    out.parent.mkdir(parents=True, exist_ok=True)
    result["screenshot"] = bool(w.grab().save(str(out)))
    w.session.shutdown(10.0)
    w.close()
    dispose(w)
    app.processEvents()
    result["ok"] = all(result[k] for k in ("exposed", "trained", "click_changed_image", "slider_changed_image", "screenshot")) and result["map_points"] > 0
    return result


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python scripts/instruments/smoke.py OUT.png", file=sys.stderr)
        return 2
    result = run_smoke(Path(argv[0]))
    print(json.dumps(result))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
