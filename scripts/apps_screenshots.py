#!/usr/bin/env python3
"""Render the applications lab's views offscreen at 1280x800, for the README.

    python scripts/apps_screenshots.py resources/

Trains a model on the embedded digits inside a real MainWindow with one class left out of
training (7 by default, so that it is the anomaly the view starts with), then saves
``screenshot-denoise.png`` (the Apply tab inpainting an occluded held-out digit, encode -> decode
pass by pass) and
``screenshot-anomaly.png`` (the Anomalies tab with the held-out class as the anomaly). Settings
are kept in a temporary file, never the person's own.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def wait_until(app, condition, timeout_s: float) -> bool:
    import time

    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        app.processEvents()
        if condition():
            return True
        time.sleep(0.02)
    return False


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out", type=Path, help="folder for the two PNG files")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--latent-dim", type=int, default=16)
    p.add_argument("--held-out", type=int, default=7, help="the class left out of training")
    p.add_argument("--digit", type=int, default=4, help="the held-out point the Apply tab shows")
    p.add_argument("--size", default="1280x800")
    args = p.parse_args(argv)

    from window_screenshot import offscreen_window

    from vae_studio.gui.launch import dispose

    app, window = offscreen_window(args.size)
    classes = tuple(c for c in range(10) if c != args.held_out)
    s = window.controls.settings()
    window.controls.set_settings(s.replace(epochs=args.epochs, latent_dim=args.latent_dim, classes=classes,
                                           variant="vanilla", device="cpu"))
    window.show()
    window.train()
    if not wait_until(app, lambda: window.session.current is not None and window.session.current.state.settled, 900):
        print("training did not finish in time", file=sys.stderr)
        return 1
    window.redraw()
    app.processEvents()
    args.out.mkdir(parents=True, exist_ok=True)

    # the Apply tab: an occluded held-out digit, inpainted
    ex = window.explorer
    tab = ex.apply_tab
    ex.tabs.setCurrentWidget(tab)
    tab.method_combo.setCurrentIndex(tab.method_combo.findData("encoder"))  # its inpainting passes are shown
    tab.kind_combo.setCurrentIndex(tab.kind_combo.findData("occlusion"))
    tab.set_level(0.45)
    ex.select_point(args.digit)
    ex.tabs.setCurrentWidget(tab)
    wait_until(app, lambda: tab.chart.curve is not None and not tab.chart_job.busy and ex.map_quality.current(), 300)
    app.processEvents()
    shot = args.out / "screenshot-denoise.png"
    window.grab().save(str(shot))
    print(f"saved {shot}")

    # the Anomalies tab: the class left out of training is the anomaly
    panel = window.apps.anomaly
    window.bottom_tabs.setCurrentWidget(panel)
    window.plots_splitter.setSizes([400, 370])
    ex.tabs.setCurrentWidget(ex.decode_tab)
    wait_until(app, lambda: panel.view.scored is not None and not panel.job.busy, 300)
    app.processEvents()
    picks = panel.view.gallery(1)["least"]
    if picks:
        panel.gallery.thumbs["least"][0].clicked.emit(picks[0])
    app.processEvents()
    shot = args.out / "screenshot-anomaly.png"
    window.grab().save(str(shot))
    print(f"saved {shot}")
    window.session.shutdown(10.0)
    window.apps.wait(10.0)
    window.close()
    dispose(window)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
