"""How fast the explorer answers on this machine: a click to a painted digit, a map update."""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QApplication

from vae_studio.gui.widgets.explorer.panel import LatentExplorer


def measure_explorer(snapshot, n_points: int = 5000, clicks: int = 60, updates: int = 15, seed: int = 0) -> dict:
    """Time the explorer on this machine: click -> decoded image painted, and a map update.

    The probe set is resampled (with a little jitter) to ``n_points`` so the map carries a
    realistic load. Times include the synchronous repaint of what changed: the decoded view for
    a click, the map for an update. Needs a QApplication; makes one (offscreen works) if none.
    """
    import dataclasses

    app = QApplication.instance() or QApplication([])
    rng = np.random.default_rng(seed)
    p = len(snapshot.probe_mu)
    pick = rng.integers(0, p, n_points) if n_points != p else np.arange(p)
    mu = snapshot.probe_mu[pick] + rng.normal(0, 0.05, (n_points, snapshot.probe_mu.shape[1])).astype(np.float32)
    snap = dataclasses.replace(snapshot, probe_mu=mu.astype(np.float32), probe_labels=snapshot.probe_labels[pick], probe_index=pick)
    w = LatentExplorer()
    w.resize(1280, 760)
    w.show()
    w.set_snapshot(snap)
    app.processEvents()
    try:
        (x0, x1), (y0, y1) = w.map.visible_range()
        click_ms, click_map_ms = [], []
        for _ in range(clicks):
            x, y = rng.uniform(x0, x1), rng.uniform(y0, y1)
            scene = w.map.vb.mapViewToScene(QPointF(x, y))
            t0 = time.perf_counter()
            w.map.handle_scene_click(scene)
            w.decoded_view.view.viewport().repaint()
            t1 = time.perf_counter()
            w.map.plot.viewport().repaint()  # the marker moved too
            t2 = time.perf_counter()
            click_ms.append((t1 - t0) * 1e3)
            click_map_ms.append((t2 - t0) * 1e3)
        update_ms, update_call_ms = [], []
        for k in range(updates):
            s = dataclasses.replace(snap, probe_mu=snap.probe_mu + np.float32(0.01 * (k % 3)), step=snap.step + k + 1)
            t0 = time.perf_counter()
            w.set_snapshot(s)
            t1 = time.perf_counter()
            w.map.plot.viewport().repaint()
            t2 = time.perf_counter()
            update_call_ms.append((t1 - t0) * 1e3)
            update_ms.append((t2 - t0) * 1e3)
        return {
            "click_p50_ms": float(np.percentile(click_ms, 50)),
            "click_p95_ms": float(np.percentile(click_ms, 95)),
            "click_with_map_repaint_p95_ms": float(np.percentile(click_map_ms, 95)),
            "map_update_ms": float(np.median(update_ms)),
            "map_update_p95_ms": float(np.percentile(update_ms, 95)),
            "set_snapshot_call_ms": float(np.median(update_call_ms)),
            "map_points": int(len(w.map.points())),
        }
    finally:
        w.close()
        w.deleteLater()

