#!/usr/bin/env python3
"""Render the main window part-way through training, offscreen, for the README.

    python scripts/window_screenshot.py resources/screenshot-main.png
    python scripts/make_shapes.py /tmp/shapes && python scripts/window_screenshot.py resources/screenshot-colour.png \
        --dataset /tmp/shapes --epochs 30 --pause-at 12 --show prior

Trains on the embedded digits inside a real MainWindow (its own worker thread, as a person
would), pauses once the chosen epoch is reached, clicks a spot on the latent map, and saves
``window.grab()``. Settings are kept in a temporary file, never the person's own.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def offscreen_window(size: str):
    """A themed MainWindow of ``size`` ("WxH") with its settings in a throwaway file."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from vae_studio.gui.app import MainWindow
    from vae_studio.gui.style import apply_theme

    app = QApplication.instance() or QApplication([])
    apply_theme(app)
    store = QSettings(os.path.join(tempfile.mkdtemp(), "shot.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings=store)
    w, h = (int(v) for v in size.split("x"))
    window.resize(w, h)
    return app, window


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out", type=Path)
    p.add_argument("--epochs", type=int, default=60, help="planned epochs (the bar shows progress towards them)")
    p.add_argument("--pause-at", type=int, default=25, help="epoch at which to pause and take the picture")
    p.add_argument("--latent-dim", type=int, default=2)
    p.add_argument("--size", default="1280x800")
    p.add_argument("--variant", default="vanilla")
    p.add_argument("--prior", choices=("standard", "mixture"), help="the prior (default: the form's)")
    p.add_argument("--dataset", help="a dataset name or folder (default: the built-in digits)")
    p.add_argument("--show", choices=("decode", "prior"), default="decode",
                   help="the explorer's page in the picture: the decoded point, or prior samples (Generate)")
    args = p.parse_args(argv)

    from PySide6.QtCore import QElapsedTimer, QEventLoop, QTimer

    from vae_studio.gui.launch import dispose

    app, window = offscreen_window(args.size)
    s = window.controls.settings()
    window.controls.set_settings(s.replace(epochs=args.epochs, latent_dim=args.latent_dim, variant=args.variant,
                                           kl_schedule="linear", warmup_epochs=5.0, dataset=args.dataset or s.dataset,
                                           prior=args.prior or s.prior))
    window.show()
    loop = QEventLoop()

    def check(aspects):
        v = window.session.current.last_validation
        if "history" in aspects and v is not None and v.epoch >= args.pause_at:
            window.session.pause()
            loop.quit()

    QTimer.singleShot(240_000, loop.quit)
    window.train()
    window.session.current.changed.connect(check)
    loop.exec()
    # let the last snapshot and the redraw timer land, then show a decoded point
    settle = QEventLoop()
    QTimer.singleShot(1500, settle.quit)
    settle.exec()
    window.redraw()
    window.explorer.decode_at(0.5, -0.5)
    if args.show == "prior":
        g = window.explorer.generation
        window.explorer.tabs.setCurrentWidget(g)
        g.show_page(g.prior)
    # the map-quality figure follows a training model with a small share of the time: let it
    # catch up with the paused model, so the caption speaks of the step shown
    quality, waited = window.explorer.map_quality, QElapsedTimer()
    waited.start()
    while not quality.current() and waited.elapsed() < 120_000:
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
    app.processEvents()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(args.out))
    print(f"saved {args.out}")
    window.session.shutdown(10.0)
    window.close()
    dispose(window)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
