#!/usr/bin/env python3
"""Evidence for the anomaly scores: which one finds a held-out class, and which survives the
famous out-of-distribution failure.

1. Held-out classes: for each digit c, a VAE is trained on the embedded digits' training split
   without c (``TrainConfig.classes``), then every image of the held-out split is scored; AUROC
   of each score for "class c" against the other nine.
2. Out of distribution: a digits model scores Fashion-MNIST's test images against the digits'
   held-out split, and a Fashion-MNIST model scores the digits against Fashion-MNIST's own test
   images. Raw likelihood fails the second direction (Nalisnick et al. 2019); the
   complexity-corrected scores are Serrà et al.'s (2020) fix, one per compressor.

Offline, CPU. Fashion-MNIST comes from ../shared/data/FashionMNIST/raw beside the checkout
(or --fashion DIR); without it part 2 is skipped.

    nice python scripts/anomaly_evidence.py            # about 4 minutes on 2 busy cores
    python scripts/anomaly_evidence.py --quick         # a smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from vae_studio.core import ModelConfig, TrainConfig, Trainer, load_dataset  # noqa: E402
from vae_studio.core.anomaly import RECOMMENDED, Calibration, score_split  # noqa: E402
from vae_studio.core.complexity import COMPRESSORS  # noqa: E402
from vae_studio.core.data import Split, class_subset  # noqa: E402


def default_fashion() -> Path:
    base = Path(os.environ.get("VAE_STUDIO_TEST_DATA", HERE.parent.parent / "shared" / "data"))
    return base / "FashionMNIST" / "raw"


def train(dataset, epochs: int, hidden: tuple[int, ...], latent: int, classes=None, seed: int = 0):
    model_cfg = ModelConfig(latent_dim=latent, hidden=hidden, image_shape=dataset.image_shape,
                            num_classes=dataset.num_classes)
    train_cfg = TrainConfig(epochs=epochs, seed=seed, device="cpu", classes=classes)
    trainer = Trainer(model_cfg, train_cfg, dataset)
    for _ in trainer.run():
        pass
    trainer.restore_best()
    return trainer.model.eval()


def subsample(split: Split, n: int, seed: int = 0) -> Split:
    if len(split) <= n:
        return split
    idx = torch.from_numpy(np.sort(np.random.default_rng(seed).choice(len(split), n, replace=False)))
    return split.subset(idx)


def fmt_row(name: str, values: list[float]) -> str:
    return f"| {name} | " + " | ".join(f"{v:.3f}" for v in values) + f" | **{np.mean(values):.3f}** |"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--epochs", type=int, default=30, help="epochs of each digits model (default 30)")
    p.add_argument("--fashion-epochs", type=int, default=5, help="epochs of the Fashion-MNIST model (default 5)")
    p.add_argument("--hidden", default="512", help="hidden layer sizes (default 512)")
    p.add_argument("--latent-dim", type=int, default=20)
    p.add_argument("--k", type=int, default=16, help="importance samples per image (default 16)")
    p.add_argument("--ood-images", type=int, default=2000, help="test images of each set in part 2 (default 2000)")
    p.add_argument("--fashion", type=Path, default=default_fashion())
    p.add_argument("--compressors", default=",".join(COMPRESSORS), help="Serrà et al.'s score with each (default: all)")
    p.add_argument("--classes", default="0,1,2,3,4,5,6,7,8,9", help="held-out classes to try (default all)")
    p.add_argument("--quick", action="store_true", help="tiny models, two classes: a smoke run")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1: steadier on a shared CPU)")
    p.add_argument("--json", type=Path, help="also write every figure here")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.quick:
        args.epochs, args.fashion_epochs, args.hidden, args.classes, args.ood_images = 2, 1, "64", "1,7", 300
    hidden = tuple(int(h) for h in args.hidden.split(","))
    compressors = tuple(c for c in args.compressors.split(",") if c)
    held_classes = [int(c) for c in args.classes.split(",")]
    digits = load_dataset("digits")
    out: dict = {"epochs": args.epochs, "hidden": list(hidden), "latent_dim": args.latent_dim, "k": args.k,
                 "recommended": RECOMMENDED, "held_out": {}, "ood": {}}
    t0 = time.time()
    print(f"models: MLP {args.hidden}, latent {args.latent_dim}, {args.epochs} epochs on the digits; "
          f"scores with k = {args.k}", flush=True)
    names = None
    for c in held_classes:
        keep = tuple(i for i in range(digits.num_classes) if i != c)
        model = train(digits, args.epochs, hidden, args.latent_dim, keep, args.seed)
        cal = Calibration.fit(model, class_subset(digits.train, keep), args.k, args.seed)
        table = score_split(model, digits.test, args.k, args.seed, calibration=cal, compressors=compressors)
        aurocs = table.aurocs(table.labels == c)
        names = list(aurocs)
        out["held_out"][c] = aurocs
        print(f"  held out {c}: " + ", ".join(f"{n} {v:.3f}" for n, v in aurocs.items()) + f"  ({time.time() - t0:.0f} s)",
              flush=True)
    print("\n| score | " + " | ".join(f"held out {c}" for c in held_classes) + " | mean |")
    print("|---|" + "---|" * (len(held_classes) + 1))
    for n in names:
        print(fmt_row(n, [out["held_out"][c][n] for c in held_classes]))

    if args.fashion.is_dir():
        fashion = load_dataset(str(args.fashion))
        d_test = digits.test
        f_test = subsample(fashion.test, args.ood_images, args.seed)
        rows = {}
        model = train(digits, args.epochs, hidden, args.latent_dim, None, args.seed)
        cal = Calibration.fit(model, digits.train, args.k, args.seed)
        a = score_split(model, d_test, args.k, args.seed, calibration=cal, compressors=compressors)
        b = score_split(model, f_test, args.k, args.seed, calibration=cal, compressors=compressors)
        rows["digits model: Fashion-MNIST anomalous"] = _ood_aurocs(a, b)
        fmodel = train(fashion, args.fashion_epochs, hidden, args.latent_dim, None, args.seed)
        cal = Calibration.fit(fmodel, fashion.train, args.k, args.seed)
        a = score_split(fmodel, f_test, args.k, args.seed, calibration=cal, compressors=compressors)
        b = score_split(fmodel, subsample(d_test, args.ood_images, args.seed), args.k, args.seed, calibration=cal,
                        compressors=compressors)
        rows["Fashion-MNIST model: digits anomalous"] = _ood_aurocs(a, b)
        out["ood"] = rows
        print(f"\nout of distribution ({len(d_test)} digits, {len(f_test)} Fashion-MNIST test images; "
              f"Fashion model {args.fashion_epochs} epochs)  ({time.time() - t0:.0f} s)\n")
        print("| score | " + " | ".join(rows) + " |")
        print("|---|" + "---|" * len(rows))
        for n in names:
            print(f"| {n} | " + " | ".join(f"{r[n]:.3f}" for r in rows.values()) + " |")
    else:
        print(f"\nFashion-MNIST not found at {args.fashion}: the out-of-distribution part is skipped")
    print(f"\nrecommended score: {RECOMMENDED}; total {time.time() - t0:.0f} s")
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))
    return 0


def _ood_aurocs(inside, outside) -> dict[str, float]:
    from vae_studio.core.anomaly import ScoreTable

    both = ScoreTable.concat(inside, outside)
    positive = np.r_[np.zeros(len(inside), bool), np.ones(len(outside), bool)]
    return both.aurocs(positive)


if __name__ == "__main__":
    raise SystemExit(main())
