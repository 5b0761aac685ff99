#!/usr/bin/env python3
"""Does a conditional VAE's synthetic data help a classifier that has few real digits?

For k real digits per class (drawn from the embedded digits' training split), a small MLP
classifier (784-256-10) is trained on the k x 10 real digits alone, and on them plus
synthetic digits (``core.synth.synthesize``, the per-class posterior sampler) from a conditional
VAE trained on the same k x 10 digits and nothing else; both are measured on the 500 held-out
digits. The embedded set has 450 training digits per class, so the largest k is 450, not 500.
A third column draws the synthetic digits from a conditional VAE trained on all 4,500 training
digits: what augmentation can give when the generator has seen more than the classifier, which
is not the k-digit situation and is shown apart.

Offline, CPU.

    nice python scripts/augmentation_evidence.py          # about 4 minutes on 2 busy cores
    python scripts/augmentation_evidence.py --quick       # a smoke run
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from vae_studio.core import Dataset, ModelConfig, TrainConfig, Trainer, load_dataset  # noqa: E402
from vae_studio.core.data import Split, to_float  # noqa: E402
from vae_studio.core.sampler import fit_posterior_sampler  # noqa: E402
from vae_studio.core.synth import synthesize  # noqa: E402


def per_class(split: Split, k: int, seed: int) -> Split:
    rng = np.random.default_rng(seed)
    labels = split.labels.numpy()
    idx = np.concatenate([rng.choice(np.nonzero(labels == c)[0], k, replace=False) for c in np.unique(labels)])
    return split.subset(torch.from_numpy(np.sort(idx)))


def train_cvae(split: Split, epochs_images: int, latent: int, hidden, seed: int):
    # validated on the training digits themselves: the held-out digits judge the classifier only
    ds = Dataset("subset", split, split, tuple(str(i) for i in range(10)))
    epochs = int(min(1000, max(30, epochs_images // len(split))))
    trainer = Trainer(ModelConfig(variant="conditional", latent_dim=latent, hidden=hidden),
                      TrainConfig(epochs=epochs, device="cpu", seed=seed), ds)
    for _ in trainer.run():
        pass
    model = trainer.model.eval()
    return model, fit_posterior_sampler(model, split, seed=seed), epochs


def train_classifier(x: torch.Tensor, y: torch.Tensor, steps: int, seed: int) -> nn.Module:
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Flatten(), nn.Linear(x[0].numel(), 256), nn.ReLU(), nn.Linear(256, 10))
    opt = torch.optim.Adam(net.parameters(), 1e-3)
    g = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        idx = torch.randint(len(y), (128,), generator=g)
        loss = F.cross_entropy(net(x[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return net.eval()


def accuracy(net: nn.Module, split: Split) -> float:
    with torch.no_grad():
        return (net(to_float(split.images)).argmax(1) == split.labels).float().mean().item()


def synthetic(model, posterior, n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    s = synthesize(model, n, posterior=posterior, seed=seed)
    return to_float(torch.from_numpy(s.images)), torch.from_numpy(s.labels.astype(np.int64))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ks", default="10,50,450", help="real digits per class (default 10,50,450)")
    p.add_argument("--synthetic", type=int, default=500, help="synthetic digits per class (default 500)")
    p.add_argument("--vae-images", type=int, default=150_000, help="images the VAE sees in training (default 150,000)")
    p.add_argument("--latent-dim", type=int, default=10)
    p.add_argument("--hidden", default="512")
    p.add_argument("--steps", type=int, default=1500, help="classifier steps of 128 images (default 1500)")
    p.add_argument("--seeds", type=int, default=3, help="classifier seeds averaged (default 3)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--json", type=Path)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.quick:
        args.ks, args.synthetic, args.vae_images, args.steps, args.seeds, args.hidden = "10", 20, 3000, 100, 1, "64"
    ks = [int(k) for k in args.ks.split(",")]
    hidden = tuple(int(h) for h in args.hidden.split(","))
    digits = load_dataset("digits")
    t0 = time.time()
    full_model, full_post, full_epochs = train_cvae(digits.train, args.vae_images, args.latent_dim, hidden, 0)
    print(f"conditional VAE on all {len(digits.train):,} training digits: {full_epochs} epochs ({time.time() - t0:.0f} s)",
          flush=True)
    rows = []
    for k in ks:
        real = per_class(digits.train, k, seed=k)
        xr, yr = to_float(real.images), real.labels
        model, post, epochs = train_cvae(real, args.vae_images, args.latent_dim, hidden, 0)
        xs, ys = synthetic(model, post, args.synthetic, seed=1)
        xf, yf = synthetic(full_model, full_post, args.synthetic, seed=1)
        accs = {"real": [], "real+synthetic": [], "real+synthetic (all-digits VAE)": []}
        for seed in range(args.seeds):
            accs["real"].append(accuracy(train_classifier(xr, yr, args.steps, seed), digits.test))
            accs["real+synthetic"].append(accuracy(
                train_classifier(torch.cat([xr, xs]), torch.cat([yr, ys]), args.steps, seed), digits.test))
            accs["real+synthetic (all-digits VAE)"].append(accuracy(
                train_classifier(torch.cat([xr, xf]), torch.cat([yr, yf]), args.steps, seed), digits.test))
        row = {"k": k, "vae_epochs": epochs, **{n: float(np.mean(v)) for n, v in accs.items()},
               **{n + " sd": float(np.std(v)) for n, v in accs.items()}}
        rows.append(row)
        print(f"  k = {k}: " + ", ".join(f"{n} {np.mean(v):.1%}" for n, v in accs.items()) + f"  ({time.time() - t0:.0f} s)",
              flush=True)
    print(f"\n{args.synthetic} synthetic digits per class; classifier MLP 784-256-10, {args.steps} steps of 128, "
          f"mean of {args.seeds} seeds; accuracy on the {len(digits.test)} held-out digits\n")
    print("| real digits per class | real only | + synthetic (VAE on the same k) | + synthetic (VAE on all 4,500) |")
    print("|---|---|---|---|")
    for r in rows:
        print(f"| {r['k']} | {r['real']:.1%} | {r['real+synthetic']:.1%} | {r['real+synthetic (all-digits VAE)']:.1%} |")
    print(f"\ntotal {time.time() - t0:.0f} s")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
