"""Evidence for resume, TensorBoard logging and the GIF commands, each run as a person would run it.

    python scripts/io_evidence.py [--epochs 20] [--out DIR]

1. Resume after a real Ctrl-C: `vae-studio train` is sent SIGINT part-way, saves and exits 130;
   `train --resume` finishes it. Its weights and held-out curve are compared with the same run
   made in one go (one thread count for both: the thread tuner off, as on a quiet machine).
2. The cost of --logdir: the time spent writing TensorBoard events, measured inside one run.
3. `traverse` and `interpolate` on the trained run: frames, sizes, files.
Offline, CPU; a few minutes on two cores.
"""

from __future__ import annotations

import argparse
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
    ap.add_argument("--parts", default="1,2,3", help="which parts to run (3 needs the run part 1 left in --out)")
    args = ap.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="vae-io-evidence-"))
    out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "VAE_STUDIO_ADAPTIVE_THREADS": "0", "PYTHONPATH": str(REPO)}
    base = ["train", "--epochs", str(args.epochs), "--latent-dim", "10", "--seed", "1", "--keep", "last", "--device", "cpu"]

    parts = {int(p) for p in args.parts.split(",")}
    if 1 in parts:
        resume_after_ctrl_c(args, out, env, base)
    if 2 in parts:
        tensorboard_cost(out)
    if 3 in parts:
        gifs(out, env)
    print(f"\nfiles in {out}")
    return 0


def resume_after_ctrl_c(args, out: Path, env: dict, base: list[str]) -> None:
    import torch

    from vae_studio.core import load_checkpoint

    vae(*base, "--out", str(out / "whole.pt"), env=env)
    p = subprocess.Popen([sys.executable, "-m", "vae_studio", *base, "--out", str(out / "cut.pt")], cwd=REPO, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # the progress goes to stderr a line an epoch: Ctrl-C a little way into the epoch after half of them
    t_line = time.perf_counter()
    for line in p.stderr:
        if line.startswith("epoch"):
            done = int(line.split()[1].split("/")[0])
            now = time.perf_counter()
            if done >= args.epochs // 2:
                time.sleep(0.4 * (now - t_line))
                break
            t_line = now
    p.send_signal(signal.SIGINT)
    p.communicate(timeout=600)
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

def tensorboard_cost(out: Path) -> None:
    # timed inside one run, so that the load of other processes weighs on both parts alike
    from vae_studio.core import Trainer, load_dataset
    from vae_studio.core.messages import Finished, Progress, Validation
    from vae_studio.core.cli_settings import from_cli
    from vae_studio.core.tensorboard_log import TensorBoardLog

    spent = {Progress: [0.0, 0], Validation: [0.0, 0], Finished: [0.0, 0]}
    observe = TensorBoardLog.observe

    def timed(self, message, trainer):
        t = time.perf_counter()
        observe(self, message, trainer)
        if type(message) in spent:
            spent[type(message)][0] += time.perf_counter() - t
            spent[type(message)][1] += 1

    TensorBoardLog.observe = timed
    digits = load_dataset("digits")
    s = from_cli({"epochs": 10, "latent_dim": 10, "device": "cpu", "logdir": str(out / "tb")})
    trainer = Trainer(s.model_config(digits.image_shape, digits.num_classes), s.train_config(), digits)
    t0 = time.perf_counter()
    trainer.train()
    wall = time.perf_counter() - t0
    logged = sum(v[0] for v in spent.values())
    print("\n2. TensorBoard logging inside one run (digits, 10 epochs, latent 10, MLP 1024)")
    print("| what | calls | seconds | per call, ms |")
    print("|---|---|---|---|")
    for kind, label in ((Progress, "scalars at each progress report"), (Validation, "held-out scalars + 2 pictures an epoch"),
                        (Finished, "embedding of 500 held-out codes with sprite")):
        sec, n = spent[kind]
        print(f"| {label} | {n} | {sec:.2f} | {1000 * sec / max(1, n):.1f} |")
    print(f"| all logging / the whole run | | {logged:.2f} / {wall:.1f} | {100 * logged / wall:.1f}% of the run |")
    files = sorted(str(f.relative_to(trainer.tensorboard_dir)) for f in Path(trainer.tensorboard_dir).rglob("*") if f.is_file())
    print(f"files: {', '.join(files)}")

def gifs(out: Path, env: dict) -> None:
    from PIL import Image, ImageSequence

    print("\n3. traverse / interpolate on the run of 1")
    for argv in (["traverse", str(out / "whole.pt"), "--out", str(out / "traversal.gif"), "--scale", "3"],
                 ["traverse", str(out / "whole.pt"), "--out", str(out / "traversal.png")],
                 ["interpolate", str(out / "whole.pt"), "--from", "3", "--to", "10", "--out", str(out / "interpolation.gif"),
                  "--slerp", "--scale", "4"]):
        vae(*argv, env=env)
        path = Path(argv[argv.index("--out") + 1])
        with Image.open(path) as im:
            frames = [f.copy() for f in ImageSequence.Iterator(im)]
        distinct = len({f.convert("L").tobytes() for f in frames})
        print(f"vae-studio {' '.join(a if not a.startswith('/') else Path(a).name for a in argv)}: "
              f"{len(frames)} frame(s), {distinct} distinct, {frames[0].size[0]}x{frames[0].size[1]} px, "
              f"{path.stat().st_size / 1024:.0f} KB")


if __name__ == "__main__":
    sys.exit(main())
