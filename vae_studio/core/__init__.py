"""The VAE engine: plain PyTorch and NumPy, no GUI.

A notebook or a server can train, evaluate and sample with it directly::

    from vae_studio.core import ModelConfig, TrainConfig, Trainer, load_dataset
    trainer = Trainer(ModelConfig(latent_dim=2), TrainConfig(epochs=5), load_dataset("digits"))
    for message in trainer.run():
        print(message)
"""

from .checkpoint import load_checkpoint, make_bundle, save_checkpoint
from .config import ModelConfig, TrainConfig
from .data import Dataset, Split, load_dataset
from .device import describe_device, resolve_device
from .errors import CheckpointError, ConfigError, DataError, NonFiniteLossError, TrainingError, VaeStudioError
from .evaluate import EvalResult, evaluate
from .models import VAE, build_model
from .history import History
from .trainer import Finished, Progress, Snapshot, Trainer, Validation

__all__ = [
    "CheckpointError", "ConfigError", "DataError", "Dataset", "EvalResult", "Finished", "History",
    "ModelConfig", "NonFiniteLossError", "Progress", "Snapshot", "Split", "TrainConfig", "Trainer",
    "TrainingError", "VAE", "Validation", "VaeStudioError", "build_model", "describe_device",
    "evaluate", "load_checkpoint", "load_dataset", "make_bundle", "resolve_device", "save_checkpoint",
]
