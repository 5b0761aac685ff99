import gzip
import shutil

import numpy as np
import pytest
import torch

from vae_studio.core import DataError, load_dataset
from vae_studio.core.data import DeviceBatches
from vae_studio.core.idx import read_idx, write_idx


def test_embedded_digits_are_5000_real_digits_with_a_fixed_stratified_split(digits):
    assert len(digits.train) + len(digits.test) == 5000
    assert digits.image_shape == (1, 28, 28)
    assert torch.bincount(digits.test.labels).tolist() == [50] * 10
    assert torch.bincount(digits.train.labels).tolist() == [450] * 10
    again = load_dataset("digits")
    assert torch.equal(again.test.images, digits.test.images)
    # real handwriting: about a fifth of the pixels are ink, and backgrounds are black
    ink = (digits.train.images > 127).float().mean()
    assert 0.08 < ink < 0.3
    assert digits.train.images[:, 0, 0, :].float().mean() < 5  # the top row


def _write_pair(folder, prefix, images, labels, gz=False):
    ext = ".gz" if gz else ""
    write_idx(folder / f"{prefix}-images-idx3-ubyte{ext}", images)
    write_idx(folder / f"{prefix}-labels-idx1-ubyte{ext}", labels)


def _fake(n, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(0, 10, n, dtype=np.uint8)


@pytest.mark.parametrize("gz", [False, True])
def test_idx_folder_with_both_splits(tmp_path, gz):
    _write_pair(tmp_path, "train", *_fake(60), gz=gz)
    _write_pair(tmp_path, "t10k", *_fake(20, 1), gz=gz)
    ds = load_dataset(str(tmp_path))
    assert (len(ds.train), len(ds.test)) == (60, 20)
    assert ds.image_shape == (1, 28, 28) and np.array_equal(ds.test.images[:, 0].numpy(), _fake(20, 1)[0])


@pytest.mark.parametrize("prefix", ["train", "t10k"])
def test_idx_folder_with_one_split_missing_carves_a_held_out_split(tmp_path, prefix):
    _write_pair(tmp_path, prefix, *_fake(100))
    ds = load_dataset(str(tmp_path))
    assert len(ds.train) + len(ds.test) == 100 and len(ds.test) >= 10


def test_idx_errors_name_the_file(tmp_path):
    images, labels = _fake(30)
    _write_pair(tmp_path, "train", images, labels)
    img = tmp_path / "train-images-idx3-ubyte"
    good = img.read_bytes()

    img.write_bytes(b"\x00\x00\x08\x09" + good[4:])  # wrong magic (ndim)
    with pytest.raises(DataError, match="train-images-idx3-ubyte.*magic"):
        load_dataset(str(tmp_path))
    img.write_bytes(b"\x12\x34\x56\x78" + good[4:])
    with pytest.raises(DataError, match="train-images-idx3-ubyte.*magic"):
        load_dataset(str(tmp_path))
    img.write_bytes(good[:-100])
    with pytest.raises(DataError, match="train-images-idx3-ubyte is truncated"):
        load_dataset(str(tmp_path))
    img.write_bytes(good)
    write_idx(tmp_path / "train-labels-idx1-ubyte", labels[:29])
    with pytest.raises(DataError, match="30 images but .*train-labels-idx1-ubyte holds 29 labels"):
        load_dataset(str(tmp_path))
    (tmp_path / "train-labels-idx1-ubyte").unlink()
    with pytest.raises(DataError, match="no matching train-labels"):
        load_dataset(str(tmp_path))


def test_corrupt_gzip_and_empty_folder(tmp_path):
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(b"\x1f\x8bnot really gzip")
    (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(b"x"))
    with pytest.raises(DataError, match="train-images-idx3-ubyte.gz is not a valid gzip"):
        load_dataset(str(tmp_path))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError, match="holds no images.*PNG, JPEG or BMP.*or the MNIST-format IDX files"):
        load_dataset(str(empty))


def test_unknown_source_and_missing_torchvision_data_are_clear(tmp_path):
    with pytest.raises(DataError, match="unknown dataset"):
        load_dataset("no-such-thing")
    with pytest.raises(DataError, match=r"kmnist is not available under .*allow downloading"):
        load_dataset("kmnist", data_dir=tmp_path, download=False)


def test_idx_round_trip(tmp_path):
    a = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    write_idx(tmp_path / "a.gz", a)
    assert np.array_equal(read_idx(tmp_path / "a.gz"), a)


def test_fashion_mnist_from_a_folder_and_through_torchvision_offline(fashion_dir, tmp_path):
    from_folder = load_dataset(str(fashion_dir))
    assert (len(from_folder.train), len(from_folder.test)) == (60000, 10000)
    shutil.copytree(fashion_dir, tmp_path / "FashionMNIST" / "raw")
    via_tv = load_dataset("fashion-mnist", data_dir=tmp_path, download=False)
    assert torch.equal(via_tv.test.images, from_folder.test.images)
    assert via_tv.class_names[0] == "T-shirt/top"


def test_device_batches_cover_every_image_once_per_epoch(digits):
    g = torch.Generator().manual_seed(0)
    b = DeviceBatches(digits.test, 64, torch.device("cpu"), g)
    seen = []
    for x, y in b:
        assert x.dtype == torch.float32 and x.shape[1:] == (1, 28, 28) and 0 <= x.min() and x.max() <= 1
        seen.append(y)
    assert len(seen) == len(b) == 8
    assert torch.equal(torch.sort(torch.cat(seen)).values, torch.sort(digits.test.labels).values)


def test_the_built_in_sizes_the_window_plans_with_match_the_embedded_digits(digits):
    from vae_studio.core.config import BUILTIN_TRAIN_IMAGES, default_epochs

    assert BUILTIN_TRAIN_IMAGES["digits"] == len(digits.train)
    assert default_epochs("digits") == 89 and default_epochs("/some/folder") is None
