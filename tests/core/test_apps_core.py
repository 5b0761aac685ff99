"""Synthetic IDX folders, map quality, and training on a subset of classes."""

import numpy as np
import pytest
import torch

from vae_studio.core import ConfigError, ModelConfig, TrainConfig, Trainer, load_checkpoint, load_dataset, make_bundle
from vae_studio.core.checkpoint import save_checkpoint
from vae_studio.core.data import class_subset
from vae_studio.core.map_quality import knn_accuracy, map_quality, pca_2d
from vae_studio.core.cli_settings import from_cli
from vae_studio.core.settings import RunSettings
from vae_studio.core.synth import synthesize, write_folder


def test_knn_accuracy_by_hand():
    train = np.array([[0, 0], [0, 1], [1, 0], [10, 10], [10, 11], [11, 10]], float)
    labels = np.array([0, 0, 0, 1, 1, 1])
    assert knn_accuracy(train, labels, [[0.2, 0.2], [10.5, 10.5]], [0, 1], k=3) == 1.0
    assert knn_accuracy(train, labels, [[0.2, 0.2], [10.5, 10.5]], [1, 1], k=3) == 0.5
    # a 1-1 tie at k = 2 goes to the nearest neighbour's class
    assert knn_accuracy([[0.0], [3.0]], [0, 1], [[1.0], [2.0]], [0, 1], k=2) == 1.0


def test_pca_2d_keeps_the_widest_directions():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 5)) * np.array([10, 5, 0.1, 0.1, 0.1])
    a, b = pca_2d(x, x[:10])
    assert a.shape == (200, 2) and b.shape == (10, 2)
    assert a[:, 0].std() > a[:, 1].std() > 1


def test_map_quality_of_a_model_beside_pixel_pca(trained, digits):
    q = map_quality(trained.model.cpu().eval(), digits, methods=["pca"])
    assert q.k == 5 and 0 <= q.latent <= 1 and set(q.baselines) == {"pca"} and 0.1 < q.baselines["pca"] <= 1


@pytest.fixture(scope="module")
def conditional(digits):
    trainer = Trainer(ModelConfig(variant="conditional", latent_dim=4, hidden=(64,)),
                      TrainConfig(epochs=1, device="cpu", classes=(0, 3, 7)), digits)
    trainer.train()
    return trainer


def test_synthetic_folder_reads_back(conditional, tmp_path):
    model = conditional.model.cpu().eval()
    train = synthesize(model, 4, classes=(0, 3, 7), sampler="prior", seed=1)
    assert train.images.shape == (12, 28, 28) and train.images.dtype == np.uint8
    assert train.labels.tolist() == [0] * 4 + [3] * 4 + [7] * 4
    test = synthesize(model, 1, classes=(0, 3, 7), sampler="prior", seed=2)
    write_folder(tmp_path / "syn", train, test, [str(i) for i in range(10)])
    ds = load_dataset(str(tmp_path / "syn"))
    assert len(ds.train) == 12 and len(ds.test) == 3
    assert torch.equal(ds.train.images[:, 0], torch.from_numpy(train.images))  # the dataset adds the channel axis
    assert ds.class_names[:8] == tuple(str(i) for i in range(8))


def test_synthetic_colour_images_are_written_as_a_folder_of_images(tmp_path):
    from vae_studio.core.models import build_model

    cfg = ModelConfig(variant="conditional", latent_dim=3, hidden=(16,), image_shape=(3, 32, 32), num_classes=3)
    model = build_model(cfg).eval()
    train = synthesize(model, 5, sampler="prior", seed=1)
    assert train.images.shape == (15, 3, 32, 32)
    write_folder(tmp_path / "syn", train, synthesize(model, 2, sampler="prior", seed=2), ["red", "green", "blue"])
    ds = load_dataset(str(tmp_path / "syn"))
    assert ds.image_shape == (3, 32, 32) and len(ds.train) == 15 and len(ds.test) == 6
    assert ds.class_names == ("blue", "green", "red")  # folder names, sorted as ImageFolder sorts them
    by_name = {"red": 0, "green": 1, "blue": 2}
    got = sorted((by_name[ds.class_names[int(c)]], img.tobytes()) for c, img in zip(ds.train.labels, ds.train.images.numpy()))
    want = sorted((int(c), img.tobytes()) for c, img in zip(train.labels, train.images))
    assert got == want  # every image back, with its class, pixel for pixel


def test_synthesize_refuses_a_model_that_is_not_conditional(trained):
    with pytest.raises(ConfigError, match="conditional"):
        synthesize(trained.model, 2)


def test_classes_train_and_validate_on_those_classes_only(conditional, digits, tmp_path):
    assert set(conditional.train_split.labels.unique().tolist()) == {0, 3, 7}
    assert set(conditional.val_split.labels.unique().tolist()) == {0, 3, 7}
    assert len(conditional.train_split) == len(class_subset(digits.train, (0, 3, 7)))
    assert len(conditional.snapshot().probe_labels) == min(2000, len(digits.test))  # the map shows every class
    path = save_checkpoint(tmp_path / "c.pt", make_bundle(conditional))
    bundle = load_checkpoint(path)
    assert bundle["train_config"].classes == (0, 3, 7)
    settings = RunSettings.from_configs(bundle["model_config"], bundle["train_config"], bundle["dataset"])
    assert settings.classes == (0, 3, 7) and "--classes" in settings.cli_args()
    assert settings.cli_args()[settings.cli_args().index("--classes") + 1] == "0,3,7"


def test_classes_setting_is_checked(digits):
    assert from_cli({"classes": (7, 1, 1)}).train_config().classes == (1, 7)
    assert RunSettings(classes="").classes is None and RunSettings(classes=None).classes is None
    assert RunSettings.from_dict({"classes": [2, 5]})[0].classes == (2, 5)
    with pytest.raises(ConfigError, match="class 12 is not in digits"):
        Trainer(ModelConfig(latent_dim=2, hidden=(8,)), TrainConfig(epochs=1, device="cpu", classes=(1, 12)), digits)
    with pytest.raises(ConfigError):
        RunSettings(classes="1,x")
