#!/usr/bin/env python3
"""Denoising and inpainting with a VAE against a 3x3 median filter, on the embedded digits.

Trains one VAE on the digits' training split, corrupts every held-out digit (Gaussian noise,
salt-and-pepper, an occluding box) and reports the mean PSNR against the clean digit of the
corrupted image, of the VAE's two restorations (``fit``: the MAP code under the noise model;
``encoder``: one encode-decode pass, iterated with the known pixels kept for a box) and of the
median filter. The same figures ``vae-studio denoise`` prints, for a table of levels.

    nice python scripts/denoise_evidence.py          # about 2 minutes on 2 busy cores
    python scripts/denoise_evidence.py --quick       # a smoke run
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from vae_studio.core import ModelConfig, TrainConfig, Trainer, load_dataset  # noqa: E402
from vae_studio.core.data import to_float  # noqa: E402
from vae_studio.core.denoise import denoise  # noqa: E402

LEVELS = [("gaussian", 0.1), ("gaussian", 0.3), ("gaussian", 0.5), ("gaussian", 0.7), ("saltpepper", 0.1),
          ("saltpepper", 0.2), ("saltpepper", 0.4), ("occlusion", 0.3), ("occlusion", 0.5)]
NAMES = {"gaussian": "Gaussian σ", "saltpepper": "salt-and-pepper p", "occlusion": "occluding box, side"}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--hidden", default="512")
    p.add_argument("--latent-dim", type=int, default=20)
    p.add_argument("--n", type=int, default=500, help="held-out digits (default all 500)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--json", type=Path)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    levels = LEVELS
    if args.quick:
        args.epochs, args.hidden, args.n, levels = 2, "64", 50, [("gaussian", 0.5), ("occlusion", 0.5)]
    digits = load_dataset("digits")
    t0 = time.time()
    hidden = tuple(int(h) for h in args.hidden.split(","))
    trainer = Trainer(ModelConfig(latent_dim=args.latent_dim, hidden=hidden), TrainConfig(epochs=args.epochs, device="cpu"), digits)
    for _ in trainer.run():
        pass
    trainer.restore_best()
    model = trainer.model.eval()
    print(f"model: MLP {args.hidden}, latent {args.latent_dim}, {args.epochs} epochs ({time.time() - t0:.0f} s); "
          f"{args.n} held-out digits", flush=True)
    clean = to_float(digits.test.images[: args.n]).numpy()
    rows = []
    for kind, level in levels:
        fit = denoise(model, clean, kind, level, seed=0, method="fit").summary()
        enc = denoise(model, clean, kind, level, seed=0, method="encoder").summary()
        rows.append({"noise": kind, "level": level, "psnr_noisy": fit["psnr_noisy"], "psnr_fit": fit["psnr_denoised"],
                     "psnr_encoder": enc["psnr_denoised"], "psnr_median": fit["psnr_median"]})
        print(f"  {kind} {level}: done ({time.time() - t0:.0f} s)", flush=True)
    print("\n| corruption | corrupted | VAE, fit (default) | VAE, encoder | 3x3 median | fit − corrupted |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {NAMES[r['noise']]} {r['level']:g} | {r['psnr_noisy']:.2f} dB | **{r['psnr_fit']:.2f} dB** | "
              f"{r['psnr_encoder']:.2f} dB | {r['psnr_median']:.2f} dB | {r['psnr_fit'] - r['psnr_noisy']:+.2f} dB |")
    print(f"\ntotal {time.time() - t0:.0f} s")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
