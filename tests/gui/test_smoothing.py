"""Smoothing is computed where the curves are drawn, incrementally."""

import math

import numpy as np

from vae_studio.core.history import History
from vae_studio.gui.widgets.loss_plot import nats_to_bits_per_dim
from vae_studio.gui.widgets.smoothing import Smoother


def test_smoothing_is_bias_corrected_skips_non_finite_and_grows_incrementally():
    h, s = History(), Smoother(decay=0.9)
    h.add_step(1, 0.1, 100.0, 10.0, 1.0)
    assert s.arrays(h)["neg_elbo"][0] == 110.0  # no pull towards zero at the start
    h.add_step(2, 0.2, math.nan, 10.0, 1.0)
    assert math.isfinite(s.arrays(h)["recon"][-1])
    for i in range(3, 200):
        h.add_step(i, i / 10, 50.0 + i % 7, 5.0, 1.0)
    step_by_step = s.arrays(h)["neg_elbo"]
    np.testing.assert_allclose(step_by_step, Smoother(decay=0.9).arrays(h)["neg_elbo"])  # same as all at once
    assert len(step_by_step) == len(h)


def test_bits_per_dim():
    assert abs(nats_to_bits_per_dim(784 * math.log(2), 784) - 1.0) < 1e-12
