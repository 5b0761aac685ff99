"""Screenshot TensorBoard's Scalars page for a log folder: TensorBoard itself, served on localhost.

    xvfb-run -a python scripts/tensorboard_screenshot.py LOGDIR OUT.png [--page scalars] [--wait 25]

Needs `tensorboard` and Qt WebEngine (`pip install PySide6-Addons` of the same version as
PySide6-Essentials; it is not a dependency of VAE Studio), and a display (xvfb-run gives one).
TensorBoard is started on a free port of 127.0.0.1 and stopped afterwards; nothing else is reached.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
import urllib.request


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(logdir: str, port: int) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "tensorboard.main", "--logdir", logdir, "--host", "127.0.0.1", "--port", str(port)]
    server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(120):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as r:
                if r.status == 200:
                    return server
        except OSError:
            time.sleep(0.5)
    server.kill()
    raise SystemExit("TensorBoard did not start within a minute")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("logdir")
    ap.add_argument("out")
    ap.add_argument("--page", default="scalars", help="scalars, timeseries, images or projector")
    ap.add_argument("--wait", type=float, default=25.0, help="seconds to let the page draw its charts")
    ap.add_argument("--zoom", type=float, default=0.8)
    ap.add_argument("--size", default="1280x860")
    args = ap.parse_args()
    os.environ.setdefault("QTWEBENGINE_CHROMIUM_FLAGS", "--no-sandbox --disable-gpu")
    os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
    from PySide6.QtCore import QTimer, QUrl
    from PySide6.QtWebEngineWidgets import QWebEngineView
    from PySide6.QtWidgets import QApplication

    port = _free_port()
    server = _serve(args.logdir, port)
    try:
        app = QApplication(sys.argv[:1])
        view = QWebEngineView()
        w, h = (int(v) for v in args.size.split("x"))
        view.resize(w, h)
        view.setZoomFactor(args.zoom)
        view.load(QUrl(f"http://127.0.0.1:{port}/#{args.page}"))
        view.show()

        def grab() -> None:
            ok = view.grab().save(args.out)
            print(f"{'wrote' if ok else 'could not write'} {args.out}")
            app.quit()

        QTimer.singleShot(int(args.wait * 1000), grab)
        app.exec()
    finally:
        server.terminate()
        server.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
