"""The one loss history: growth, the checkpoint round trip, the CSV in step order."""

import csv
import io
import math
from types import SimpleNamespace

import numpy as np
import pytest

from vae_studio.core.errors import ConfigError
from vae_studio.core.history import History


def val(step, epoch, recon, kl):
    return SimpleNamespace(step=step, epoch=epoch, recon=recon, kl=kl, train_recon=recon, train_kl=kl, neg_iwae=None)


def test_columns_grow_and_views_match():
    h = History()
    for i in range(5000):
        h.add_step(i, i / 100, 50.0 + i, 5.0, 1.0)
    np.testing.assert_array_equal(h.array("step"), np.arange(5000))
    assert h.array("neg_elbo")[-1] == 50.0 + 4999 + 5.0 and len(h) == 5000


def test_round_trip_and_bad_histories():
    h = History()
    h.add_step(1, 0.5, 9.0, 1.0, 0.5)
    h.add_validation(val(2, 1, 7.5, 2.1))
    back = History.from_dict(h.to_dict())
    assert back.to_dict() == h.to_dict()
    assert back.array("val_neg_elbo").tolist() == [9.6]
    for bad in ({"step": "x"}, {"nope": [1]}, {"step": [1, 2], "epoch": [1]}, {"recon": [True]}, [1, 2]):
        with pytest.raises(ConfigError):
            History.from_dict(bad)


def test_csv_round_trip():
    hist = {"step": [1, 2, 3], "epoch": [0.3, 0.6, 1.0], "recon": [9.0, 8.0, 7.0], "kl": [1.0, 1.5, 2.0],
            "kl_weight": [0.1, 0.5, 1.0], "val_step": [3], "val_epoch": [1], "val_recon": [7.5], "val_kl": [2.1]}
    text = History.from_dict(hist).to_csv().splitlines()
    assert text[0] == "step,epoch,neg_elbo,recon,kl,kl_weight,val_neg_elbo,val_recon,val_kl"
    assert text[1] == "1,0.3,10,9,1,0.1,,,"
    assert text[3] == "3,1,9,7,2,1,9.6,7.5,2.1"  # validation on the row where the epoch ended


def test_csv_rows_are_in_step_order_with_validations_on_their_own_steps():
    """Held-out figures measured at steps no progress report fell on (36, 72, …) sit in step order."""
    h = History()
    for s in range(10, 721, 10):
        h.add_step(s, s / 36, 100.0, 10.0, 1.0)
    for e in range(1, 21):
        h.add_validation(val(36 * e, e, 90.0 + e, 9.0))
    rows = list(csv.DictReader(io.StringIO(h.to_csv())))
    steps = [int(r["step"]) for r in rows]
    assert steps == sorted(steps) and len(set(steps)) == len(steps)
    assert [int(r["step"]) for r in rows if r["val_neg_elbo"]] == [36 * e for e in range(1, 21)]
    assert rows[steps.index(36)]["neg_elbo"] == ""  # no training point at 36: its columns stay empty
    assert rows[steps.index(360)]["neg_elbo"] == "110" and rows[steps.index(360)]["val_neg_elbo"] == "109"
    assert math.isfinite(float(rows[-1]["val_neg_elbo"]))


def test_a_real_runs_csv_has_one_row_per_step_in_order_and_held_out_figures_where_measured(trained):
    h = trained.history
    rows = list(csv.DictReader(io.StringIO(h.to_csv())))
    steps = [int(r["step"]) for r in rows]
    assert steps == sorted(set(steps))  # one row per step, in step order
    assert set(steps) == set(h.array("step").astype(int)) | set(h.array("val_step").astype(int))
    held_out = {int(r["step"]): float(r["val_neg_elbo"]) for r in rows if r["val_neg_elbo"]}
    assert list(held_out) == h.array("val_step").astype(int).tolist()
    assert list(held_out.values()) == pytest.approx(h.array("val_neg_elbo").tolist())
