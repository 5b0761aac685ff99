#!/usr/bin/env python3
"""Before and after, as the window draws them: the 2-D latent map and a grid of generated digits
from the tutorial settings and from VAE Studio's defaults, trained on the embedded digits.

    python scripts/quality_figures.py resources/quality-before-after.png
    python scripts/quality_figures.py /tmp/q.png --quick     # two epochs: checks the script runs

Top row: the held-out digits' posterior means (latent 2), coloured by class, in the window's own
map widget, titled with the held-out -ELBO and the 5-NN class accuracy. Bottom row: 100 digits
from a latent-20 model of each kind, sampled the way each one samples: the tutorial from the
prior N(0, I), the defaults from the fitted posterior (the window's and `vae-studio sample`'s
default sampler). Training is the engine's; nothing is downloaded.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from quality_evidence import TUTORIAL, held_out, knn_accuracy, new_defaults, train  # noqa: E402
from vae_studio.core import Dataset, ModelConfig, TrainConfig, load_dataset  # noqa: E402
from vae_studio.core.config import auto_epochs  # noqa: E402
from vae_studio.core.generate import tile  # noqa: E402
from vae_studio.core.projection import Projection  # noqa: E402
from vae_studio.core.sampler import fit_posterior_sampler, posterior_means, sample_codes  # noqa: E402


def models(ds: Dataset, latent: int, quick: bool):
    """(title, trainer, sampler) for the tutorial settings and the new defaults."""
    model_cfg, train_cfg = new_defaults()
    epochs = 2 if quick else auto_epochs(len(ds.train))
    tut, _ = train(ModelConfig(hidden=(400,), latent_dim=latent), TrainConfig(epochs=2 if quick else 50, **TUTORIAL), ds, keep="last")
    new, _ = train(replace(model_cfg, latent_dim=latent), replace(train_cfg, epochs=epochs), ds, keep="best")
    return [("Tutorial settings", tut, "prior"), ("VAE Studio defaults", new, "posterior")]


@torch.no_grad()
def samples(trainer, ds: Dataset, sampler: str, n: int = 100) -> np.ndarray:
    model = trainer.model.eval()
    post = fit_posterior_sampler(model, ds.train) if sampler == "posterior" else None
    z = torch.as_tensor(sample_codes(sampler, n, model.cfg.latent_dim, posterior=post, seed=1, prior=model.prior))
    return tile(model.decode_mean(z).numpy()[:, 0], nrow=10)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out", type=Path)
    p.add_argument("--quick", action="store_true")
    args = p.parse_args(argv)
    t0 = time.perf_counter()
    ds = load_dataset("digits")
    maps = []
    for title, t, _ in models(ds, 2, args.quick):
        m = t.model
        mu_test = posterior_means(m, ds.test)
        acc = knn_accuracy(posterior_means(m, ds.train), ds.train.labels.numpy(), mu_test, ds.test.labels.numpy())
        maps.append((f"{title} · latent 2: held-out −ELBO {held_out(t, ds):.1f} nats, 5-NN accuracy {acc:.0%}", mu_test,
                     Projection(2).prior_outlines(m.prior)))
    grids = [(f"{title} · latent 20: samples from the {'prior' if s == 'prior' else 'fitted posterior'}",
              samples(t, ds, s)) for title, t, s in models(ds, 20, args.quick)]
    print(f"trained four models in {time.perf_counter() - t0:.0f} s", file=sys.stderr)

    from PySide6.QtCore import Qt
    from PySide6.QtGui import QPixmap
    from PySide6.QtWidgets import QApplication, QGridLayout, QLabel, QWidget

    from vae_studio.gui.style import apply_theme
    from vae_studio.gui.widgets.latent_map import LatentMapPlot
    from vae_studio.gui.widgets.qimage import png_bytes, to_qimage

    app = QApplication.instance() or QApplication([])
    apply_theme(app)
    page = QWidget()
    grid = QGridLayout(page)
    for col, (title, mu, outlines) in enumerate(maps):
        grid.addWidget(QLabel(title), 0, col)
        plot = LatentMapPlot()
        plot.set_class_names(ds.class_names)
        plot.set_prior_contours(outlines)  # as the window: the prior's 1σ, 2σ, 3σ circles, or a mixture's ellipses
        plot.set_points(mu, ds.test.labels.numpy())
        plot.setMinimumSize(560, 460)
        grid.addWidget(plot, 1, col)
    for col, (title, picture) in enumerate(grids):
        grid.addWidget(QLabel(title), 2, col)
        label = QLabel()
        label.setPixmap(QPixmap.fromImage(to_qimage(picture)).scaled(
            440, 440, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation))
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        grid.addWidget(label, 3, col)
    page.resize(1160, 1000)
    page.show()
    for _ in range(5):
        app.processEvents()
    for plot in page.findChildren(LatentMapPlot):
        plot.auto_range()
    app.processEvents()
    tmp = args.out.with_name(args.out.name + ".part")
    tmp.write_bytes(png_bytes(page.grab().toImage()))
    tmp.replace(args.out)
    print(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
