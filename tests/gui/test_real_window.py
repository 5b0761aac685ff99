"""The window smoke run in a real X11 window (Xvfb), not only offscreen."""

import json
import os
import shutil
import subprocess
from pathlib import Path
import sys

import pytest

SMOKE = Path(__file__).resolve().parents[2] / "scripts" / "instruments" / "smoke.py"  # an instrument, not in the wheel

pytestmark = pytest.mark.slow


@pytest.mark.skipif(shutil.which("xvfb-run") is None, reason="Xvfb is not installed (apt-get install xvfb); .ci/run installs it")
def test_smoke_run_in_a_real_x11_window(tmp_path):
    shot = tmp_path / "real-window.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "xcb"}
    env.pop("DISPLAY", None)
    r = subprocess.run(
        ["xvfb-run", "-a", "-s", "-screen 0 1600x1000x24", sys.executable, str(SMOKE), str(shot)],
        capture_output=True, text=True, env=env, timeout=240,
    )
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("{")]
    assert lines, f"no result (exit {r.returncode}): {r.stderr[-2000:]}"
    result = json.loads(lines[-1])
    assert result["platform"] == "xcb", result
    assert result["ok"] and r.returncode == 0, result
    assert shot.stat().st_size > 20_000  # a real picture, not an empty grab
