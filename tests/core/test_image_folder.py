"""Folders of ordinary images as datasets: layouts, colour, sizes, skipped files, CIFAR-10."""

import numpy as np
import pytest
import torch
from image_folders import CLASSES, make_image_folder  # noqa: E402 - tests/ is on the path

from vae_studio.core import ConfigError, DataError, ModelConfig, TrainConfig, Trainer, load_dataset
from vae_studio.core.image_format import conform


@pytest.fixture(scope="module")
def colour_folder(tmp_path_factory):
    return make_image_folder(tmp_path_factory.mktemp("colour") / "shapes", per_class=40)


def test_class_subfolders_give_labelled_colour_images_at_32_px(colour_folder):
    seen = []
    ds = load_dataset(str(colour_folder), progress=lambda done, total: seen.append((done, total)))
    assert ds.image_shape == (3, 32, 32) and ds.class_names == CLASSES and ds.labelled
    assert ds.train.images.dtype == torch.uint8 and ds.name == str(colour_folder.resolve())
    assert torch.bincount(ds.test.labels).tolist() == [4, 4, 4]  # a tenth of every class held out
    assert len(ds.train) + len(ds.test) == 120 and ds.notes == ()
    assert seen[-1] == (120, 120) and all(d <= t for d, t in seen)
    # the pictures' own colours survive: the red discs' class is the reddest
    mean = ds.train.images.float().mean((2, 3))
    reddest = [int(mean[ds.train.labels == c, 0].mean() > mean[ds.train.labels == c, 2].mean()) for c in range(3)]
    assert reddest == [1, 0, 0]


def test_size_and_channels_are_chosen_or_follow_the_images(colour_folder, tmp_path):
    big = load_dataset(str(colour_folder), image_size=64)
    assert big.image_shape == (3, 64, 64)
    grey = load_dataset(str(colour_folder), image_size=28, channels=1)
    assert grey.image_shape == (1, 28, 28)
    stored_grey = make_image_folder(tmp_path / "grey", per_class=10, grey=True)
    assert load_dataset(str(stored_grey)).image_shape == (1, 28, 28)
    assert load_dataset(str(stored_grey), channels=3).image_shape == (3, 32, 32)  # the default size of colour


def test_a_flat_folder_is_unlabelled_and_the_conditional_variant_is_refused(tmp_path):
    folder = make_image_folder(tmp_path / "flat", per_class=10, flat=True)
    ds = load_dataset(str(folder))
    assert ds.class_names == () and not ds.labelled and ds.num_classes == 1
    assert set(ds.train.labels.tolist()) == {0} and len(ds.train) + len(ds.test) == 30
    with pytest.raises(ConfigError, match="conditional variant needs class labels.*without class subfolders"):
        Trainer(ModelConfig(variant="conditional", hidden=(8,), latent_dim=2), TrainConfig(epochs=1, device="cpu"), ds)
    Trainer(ModelConfig(hidden=(8,), latent_dim=2, image_shape=ds.image_shape, num_classes=1),
            TrainConfig(epochs=1, device="cpu"), ds).train()


def test_unreadable_and_odd_files_are_skipped_with_a_count_and_names(tmp_path):
    folder = make_image_folder(tmp_path / "mixed", per_class=8, ext=".jpg")
    (folder / "disc" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really a picture")
    good = (folder / "square" / "square-000.jpg").read_bytes()
    (folder / "square" / "cut.jpg").write_bytes(good[: len(good) // 3])
    (folder / "triangle" / "notes.txt").write_text("not an image")
    (folder / "triangle" / ".DS_Store").write_bytes(b"\0\0")  # hidden files are nobody's images
    (folder / "loose.png").write_bytes(good)  # beside the class folders, not in one
    ds = load_dataset(str(folder))
    assert len(ds.train) + len(ds.test) == 24 and ds.class_names == CLASSES
    (note,) = ds.notes
    assert note.startswith("skipped 4 of 28 files: ") and "and 1 more" in note
    for name in ("notes.txt (not an image)", "loose.png (outside the class folders)"):
        assert name in note
    assert "broken.png" in note or "cut.jpg" in note


def test_a_folder_without_images_is_a_clear_error(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError, match="holds no images: put PNG, JPEG or BMP files in it"):
        load_dataset(str(empty))
    (empty / "readme.txt").write_text("x")
    (empty / "bad.png").write_bytes(b"nope")
    with pytest.raises(DataError, match=r"holds no images.*skipped 2 of 2 files: readme.txt \(not an image\), bad.png \(not a readable image\)"):
        load_dataset(str(empty))


def test_train_and_test_folders_are_the_splits(tmp_path):
    make_image_folder(tmp_path / "set" / "train", per_class=6)
    make_image_folder(tmp_path / "set" / "test", per_class=2, seed=1)
    ds = load_dataset(str(tmp_path / "set"))
    assert (len(ds.train), len(ds.test)) == (18, 6) and ds.class_names == CLASSES


def test_tensor_sources_are_resized_and_coloured_on_request(digits):
    assert conform(digits.test.images, None, None) is digits.test.images  # MNIST's own size and channels
    big = load_dataset("digits", image_size=32, channels=3)
    assert big.image_shape == (3, 32, 32)
    assert torch.equal(big.test.images[:, 0], big.test.images[:, 2])  # grey in all three channels
    # resizing keeps the picture: the ink stays where it was, as a share of the frame
    ink28 = digits.test.images.float().mean()
    assert abs(big.test.images.float().mean() - ink28) < 0.05 * ink28


def test_cifar10_is_a_torchvision_source(monkeypatch, tmp_path):
    import torchvision

    class FakeCIFAR10:  # what torchvision's class holds, without the download
        classes = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]

        def __init__(self, root, train, download):
            rng = np.random.default_rng(int(train))
            n = 50 if train else 10
            self.data = rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)
            self.targets = list(rng.integers(0, 10, n))

    monkeypatch.setattr(torchvision.datasets, "CIFAR10", FakeCIFAR10)
    ds = load_dataset("cifar10", data_dir=tmp_path)
    assert ds.image_shape == (3, 32, 32) and ds.class_names[0] == "airplane" and (len(ds.train), len(ds.test)) == (50, 10)
    first = FakeCIFAR10(tmp_path, True, False).data[0]
    assert np.array_equal(ds.train.images[0].permute(1, 2, 0).numpy(), first)
    assert load_dataset("cifar10", data_dir=tmp_path, channels=1).image_shape == (1, 32, 32)


def test_cifar10_offline_names_the_fix(tmp_path):
    with pytest.raises(DataError, match=r"cifar10 is not available under .*cifar-10-batches-py"):
        load_dataset("cifar10", data_dir=tmp_path, download=False)
