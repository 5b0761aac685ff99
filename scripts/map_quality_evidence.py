#!/usr/bin/env python3
"""What a VAE's 2-D latent map buys over classic dimension reduction, as one number.

Trains a VAE with a 2-D latent space on the embedded digits and reports the 5-nearest-neighbour
class accuracy of the held-out digits' posterior means among the training digits' means, beside
the same figure for a 2-D PCA of the raw pixels (and UMAP / t-SNE of the pixels when umap-learn
or openTSNE is installed). A latent-20 model's PCA view is measured too: the map the window
shows for a larger latent space.

    nice python scripts/map_quality_evidence.py      # about a minute
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from vae_studio.core import ModelConfig, TrainConfig, Trainer, load_dataset  # noqa: E402
from vae_studio.core.map_quality import latent_view_accuracy, optional_methods, pixel_baselines  # noqa: E402
from vae_studio.core.projection import Projection  # noqa: E402
from vae_studio.core.sampler import posterior_means  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--hidden", default="512")
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    digits = load_dataset("digits")
    hidden = tuple(int(h) for h in args.hidden.split(","))
    t0 = time.time()
    rows = []
    for latent in (2, 20):
        trainer = Trainer(ModelConfig(latent_dim=latent, hidden=hidden), TrainConfig(epochs=args.epochs, device="cpu"), digits)
        for _ in trainer.run():
            pass
        trainer.restore_best()
        model = trainer.model.eval()
        view = Projection(latent, "pca").fit(posterior_means(model, digits.test)) if latent > 2 else None
        acc = latent_view_accuracy(model, digits, None if view is None else view.matrix, None if view is None else view.center)
        rows.append((f"VAE latent {latent}" + (" (PCA view of the codes)" if view is not None else ""), acc))
    for method, acc in pixel_baselines(digits).items():
        rows.append((f"{method.upper() if method == 'pca' else method} of the pixels", acc))
    missing = {"umap", "tsne"} - set(optional_methods())
    print(f"\nMLP {args.hidden}, {args.epochs} epochs; 5-NN accuracy of the {len(digits.test)} held-out digits in 2-D\n")
    print("| 2-D map | 5-NN accuracy |")
    print("|---|---|")
    for name, acc in rows:
        print(f"| {name} | {acc:.1%} |")
    if missing:
        print(f"\n(not installed, so not measured: {', '.join(sorted(missing))})")
    print(f"total {time.time() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
