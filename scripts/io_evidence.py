"""Evidence for resume, TensorBoard logging and the GIF commands, each run as a person would run it.

    python scripts/io_evidence.py [--epochs 20] [--out DIR]

1. Resume after a real Ctrl-C: `vae-studio train` is sent SIGINT part-way, saves and exits 130;
   `train --resume` finishes it. Its weights and held-out curve are compared with the same run
   made in one go (one thread count for both: the thread tuner off, as on a quiet machine).
2. The cost of --logdir: wall time of the same run with and without TensorBoard logging.
3. `traverse` and `interpolate` on the trained run: frames, sizes, files.
Offline, CPU; a few minutes on two cores.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def vae(*args: str, env=None, check=True) -> subprocess.CompletedProcess:
    r = subprocess.run([sys.executable, "-m", "vae_studio", *args], capture_output=True, text=True, env=env, cwd=REPO)
    if check and r.returncode != 0:
        raise SystemExit(f"vae-studio {' '.join(args)} failed ({r.returncode}): {r.stderr.strip()[-500:]}")
    return r


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--out", type=Path, default=None, help="keep the files here (default: a temporary folder)")
    args = ap.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="vae-io-evidence-"))
    out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "VAE_STUDIO_ADAPTIVE_THREADS": "0", "PYTHONPATH": str(REPO)}
    import torch

    from vae_studio.core import load_checkpoint

    base = ["train", "--epochs", str(args.epochs), "--latent-dim", "10", "--seed", "1", "--keep", "last", "--device", "cpu"]

    # 1. resume after Ctrl-C -------------------------------------------------------------------
    t0 = time.perf_counter()
    vae(*base, "--out", str(out / "whole.pt"), env=env)
    whole_s = time.perf_counter() - t0
    p = subprocess.Popen([sys.executable, "-m", "vae_studio", *base, "--out", str(out / "cut.pt")], cwd=REPO, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(max(3.0, whole_s * 0.45))
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=600)
    cut = load_checkpoint(out / "cut.pt")
    into = cut["resume"]["steps_into_epoch"]
    vae("train", "--resume", str(out / "cut.pt"), "--out", str(out / "resumed.pt"), "--keep", "last", env=env)
    whole, resumed = load_checkpoint(out / "whole.pt"), load_checkpoint(out / "resumed.pt")
    diff = max(float((whole["model_state"][k] - resumed["model_state"][k]).abs().max()) for k in whole["model_state"])
    same = all(torch.equal(whole["model_state"][k], resumed["model_state"][k]) for k in whole["model_state"])
    curve_same = all(whole["history"][c] == resumed["history"][c] for c in ("val_step", "val_recon", "val_kl"))
    val = lambda b: b["history"]["val_recon"][-1] + b["history"]["val_kl"][-1]  # noqa: E731
    print("\n1. Resume after Ctrl-C (digits, latent 10, MLP 1024, cosine schedule, light augmentation)")
    print("| run | exit | stopped at | final step | held-out -ELBO |")
    print("|---|---|---|---|---|")
    print(f"| in one go | 0 | - | {whole['step']} | {val(whole):.4f} |")
    print(f"| Ctrl-C, then --resume | {p.returncode}, then 0 | step {cut['step']} (epoch {cut['epoch']} + {into} steps) "
          f"| {resumed['step']} | {val(resumed):.4f} |")
    print(f"weights identical: {same} (largest difference {diff:.3g}); held-out curve identical: {curve_same}")

    # 2. TensorBoard's cost ---------------------------------------------------------------------
    short = ["train", "--epochs", "10", "--latent-dim", "10", "--device", "cpu", "--json"]
    times = {}
    for label, extra in (("without --logdir", []), ("with --logdir", ["--logdir", str(out / "tb")]),
                         ("without --logdir, again", []), ("with --logdir, again", ["--logdir", str(out / "tb")])):
        t0 = time.perf_counter()
        r = vae(*short, *extra, "--out", str(out / "tb-run.pt"), env=env)
        times[label] = (time.perf_counter() - t0, json.loads(r.stdout.strip().splitlines()[-1])["train_seconds"])
    print("\n2. TensorBoard logging (digits, 10 epochs, latent 10): wall time of the command / training time")
    print("| run | wall s | training s |")
    print("|---|---|---|")
    for label, (wall, train) in times.items():
        print(f"| {label} | {wall:.1f} | {train:.1f} |")
    runs = sorted((out / "tb").iterdir())
    files = sorted(str(f.relative_to(runs[0])) for f in runs[0].rglob("*") if f.is_file())
    print(f"event folders: {len(runs)}; files of the first: {', '.join(files)}")

    # 3. GIFs -------------------------------------------------------------------------------------
    from PIL import Image, ImageSequence

    print("\n3. traverse / interpolate on the run of 1")
    for argv in (["traverse", str(out / "whole.pt"), "--out", str(out / "traversal.gif"), "--scale", "3"],
                 ["traverse", str(out / "whole.pt"), "--out", str(out / "traversal.png")],
                 ["interpolate", str(out / "whole.pt"), "--from", "3", "--to", "10", "--out", str(out / "interpolation.gif"),
                  "--slerp", "--scale", "4"]):
        r = vae(*argv, env=env)
        path = Path(argv[3])
        with Image.open(path) as im:
            frames = [f.copy() for f in ImageSequence.Iterator(im)]
        distinct = len({f.convert("L").tobytes() for f in frames})
        print(f"vae-studio {' '.join(a if not a.startswith('/') else Path(a).name for a in argv)}: "
              f"{len(frames)} frame(s), {distinct} distinct, {frames[0].size[0]}x{frames[0].size[1]} px, "
              f"{path.stat().st_size / 1024:.0f} KB")
    print(f"\nfiles in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
