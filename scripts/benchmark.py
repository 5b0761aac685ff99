#!/usr/bin/env python3
"""Side-by-side speed and memory figures for VAE Studio, measured in one run on one machine.

    python scripts/benchmark.py                      # CPU, Fashion-MNIST from ../shared/data
    python scripts/benchmark.py --device cuda        # on a GPU machine
    python scripts/benchmark.py --quick              # seconds; the embedded digits; for the test suite

What it measures (ratios are of runs made here, one after the other, on the same data):
  1. seconds per epoch of the VAE Studio engine and of the classic tutorial loop
     (torchvision dataset + ToTensor + DataLoader, MLP 784-400-20, BCE summed + KL, Adam 1e-3,
     batch 128) at identical model and hyper-parameters, and the test -ELBO of each;
  2. time to quality: wall time for the engine to reach the tutorial's final test -ELBO;
  3. GUI: training throughput inside the app against headless, and the delay of a 10 ms
     heartbeat timer on the GUI thread while training (p50 / p99) -- needs Qt;
  4. decode latency (one digit, CPU copy of the decoder, as a click on the latent map does);
  5. peak memory: process RSS, and the CUDA peak on a GPU.

Nothing is downloaded. It prints a table, then one JSON line with every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import torch  # noqa: E402

from tutorial_vae import run_tutorial  # noqa: E402
from vae_studio.core import ModelConfig, Snapshot, TrainConfig, Trainer, Validation, load_dataset  # noqa: E402
from vae_studio.core.device import describe_device, resolve_device  # noqa: E402


def default_data_dir() -> Path:
    return HERE.parent.parent / "shared" / "data"


def engine_run(dataset, epochs: int, device: str, model_cfg: ModelConfig, train_cfg: TrainConfig, target: float | None = None):
    """Train with the engine; per-epoch training seconds (validation excluded) and test -ELBO."""
    trainer = Trainer(model_cfg, train_cfg, dataset)
    curve, t_reach = [], None
    t0 = time.perf_counter()
    for msg in trainer.run():
        if isinstance(msg, Validation):
            curve.append((trainer.elapsed, msg.neg_elbo))
            if target is not None and t_reach is None and msg.neg_elbo <= target:
                t_reach = trainer.elapsed
    wall = time.perf_counter() - t0
    if trainer.device.type == "cuda":
        torch.cuda.synchronize()
    return {
        "seconds_per_epoch": trainer.elapsed / epochs,
        "train_seconds": trainer.elapsed,
        "wall_seconds": wall,
        "test_neg_elbo": curve[-1][1],
        "curve": curve,
        "seconds_to_target": t_reach,
    }


def decode_latency(model_cfg: ModelConfig, n: int = 300) -> dict:
    """One 28x28 decode on the CPU, as a click on the map does: p50 / p95 in milliseconds."""
    from vae_studio.core import build_model

    torch.manual_seed(0)
    model = build_model(model_cfg).eval()
    z = torch.zeros(1, model_cfg.latent_dim)
    times = []
    with torch.inference_mode():
        for i in range(n + 20):
            z[0, 0] = i / n
            t0 = time.perf_counter()
            img = torch.sigmoid(model.decode(z))[0, 0].numpy()
            times.append(time.perf_counter() - t0)
    assert img.shape == tuple(model_cfg.image_shape[1:])
    times = sorted(times[20:])
    return {"decode_p50_ms": 1e3 * statistics.median(times), "decode_p95_ms": 1e3 * times[int(0.95 * len(times)) - 1]}


def gui_figures(epochs: int, quick: bool) -> dict:
    """In-app against headless throughput, heartbeat lag, click latency and map update time."""
    try:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        from vae_studio.gui import measure
        from vae_studio.gui.session import RunSettings
        from vae_studio.gui.widgets.explorer import measure_explorer
    except Exception as exc:  # headless servers without Qt still get the other figures
        return {"gui_skipped": f"Qt unavailable: {exc}"}
    settings = RunSettings(epochs=epochs, device="cpu", hidden=(64,) if quick else (400,))
    r = measure.compare(settings, repeats=1 if quick else 2)
    head = r["headless_default_threads_samples_per_s"]
    out = {
        "in_app_samples_per_s": r["samples_per_s"],
        "headless_samples_per_s": head,
        "in_app_ratio": r["samples_per_s"] / head if head else float("nan"),
        "in_app_torch_threads": r["window_torch_threads"],
        "headless_same_threads_samples_per_s": r["headless_same_threads_samples_per_s"],
        "heartbeat_p50_ms": r["heartbeat_p50_ms"],
        "heartbeat_p99_ms": r["heartbeat_p99_ms"],
    }
    hovering = measure.measure_window(settings, hover=True)
    out["heartbeat_hover_p99_ms"] = hovering.heartbeat_p99_ms
    # the explorer on a model trained briefly, with a probe set of 5,000 points
    dataset = load_dataset("digits")
    trainer = Trainer(ModelConfig(latent_dim=10, hidden=(64,) if quick else (400,)),
                      TrainConfig(epochs=1 if quick else 5, device="cpu", probe_size=5000), dataset)
    snap = [m for m in trainer.run() if isinstance(m, Snapshot)][-1]
    ex = measure_explorer(snap, n_points=5000, clicks=20 if quick else 60, updates=5 if quick else 15)
    out.update({k: ex[k] for k in ("click_p50_ms", "click_p95_ms", "map_update_ms", "map_points")})
    return out


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda", "auto"))
    p.add_argument("--data-dir", type=Path, default=default_data_dir(), help="folder holding FashionMNIST/raw (default: ../shared/data)")
    p.add_argument("--epochs", type=int, default=5, help="epochs of each loop for the side-by-side (default 5)")
    p.add_argument("--quick", action="store_true", help="a few seconds on the embedded digits, to keep the script working")
    p.add_argument("--no-gui", action="store_true", help="skip the in-app figures")
    p.add_argument("--json-out", type=Path, help="also write the JSON summary to this file")
    args = p.parse_args(argv)

    device = resolve_device(args.device)
    if args.quick:
        name, epochs, data_dir = "digits", 1, None
    else:
        name, epochs, data_dir = "fashion-mnist", args.epochs, str(args.data_dir)
        if not (args.data_dir / "FashionMNIST" / "raw").is_dir():
            p.error(f"no FashionMNIST/raw under {args.data_dir}; pass --data-dir or --quick")
    dataset = load_dataset(name, data_dir, download=False)
    same = ModelConfig(latent_dim=20, hidden=(400,), image_shape=dataset.image_shape)
    train_cfg = TrainConfig(epochs=epochs, batch_size=128, lr=1e-3, device=str(device), seed=0)
    out: dict = {"device": describe_device(device), "dataset": name, "epochs": epochs, "torch": str(torch.__version__)}

    tut = run_tutorial(name, data_dir, epochs, seed=0, device=str(device))
    eng = engine_run(dataset, epochs, str(device), same, train_cfg, target=tut["test_neg_elbo"])
    out["tutorial_s_per_epoch"] = tut["seconds_per_epoch"]
    out["engine_s_per_epoch"] = eng["seconds_per_epoch"]
    out["speedup"] = tut["seconds_per_epoch"] / eng["seconds_per_epoch"]
    out["tutorial_test_neg_elbo"] = tut["test_neg_elbo"]
    out["engine_test_neg_elbo"] = eng["test_neg_elbo"]
    out["quality_gap_nats"] = eng["test_neg_elbo"] - tut["test_neg_elbo"]
    out["tutorial_train_seconds"] = tut["train_seconds"]
    out["engine_seconds_to_tutorial_quality"] = eng["seconds_to_target"]
    out.update(decode_latency(same))
    if not args.no_gui:
        # ten epochs of the digits (a few seconds) so start-up transients do not dominate
        out.update(gui_figures(epochs=1 if args.quick else 10, quick=args.quick))
    out["peak_rss_mb"] = peak_rss_mb()
    if device.type == "cuda":
        out["cuda_peak_mb"] = torch.cuda.max_memory_allocated() / 2**20

    rows = [
        ("device", out["device"], ""),
        (f"tutorial loop, s/epoch ({name})", f"{out['tutorial_s_per_epoch']:.3f}", ""),
        ("VAE Studio engine, s/epoch", f"{out['engine_s_per_epoch']:.3f}", f"{out['speedup']:.2f}x faster"),
        (f"test -ELBO after {epochs} epochs: tutorial", f"{out['tutorial_test_neg_elbo']:.2f}", "nats/image"),
        (f"test -ELBO after {epochs} epochs: engine", f"{out['engine_test_neg_elbo']:.2f}", f"{out['quality_gap_nats']:+.2f} nats"),
        ("time to the tutorial's final -ELBO: tutorial", f"{out['tutorial_train_seconds']:.2f} s", ""),
        ("time to the tutorial's final -ELBO: engine",
         "not reached" if eng["seconds_to_target"] is None else f"{eng['seconds_to_target']:.2f} s",
         "" if eng["seconds_to_target"] is None else f"{out['tutorial_train_seconds'] / eng['seconds_to_target']:.2f}x sooner"),
        ("decode one digit (click), p50 / p95", f"{out['decode_p50_ms']:.2f} / {out['decode_p95_ms']:.2f} ms", ""),
    ]
    if "in_app_samples_per_s" in out:
        rows += [
            ("training in the app / headless", f"{out['in_app_samples_per_s']:,.0f} / {out['headless_samples_per_s']:,.0f} img/s",
             f"{out['in_app_ratio']:.0%} ({out['in_app_torch_threads']} torch thread(s) in the app)"),
            ("GUI heartbeat delay while training, p50 / p99", f"{out['heartbeat_p50_ms']:.1f} / {out['heartbeat_p99_ms']:.1f} ms", ""),
            ("... while hovering the latent map, p99", f"{out['heartbeat_hover_p99_ms']:.1f} ms", "60 Hz mouse moves, live previews"),
        ]
        if "map_update_ms" in out:
            rows.append(("latent map update (probe set)", f"{out['map_update_ms']:.1f} ms", f"{out.get('map_points', '')} points"))
        if "click_p95_ms" in out:
            rows.append(("click -> decoded image shown, p50 / p95", f"{out['click_p50_ms']:.1f} / {out['click_p95_ms']:.1f} ms", ""))
    elif "gui_skipped" in out:
        rows.append(("GUI figures", "skipped", out["gui_skipped"]))
    rows.append(("peak RSS", f"{out['peak_rss_mb']:.0f} MB", ""))
    if "cuda_peak_mb" in out:
        rows.append(("CUDA peak allocated", f"{out['cuda_peak_mb']:.0f} MB", ""))
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    for a, b, c in rows:
        print(f"{a:<{w0}}  {b:>{w1}}  {c}")
    line = json.dumps(out)
    print(line)
    if args.json_out:
        args.json_out.write_text(line + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
