#!/usr/bin/env python3
"""Render the variant panels and the run comparison offscreen, for the README.

    python scripts/variant_screenshots.py resources/

Drives a real MainWindow the way a person would: trains a vanilla VAE (10-D latent space), switches
to the conditional variant (the vanilla run stays in the run list) and trains it (2-D), switches
to β = 4 (10-D) and trains it, then compares the vanilla and β runs. Each model trains for
``--epochs`` epochs on the embedded digits (seconds each on a laptop CPU). Saves
screenshot-vanilla.png, screenshot-conditional.png, screenshot-beta.png and
screenshot-compare.png into the given folder. Settings are kept in a temporary file.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out", type=Path, help="folder for the PNG files")
    p.add_argument("--epochs", type=int, default=20, help="epochs per model")
    p.add_argument("--size", default="1280x800")
    p.add_argument("--iwae-samples", type=int, default=50)
    args = p.parse_args(argv)

    from PySide6.QtCore import QEventLoop, QTimer

    from vae_studio.gui.launch import dispose
    from instruments.smoke import wait_until
    from window_screenshot import offscreen_window

    app, window = offscreen_window(args.size)
    window.show()
    args.out.mkdir(parents=True, exist_ok=True)
    c = window.controls

    def wait(ms: int) -> None:
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    def train(**changes) -> None:
        c.set_settings(c.settings().replace(epochs=args.epochs, **changes))
        c.train_button.click()
        wait_until(lambda: window.session.state.settled, 300_000)
        if window.session.current.finish_reason != "completed":
            raise SystemExit(f"training did not complete: {window.session.current.finish_reason}")
        wait(300)
        window.redraw()
        app.processEvents()

    def save(name: str) -> None:
        app.processEvents()
        path = args.out / name
        window.grab().save(str(path))
        print(f"saved {path} ({path.stat().st_size // 1024} KB)")

    # -- vanilla: 10-D, a short KL warm-up; the map is a PCA view, KL per dimension beside the loss
    c.variant.buttons["vanilla"].click()
    train(latent_dim=10, kl_schedule="linear", warmup_epochs=3.0, free_bits=0.0)
    window.explorer.decode_at(1.0, 0.5)
    save("screenshot-vanilla.png")

    # -- conditional: 2-D; the style-transfer figure, and the sliders decode as the chosen class
    c.variant.buttons["conditional"].click()  # the vanilla run goes to the run list
    train(latent_dim=2, kl_schedule="constant", warmup_epochs=0.0)
    c.class_combo.setCurrentIndex(c.class_combo.findData(3))
    window.explorer.decode_at(-0.6, 0.4)
    _, labels = window.explorer.probe_examples(range(window.explorer.probe_count()))
    window.explorer.splitter.setSizes([560, 620])  # room for every Generate tab
    c.transfer_button.click()
    st = window.explorer.generation.style_transfer
    st.select(int((labels == 2).nonzero()[0][0]))
    st.rows.setValue(8)
    window.banner.hide()
    save("screenshot-conditional.png")

    # -- β = 4 with 10 dimensions: fewer dimensions stay active; the traversal shows what each holds
    c.variant.buttons["beta"].click()
    train(latent_dim=10, beta=4.0, kl_schedule="linear", warmup_epochs=3.0, free_bits=0.0)
    c.traversal_button.click()
    window.explorer.generation.traversal.steps.setValue(9)
    window.banner.hide()
    save("screenshot-beta.png")

    # -- compare the vanilla and β runs: overlaid curves and the held-out table
    runs = window.session.runs
    window.bottom_tabs.setCurrentWidget(window.runs)
    window.runs.k_spin.setValue(args.iwae_samples)
    h = window.plots_splitter.height()
    window.plots_splitter.setSizes([int(h * 0.42), int(h * 0.58)])
    window.runs.select([runs[0].id, runs[2].id])
    wait_until(lambda: not window.session.scoring and all(r[1] not in ("…", "") for r in window.runs.table_rows()), 300_000)
    window.runs.refresh_table()
    wait(200)
    save("screenshot-compare.png")

    window.session.shutdown(10.0)
    window.close()
    dispose(window)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
