"""The in-app speed measurement: the heartbeat runs only when asked for, and training completes."""

import math

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
from instruments.measure import measure_window  # noqa: E402


def test_heartbeat_runs_only_when_asked_for(qapp, fast):
    # a run of a second or so: dozens of beats at 10 ms
    settings = fast.replace(epochs=4)
    probed = measure_window(settings, heartbeat=True)
    plain = measure_window(settings, heartbeat=False)
    for m in (probed, plain):
        assert m.finish == "completed" and m.steps > 0 and m.samples_per_s > 0
    assert probed.beats > 10
    assert 0 <= probed.heartbeat_p50_ms <= probed.heartbeat_p99_ms <= probed.heartbeat_max_ms
    assert plain.beats == 0 and math.isnan(plain.heartbeat_p99_ms)
