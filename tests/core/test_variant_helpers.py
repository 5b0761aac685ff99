"""Core helpers behind the variant panels: label sweep, style transfer, snapshots of opened
weights, diagnosis and scoring of kept runs."""

import numpy as np
import pytest
import torch

from vae_studio.core import ModelConfig, Snapshot, TrainConfig, Trainer, evaluate
from vae_studio.core.generate import label_sweep, style_transfer
from vae_studio.core.snapshots import snapshot_of
from vae_studio.core.evaluate import diagnose, evaluate_weights


@pytest.fixture(scope="module")
def conditional(digits):
    t = Trainer(ModelConfig(variant="conditional", latent_dim=3, hidden=(64,)), TrainConfig(epochs=2, device="cpu"), digits)
    snaps = [m for m in t.run() if isinstance(m, Snapshot)]
    return t, snaps[-1]


def test_label_sweep_decodes_one_code_under_every_label(conditional):
    t, _ = conditional
    model = t.model.eval()
    out = label_sweep(model, np.zeros(3))
    assert out.shape == (10, 28, 28)
    with torch.no_grad():
        three = model.decode_mean(torch.zeros(1, 3), torch.tensor([3]))[0, 0].numpy()
    np.testing.assert_allclose(out[3], three, atol=1e-6)
    assert np.abs(out[3] - out[7]).max() > 1e-3  # the label changes the picture
    with pytest.raises(ValueError, match="conditional"):
        label_sweep(Trainer(ModelConfig(latent_dim=3, hidden=(8,)), TrainConfig(epochs=1), t.dataset).model, np.zeros(3))


def test_style_transfer_keeps_one_row_per_input(conditional, digits):
    t, _ = conditional
    images = digits.test.images[:4].numpy().astype(np.float32) / 255
    labels = digits.test.labels[:4].tolist()
    out = style_transfer(t.model.eval(), images, labels)
    assert out.shape == (40, 28, 28) and 0 <= out.min() and out.max() <= 1
    with pytest.raises(ValueError, match="one label per image"):
        style_transfer(t.model, images, labels[:2])


def test_snapshot_of_opened_weights_matches_the_trainers_own(conditional, digits):
    t, snap = conditional
    again = snapshot_of(snap.model_config, snap.state, digits, step=snap.step, probe_size=t.cfg.probe_size)
    assert np.array_equal(again.probe_index, snap.probe_index)
    np.testing.assert_allclose(again.probe_mu, snap.probe_mu, atol=1e-5)
    assert again.kl_per_dim.shape == (3,) and again.kl_per_dim.sum() > 0


def test_diagnose_and_evaluate_weights(conditional, digits):
    t, snap = conditional
    d = diagnose(snap.kl_per_dim, snap.probe_mu)
    assert d.latent_dim == 3 and d.active_units >= 1 and d.warning is None
    assert diagnose(None, np.zeros((50, 3))).warning is None  # not measured yet: no verdict
    collapsed = diagnose(np.full(3, 1e-4), np.zeros((50, 3)))
    assert collapsed.active_units == 0 and "collapse" in collapsed.warning
    r = evaluate_weights(snap.model_config, snap.state, digits.test, max_images=200)
    assert r.n_images == 200
    direct = evaluate(snap.build_model(), digits.test.subset(slice(0, 200)))
    assert r.neg_elbo == pytest.approx(direct.neg_elbo)
