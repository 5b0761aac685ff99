"""The loss buffers behind the plots (no Qt needed)."""

import csv
import io
import math

import numpy as np

from vae_studio.gui.history import LossBuffers, nats_to_bits_per_dim


def test_smoothing_is_bias_corrected_and_skips_non_finite():
    h = LossBuffers(smoothing=0.9)
    h.add_step(1, 0.1, 100.0, 10.0, 1.0)
    assert h.smooth_array("neg_elbo")[0] == 110.0  # no pull towards zero at the start
    h.add_step(2, 0.2, math.nan, 10.0, 1.0)
    assert math.isfinite(h.smooth_array("recon")[-1])
    assert len(h) == 2


def test_buffers_grow_and_views_match():
    h = LossBuffers()
    for i in range(5000):
        h.add_step(i, i / 100, 50.0 + i, 5.0, 1.0)
    np.testing.assert_array_equal(h.step_array("step"), np.arange(5000))
    assert h.step_array("neg_elbo")[-1] == 50.0 + 4999 + 5.0


def test_load_history_and_csv_round_trip():
    hist = {"step": [1, 2, 3], "epoch": [0.3, 0.6, 1.0], "recon": [9.0, 8.0, 7.0], "kl": [1.0, 1.5, 2.0],
            "kl_weight": [0.1, 0.5, 1.0], "val_step": [3], "val_epoch": [1], "val_recon": [7.5], "val_kl": [2.1]}
    h = LossBuffers()
    h.load_history(hist)
    text = h.to_csv().splitlines()
    assert text[0] == "step,epoch,neg_elbo,recon,kl,kl_weight,val_neg_elbo,val_recon,val_kl"
    assert text[1] == "1,0.3,10,9,1,0.1,,,"
    assert text[3] == "3,1,9,7,2,1,9.6,7.5,2.1"  # validation on the row where the epoch ended


def test_bits_per_dim():
    assert abs(nats_to_bits_per_dim(784 * math.log(2), 784) - 1.0) < 1e-12


def test_csv_rows_are_in_step_order_with_validations_on_their_own_steps():
    """Held-out figures measured at steps no progress report fell on (36, 72, …) sit in step order."""
    h = LossBuffers()
    for s in range(10, 721, 10):
        h.add_step(s, s / 36, 100.0, 10.0, 1.0)
    for e in range(1, 21):
        h.add_validation(36 * e, e, 90.0 + e, 9.0)
    rows = list(csv.DictReader(io.StringIO(h.to_csv())))
    steps = [int(r["step"]) for r in rows]
    assert steps == sorted(steps) and len(set(steps)) == len(steps)
    val = [int(r["step"]) for r in rows if r["val_neg_elbo"]]
    assert val == [36 * e for e in range(1, 21)]
    assert rows[steps.index(36)]["neg_elbo"] == ""  # no training point at 36: its columns stay empty
    assert rows[steps.index(360)]["neg_elbo"] == "110" and rows[steps.index(360)]["val_neg_elbo"] == "109"
