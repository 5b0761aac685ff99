"""Colour and larger images through the engine: models, losses, evaluation, decoding, generation,
snapshots and the explorer's state."""

import numpy as np
import pytest
import torch
from image_folders import make_image_folder  # noqa: E402 - tests/ is on the path

from vae_studio.core import ModelConfig, Snapshot, TrainConfig, Trainer, build_model, evaluate, load_dataset
from vae_studio.core import explorer_state as S
from vae_studio.core.decoding import as_batch, decode, encode
from vae_studio.core.generate import label_sweep, prior_samples, style_transfer, tile, traversal_grid
from vae_studio.core.losses import recon_nll
from vae_studio.core.snapshots import snapshot_of


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    return load_dataset(str(make_image_folder(tmp_path_factory.mktemp("models") / "shapes", per_class=30)))


@pytest.fixture(scope="module")
def colour_snapshot(shapes):
    cfg = ModelConfig(variant="conditional", latent_dim=3, hidden=(32,), image_shape=shapes.image_shape, num_classes=3)
    messages = Trainer(cfg, TrainConfig(epochs=2, device="cpu", seed=0, batch_size=32), shapes).train()
    return [m for m in messages if isinstance(m, Snapshot)][-1]


@pytest.mark.parametrize("arch", ["mlp", "conv", "resnet"])
@pytest.mark.parametrize("side", [28, 32, 64])
def test_every_architecture_takes_every_size_in_grey_and_colour(arch, side):
    for c in (1, 3):
        cfg = ModelConfig(arch=arch, latent_dim=2, hidden=(8,), channels=(4, 8), image_shape=(c, side, side))
        x = torch.rand(2, c, side, side)
        logits, mu, _ = build_model(cfg)(x)
        assert logits.shape == x.shape and mu.shape == (2, 2)


def test_the_bernoulli_likelihood_counts_every_channel():
    x = torch.rand(2, 3, 4, 4)
    logits = torch.zeros(2, 3, 4, 4)
    one = recon_nll(logits[:, :1], x[:, :1])
    assert torch.allclose(recon_nll(logits, x), 3 * one, rtol=0.3)  # three channels of the same size, about 3x
    assert recon_nll(logits, x).shape == (2,)


def test_a_colour_run_evaluates_decodes_and_generates(shapes, colour_snapshot):
    model = build_model(colour_snapshot.model_config)
    model.load_state_dict(colour_snapshot.state)
    model.eval()
    result = evaluate(model, shapes.test, "cpu", iwae_samples=3)
    assert np.isfinite(result.neg_elbo) and result.n_images == len(shapes.test)
    images = decode(model, np.zeros((5, 3)), label=1)
    assert images.shape == (5, 3, 32, 32) and 0 <= images.min() and images.max() <= 1
    one = shapes.test.images[0].numpy() / 255.0
    assert as_batch(one, model).shape == (1, 3, 32, 32)
    mu, _ = encode(model, one, label=int(shapes.test.labels[0]))
    assert mu.shape == (1, 3)
    assert prior_samples(model, 4, label=0).shape == (4, 3, 32, 32)
    assert traversal_grid(model, np.zeros(3), steps=5, label=2).shape == (15, 3, 32, 32)
    assert label_sweep(model, np.zeros(3)).shape == (3, 3, 32, 32)
    assert style_transfer(model, shapes.test.images[:2].numpy() / 255.0, [0, 1]).shape == (6, 3, 32, 32)
    picture = tile(images, nrow=5, padding=2)
    assert picture.shape == (3, 2 + 34, 2 + 5 * 34)


def test_snapshots_and_the_explorer_state_show_colour(shapes, colour_snapshot):
    snap = snapshot_of(colour_snapshot.model_config, colour_snapshot.state, shapes, probe_size=20)
    assert snap.probe_mu.shape == (len(shapes.test), 3)  # all 9 held out, fewer than the 20 asked for
    st = S.ExplorerState()
    st.set_class_names(shapes.class_names)
    st.set_probe_split(shapes.test)
    st.set_snapshot(snap)
    assert st.probe_image(0).shape == (3, 32, 32) and st.decode(np.zeros(3)).shape == (3, 32, 32)
    images, labels = st.probe_examples([0, 1])
    assert images.shape == (2, 3, 32, 32) and len(labels) == 2
    assert st.typical_neg_elbo() > 0
    assert not st.drawable()  # the pad draws grey ink; a colour model takes no drawing
    st.set_drawing(np.ones((28, 28)))
    assert st.drawn is None


def test_an_unlabelled_run_has_no_class_names_in_the_explorer(tmp_path):
    data = load_dataset(str(make_image_folder(tmp_path / "flat", per_class=8, flat=True)))
    cfg = ModelConfig(latent_dim=2, hidden=(8,), image_shape=data.image_shape, num_classes=data.num_classes)
    snap = [m for m in Trainer(cfg, TrainConfig(epochs=1, device="cpu"), data).train() if isinstance(m, Snapshot)][-1]
    st = S.ExplorerState()
    st.set_class_names(data.class_names)
    st.set_snapshot(snap)
    assert st.class_names == () and set(st.labels.tolist()) == {0}


def test_grey_models_at_other_sizes_encode_a_drawing_of_their_size(digits):
    big = load_dataset("digits", image_size=64)
    cfg = ModelConfig(latent_dim=2, hidden=(16,), image_shape=big.image_shape)
    snap = snapshot_of(cfg, build_model(cfg).state_dict(), big, probe_size=10)
    st = S.ExplorerState()
    st.set_snapshot(snap)
    st.set_drawing(np.ones((28, 28)))
    assert st.drawn is None  # a drawing of another size is not this model's input
    st.set_drawing(big.test.images[0, 0].numpy() / 255.0)
    assert st.drawn is not None and st.drawn_score[0] > 0
