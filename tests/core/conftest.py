import pytest
import torch

from vae_studio.core import ModelConfig, TrainConfig, Trainer, load_dataset


@pytest.fixture(scope="session")
def digits():
    return load_dataset("digits")


@pytest.fixture(scope="session")
def trained(digits):
    """A small model trained briefly on the digits, shared by tests that only read it."""
    # the plain settings of the first versions (no augmentation, constant rate), so the
    # figures the tests read stay where they were measured
    trainer = Trainer(ModelConfig(latent_dim=8, hidden=(256,)), TrainConfig(epochs=6, device="cpu", seed=3, lr=1e-3, augment="none", lr_schedule="constant"), digits)
    trainer.train()
    return trainer


@pytest.fixture(autouse=True)
def _deterministic():
    torch.manual_seed(0)
