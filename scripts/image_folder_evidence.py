#!/usr/bin/env python3
"""How long a folder of images takes to load, and what a colour run trains at (offline, CPU).

    python scripts/image_folder_evidence.py [--per-class 1000] [--epochs 5]

Writes folders of generated shapes (scripts/make_shapes.py) to a temporary folder: small PNGs
(32 to 96 px) and larger JPEGs (160 to 400 px, a camera's pictures scaled down), and times
``load_dataset`` on each at 32 and 64 px with its thread pool and with one thread, in
alternating rounds (what the pool saves). Then trains the MLP on the PNG folder with ``vae-studio train``
and prints its throughput and held-out -ELBO, beside the same settings on the built-in digits.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))


def timed_load(folder: Path, size: int, threads: int) -> tuple[float, int]:
    from vae_studio.core import image_folder, load_dataset

    image_folder.MAX_THREADS = threads
    t0 = time.perf_counter()
    ds = load_dataset(str(folder), image_size=size)
    return time.perf_counter() - t0, len(ds.train) + len(ds.test)


def load_times(folder: Path, size: int, rounds: int) -> tuple[float, float, int]:
    """Median seconds with the thread pool and with one thread, in alternating rounds (the
    machine's speed drifts, and both should meet the same drift)."""
    pool, one = [], []
    for r in range(rounds):
        for threads, out in ((8, pool), (1, one)) if r % 2 == 0 else ((1, one), (8, pool)):
            seconds, n = timed_load(folder, size, threads)
            out.append(seconds)
    return statistics.median(pool), statistics.median(one), n


def train(dataset: str, epochs: int, out: Path) -> dict:
    cmd = [sys.executable, "-m", "vae_studio", "train", "--dataset", dataset, "--epochs", str(epochs),
           "--latent-dim", "16", "--device", "cpu", "--out", str(out), "--json"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--per-class", type=int, default=1000, help="pictures per shape (5 shapes)")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--rounds", type=int, default=3, help="loads of each folder and size, each way (median shown)")
    args = p.parse_args(argv)
    from make_shapes import make_shapes

    with tempfile.TemporaryDirectory(prefix="vae-studio-images-") as tmp:
        tmp = Path(tmp)
        sets = {"PNG, 32-96 px": (tmp / "png", "png", 32, 96), "JPEG, 160-400 px": (tmp / "jpg", "jpg", 160, 400)}
        for folder, fmt, lo, hi in sets.values():
            make_shapes(folder, args.per_class, fmt, min_side=lo, max_side=hi)
        print(f"{os.cpu_count()} CPUs; {5 * args.per_class:,} pictures per folder\n")
        print(f"| folder | size | load_dataset, thread pool (median of {args.rounds}) | images/s | with one thread |")
        print("|---|---|---|---|---|")
        for name, (folder, *_rest) in sets.items():
            for size in (32, 64):
                pool, one, n = load_times(folder, size, args.rounds)
                print(f"| {name} | {size} | {pool:.2f} s | {n / pool:,.0f} | {one:.2f} s |")
        print()
        colour = train(str(sets["PNG, 32-96 px"][0]), args.epochs, tmp / "c.pt")
        digits = train("digits", args.epochs, tmp / "d.pt")
        print(f"| vae-studio train, MLP 1024, latent 16, {args.epochs} epochs | img/s | held-out -ELBO (nats) | bits/dim |")
        print("|---|---|---|---|")
        for name, r, dims in (("shapes, 32x32 colour", colour, 3 * 32 * 32), ("digits, 28x28 grey", digits, 28 * 28)):
            bits = r["neg_elbo"] / (dims * math.log(2))
            print(f"| {name} | {r['samples_per_s']:,.0f} | {r['neg_elbo']:.1f} | {bits:.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
