#!/usr/bin/env python3
"""Side-by-side speed and memory figures for VAE Studio, measured in one run on one machine.

    python scripts/benchmark.py                      # CPU, Fashion-MNIST from ../shared/data
    python scripts/benchmark.py --device cuda        # on a GPU machine
    python scripts/benchmark.py --quick              # seconds; the embedded digits; for the test suite

What it measures (ratios are of runs made here, one after the other, on the same data):
  1. seconds per epoch of the VAE Studio engine and of the classic tutorial loop
     (torchvision dataset + ToTensor + DataLoader, MLP 784-400-20, BCE summed + KL, Adam 1e-3,
     batch 128) at identical model and hyper-parameters, one epoch of each in turn, and the
     test -ELBO of each;
  2. time to quality: wall time for the engine at its default settings to reach the tutorial's
     final (default: 10-epoch) test -ELBO;
  3. GUI: training throughput inside the app against headless, and the delay of a 10 ms
     heartbeat timer on the GUI thread while training (p50 / p99) -- needs Qt;
  4. decode latency (one digit, CPU copy of the decoder, as a click on the latent map does);
  5. peak memory: process RSS, and the CUDA peak on a GPU;
  6. busy CPU: ``vae-studio train`` alone, and beside one and two busy processes
     (``python -c "while True: pass"``), as a share of the alone figure; on 2 cores the fair
     shares are 50% and 33%. ``--busy-only`` measures just this, ``--busy-fixed`` also with the
     adaptive thread count turned off, for comparison.

Nothing is downloaded. It prints a table, then one JSON line with every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import torch  # noqa: E402

from tutorial_vae import tutorial_epochs  # noqa: E402
from vae_studio.core import ModelConfig, Snapshot, TrainConfig, Trainer, Validation, load_dataset  # noqa: E402
from vae_studio.core.device import describe_device, resolve_device  # noqa: E402


def default_data_dir() -> Path:
    return HERE.parent.parent / "shared" / "data"


def side_by_side(name: str, data_dir, dataset, epochs: int, device: str, model_cfg: ModelConfig,
                 train_cfg: TrainConfig) -> dict:
    """The tutorial loop and the engine, one epoch of each in turn.

    This machine's speed drifts (other tenants, clocks); alternating epochs puts both loops under
    the same conditions, so the ratio is fair even when the absolute times wander. Each epoch is
    training time only: the tutorial's test pass and the engine's validation are not counted.
    """
    tutorial = tutorial_epochs(name, data_dir, epochs, seed=0, device=device)
    # no periodic snapshots: the benchmark times training, not the map's pictures
    trainer = Trainer(model_cfg, replace(train_cfg, snapshot_interval=1e9), dataset)
    engine = trainer.run()
    rows = []
    for _ in range(epochs):
        t_seconds, _, t_elbo = next(tutorial)
        before = trainer.elapsed
        msg = next(m for m in engine if isinstance(m, Validation))
        rows.append({"tutorial_s": t_seconds, "engine_s": trainer.elapsed - before,
                     "tutorial_test_neg_elbo": t_elbo, "engine_test_neg_elbo": msg.neg_elbo})
    for _ in engine:  # the final flush and Finished
        pass
    return {"epochs": rows}


def time_to_quality(dataset, device: str, target: float, max_epochs: int) -> dict:
    """Wall time, start-up and validation included, for the engine at its default settings
    (``vae-studio train`` with only the dataset given) to reach ``target`` test -ELBO."""
    model_cfg = ModelConfig(image_shape=dataset.image_shape, num_classes=dataset.num_classes)
    t0 = time.perf_counter()
    trainer = Trainer(model_cfg, TrainConfig(epochs=max_epochs, device=device), dataset)
    for msg in trainer.run():
        if isinstance(msg, Validation) and msg.neg_elbo <= target:
            trainer.stop()
            return {"wall_s": time.perf_counter() - t0, "epochs": msg.epoch, "neg_elbo": msg.neg_elbo}
    return {"wall_s": None, "epochs": trainer.epoch, "neg_elbo": None}


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


# the in-app ratio's runs: 20 epochs of the digits each, the window's default when the README's
# figures were measured (it is 89 now; ten runs of that would take minutes and measure the same)
IN_APP_EPOCHS = 20


def gui_figures(epochs: int | None, quick: bool) -> dict:
    """In-app against headless throughput, heartbeat lag, click latency and map update time.

    ``epochs``: of the digits per run; None for IN_APP_EPOCHS."""
    try:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        from instruments import measure
        from vae_studio.core.settings import RunSettings
        from instruments.explorer_measure import measure_explorer
    except Exception as exc:  # headless servers without Qt still get the other figures
        return {"gui_skipped": f"Qt unavailable: {exc}"}
    settings = RunSettings(epochs=epochs or IN_APP_EPOCHS, device="cpu", hidden=(64,) if quick else (400,))
    r = measure.compare(settings, repeats=1 if quick else 5, probes=1 if quick else 2)
    out = {
        "in_app_samples_per_s": statistics.median(r["window_samples_per_s_all"]),
        "headless_samples_per_s": statistics.median(r["headless_samples_per_s_all"]),
        "in_app_ratio": r["window_vs_headless"],
        "in_app_ratio_all": r["window_vs_headless_all"],
        "in_app_torch_threads": r["window_torch_threads"],
        # separate runs with the 10 ms heartbeat timer, which itself costs the window some CPU
        "heartbeat_p50_ms": r["heartbeat_p50_ms"],
        "heartbeat_p99_ms": r["heartbeat_p99_ms_worst"],  # the worst of the runs
        "heartbeat_runs_samples_per_s": r["probed_samples_per_s_all"],
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


def busy_cpu(epochs: int, repeats: int, modes=("adaptive",)) -> dict:
    """`vae-studio train` on the digits alone and beside 1 and 2 busy processes, as fresh processes.

    The three conditions take turns within each repeat, so a drift in the machine's speed touches
    them alike; each figure is the median of the repeats, each share a ratio of those medians.
    """
    spin = [sys.executable, "-c", "while True: pass"]
    out: dict = {"busy_epochs": epochs, "busy_repeats": repeats, "busy_cores": os.cpu_count()}
    for mode in modes:
        env = {**os.environ, "VAE_STUDIO_ADAPTIVE_THREADS": "1" if mode == "adaptive" else "0"}
        rates: dict[int, list[float]] = {0: [], 1: [], 2: []}
        for _ in range(repeats):
            for n_busy in rates:
                spinners = [subprocess.Popen(spin) for _ in range(n_busy)]
                try:
                    with tempfile.TemporaryDirectory() as d:
                        r = subprocess.run(
                            [sys.executable, "-m", "vae_studio", "train", "--epochs", str(epochs), "--json",
                             "--out", os.path.join(d, "busy.pt")],
                            cwd=HERE.parent, env=env, capture_output=True, text=True, check=True,
                        )
                    rates[n_busy].append(json.loads(r.stdout.strip().splitlines()[-1])["samples_per_s"])
                finally:
                    for sp in spinners:
                        sp.kill()
                        sp.wait()
        alone = statistics.median(rates[0])
        for n_busy, values in rates.items():
            out[f"busy_{mode}_{n_busy}_samples_per_s"] = statistics.median(values)
            out[f"busy_{mode}_{n_busy}_all"] = values
            if n_busy:
                out[f"busy_{mode}_{n_busy}_share"] = statistics.median(values) / alone
    return out


def busy_rows(out: dict) -> list[tuple[str, str, str]]:
    rows = []
    for mode in ("adaptive", "fixed"):
        if f"busy_{mode}_0_samples_per_s" not in out:
            continue
        label = "adaptive threads" if mode == "adaptive" else "threads fixed (VAE_STUDIO_ADAPTIVE_THREADS=0)"
        rows.append((f"busy CPU, {label}: alone / beside 1 / beside 2",
                     " / ".join(f"{out[f'busy_{mode}_{n}_samples_per_s']:,.0f}" for n in range(3)) + " img/s",
                     f"{out[f'busy_{mode}_1_share']:.0%} / {out[f'busy_{mode}_2_share']:.0%} of alone "
                     f"(median of {out['busy_repeats']}, {out['busy_epochs']} epochs of the digits)"))
    return rows


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda", "auto"))
    p.add_argument("--data-dir", type=Path, default=default_data_dir(), help="folder holding FashionMNIST/raw (default: ../shared/data)")
    p.add_argument("--epochs", type=int, default=10, help="epochs of each loop for the side-by-side (default 10)")
    p.add_argument("--quick", action="store_true", help="a few seconds on the embedded digits, to keep the script working")
    p.add_argument("--no-gui", action="store_true", help="skip the in-app figures")
    p.add_argument("--json-out", type=Path, help="also write the JSON summary to this file")
    p.add_argument("--busy-only", action="store_true", help="measure only the busy-CPU row")
    p.add_argument("--busy-fixed", action="store_true", help="busy-CPU row also with the adaptive thread count off")
    p.add_argument("--busy-repeats", type=int, default=3, help="repeats of the busy-CPU row (default 3)")
    p.add_argument("--busy-epochs", type=int, default=10, help="epochs of the digits per busy-CPU run (default 10)")
    args = p.parse_args(argv)
    modes = ("adaptive", "fixed") if args.busy_fixed else ("adaptive",)
    if args.busy_only:
        out = busy_cpu(args.busy_epochs, args.busy_repeats, modes)
        for a, b, c in busy_rows(out):
            print(f"{a}  {b}  {c}")
        print(json.dumps(out))
        if args.json_out:
            args.json_out.write_text(json.dumps(out) + "\n")
        return 0

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

    sbs = side_by_side(name, data_dir, dataset, epochs, str(device), same, train_cfg)["epochs"]
    tut_s = [r["tutorial_s"] for r in sbs]
    eng_s = [r["engine_s"] for r in sbs]
    out["tutorial_s_per_epoch"] = statistics.mean(tut_s)
    out["engine_s_per_epoch"] = statistics.mean(eng_s)
    out["speedup"] = sum(tut_s) / sum(eng_s)
    out["speedup_per_epoch"] = [round(t / e, 3) for t, e in zip(tut_s, eng_s)]
    out["speedup_median"] = statistics.median(t / e for t, e in zip(tut_s, eng_s))
    out["tutorial_test_neg_elbo"] = sbs[-1]["tutorial_test_neg_elbo"]
    out["engine_test_neg_elbo"] = sbs[-1]["engine_test_neg_elbo"]
    out["quality_gap_nats"] = out["engine_test_neg_elbo"] - out["tutorial_test_neg_elbo"]
    out["tutorial_train_seconds"] = sum(tut_s)
    ttq = time_to_quality(dataset, str(device), out["tutorial_test_neg_elbo"], max_epochs=2 * epochs)
    out["engine_default_seconds_to_tutorial_quality"] = ttq["wall_s"]
    out["engine_default_epochs_to_tutorial_quality"] = ttq["epochs"]
    out.update(decode_latency(same))
    if not args.no_gui:
        # a short run of the digits in the window and headless, a few seconds each
        out.update(gui_figures(epochs=1 if args.quick else None, quick=args.quick))
    if not args.quick and device.type == "cpu":  # minutes of runs: not in the quick smoke run
        out.update(busy_cpu(args.busy_epochs, args.busy_repeats, modes))
    out["peak_rss_mb"] = peak_rss_mb()
    if device.type == "cuda":
        out["cuda_peak_mb"] = torch.cuda.max_memory_allocated() / 2**20

    rows = [
        ("device", out["device"], ""),
        (f"tutorial loop, s/epoch ({name})", f"{out['tutorial_s_per_epoch']:.3f}", ""),
        ("VAE Studio engine, s/epoch", f"{out['engine_s_per_epoch']:.3f}",
         f"{out['speedup']:.2f}x faster (median of epoch pairs {out['speedup_median']:.2f}x)"),
        (f"test -ELBO after {epochs} epochs: tutorial", f"{out['tutorial_test_neg_elbo']:.2f}", "nats/image"),
        (f"test -ELBO after {epochs} epochs: engine", f"{out['engine_test_neg_elbo']:.2f}", f"{out['quality_gap_nats']:+.2f} nats"),
        (f"time to the tutorial's {epochs}-epoch -ELBO: tutorial", f"{out['tutorial_train_seconds']:.2f} s", "training time"),
        ("... engine at its default settings",
         "not reached" if ttq["wall_s"] is None else f"{ttq['wall_s']:.2f} s",
         f"not within {ttq['epochs']} epochs" if ttq["wall_s"] is None else
         f"wall time, {ttq['epochs']} epochs, {out['tutorial_train_seconds'] / ttq['wall_s']:.2f}x sooner"),
        ("decode one digit (click), p50 / p95", f"{out['decode_p50_ms']:.2f} / {out['decode_p95_ms']:.2f} ms", ""),
    ]
    if "in_app_samples_per_s" in out:
        rows += [
            ("training in the app / headless", f"{out['in_app_samples_per_s']:,.0f} / {out['headless_samples_per_s']:,.0f} img/s",
             f"{out['in_app_ratio']:.0%} (median of {len(out['in_app_ratio_all'])} alternating pairs)"),
            ("GUI heartbeat delay while training, p50 / p99", f"{out['heartbeat_p50_ms']:.1f} / {out['heartbeat_p99_ms']:.1f} ms",
             f"separate run{'s' if len(out['heartbeat_runs_samples_per_s']) > 1 else ''}: "
             + ", ".join(f"{v:,.0f}" for v in out["heartbeat_runs_samples_per_s"]) + " img/s with the timer on"),
            ("... while hovering the latent map, p99", f"{out['heartbeat_hover_p99_ms']:.1f} ms", "60 Hz mouse moves, live previews"),
        ]
        if "map_update_ms" in out:
            rows.append(("latent map update (probe set)", f"{out['map_update_ms']:.1f} ms", f"{out.get('map_points', '')} points"))
        if "click_p95_ms" in out:
            rows.append(("click -> decoded image shown, p50 / p95", f"{out['click_p50_ms']:.1f} / {out['click_p95_ms']:.1f} ms", ""))
    elif "gui_skipped" in out:
        rows.append(("GUI figures", "skipped", out["gui_skipped"]))
    rows += busy_rows(out)
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
