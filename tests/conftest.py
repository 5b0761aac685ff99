import os
from pathlib import Path

# Qt must never need a display in the test run; set before anything imports Qt.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path:
    """The Fashion-MNIST copy beside the checkout (see the README's "Data" section)."""
    return Path(os.environ.get("VAE_STUDIO_TEST_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def fashion_dir() -> Path:
    raw = shared_data_dir() / "FashionMNIST" / "raw"
    if not (raw / "train-images-idx3-ubyte").exists() and not (raw / "train-images-idx3-ubyte.gz").exists():
        pytest.skip(f"Fashion-MNIST test data not found under {shared_data_dir()} (set VAE_STUDIO_TEST_DATA)")
    return raw
