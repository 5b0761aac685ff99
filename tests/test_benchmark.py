"""Keeps scripts/benchmark.py working. It asserts what the figures are, never how fast."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_benchmark_quick_mode_prints_a_table_and_json(tmp_path):
    out = tmp_path / "bench.json"
    r = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "benchmark.py"), "--quick", "--json-out", str(out)],
        capture_output=True, text=True, timeout=240,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    figures = json.loads(out.read_text())
    assert json.loads(r.stdout.strip().splitlines()[-1]) == figures
    for key in ("tutorial_s_per_epoch", "engine_s_per_epoch", "speedup", "engine_test_neg_elbo",
                "tutorial_test_neg_elbo", "decode_p95_ms", "peak_rss_mb"):
        assert figures[key] > 0, key
    assert "VAE Studio engine, s/epoch" in r.stdout
    assert "gui_skipped" in figures or figures["in_app_samples_per_s"] > 0
    if "gui_skipped" not in figures:
        # the lag comes from its own runs, with the timer on, which also trained
        assert figures["heartbeat_p99_ms"] >= figures["heartbeat_p50_ms"] >= 0
        assert all(v > 0 for v in figures["heartbeat_runs_samples_per_s"])


@pytest.mark.slow
def test_quality_evidence_quick_mode_prints_every_target(tmp_path):
    out = tmp_path / "quality.json"
    r = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "quality_evidence.py"), "--quick", "--json-out", str(out)],
        capture_output=True, text=True, timeout=600,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    figures = json.loads(out.read_text())
    for key in ("latent20", "latent2", "conditional", "beta_active_units", "sampler_confident_share"):
        assert key in figures, key
    assert len(figures["conditional"]["new_posterior"]) == 10
    for target in ("1. latent 20", "2. latent 2", "3. conditional", "4. active units"):
        assert target in r.stdout


def test_scripts_have_help():
    for script in ("benchmark.py", "tutorial_vae.py", "make_digits.py", "quality_evidence.py"):
        r = subprocess.run([sys.executable, str(REPO / "scripts" / script), "--help"], capture_output=True, text=True)
        assert r.returncode == 0 and "usage" in r.stdout.lower(), script


@pytest.mark.slow
def test_quality_figures_quick_mode_draws_maps_and_samples(tmp_path):
    from PIL import Image

    out = tmp_path / "before-after.png"
    r = subprocess.run([sys.executable, str(REPO / "scripts" / "quality_figures.py"), str(out), "--quick"],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    picture = Image.open(out).convert("L")
    assert picture.size[0] >= 1000 and picture.size[1] >= 900  # two columns of map and samples
    # the sample grids are drawn: the lower half holds dark digit tiles, not only the page's grey
    lower = picture.crop((0, picture.size[1] // 2, picture.size[0], picture.size[1]))
    assert lower.getextrema()[0] < 40
    assert not list(tmp_path.glob("*.part"))
