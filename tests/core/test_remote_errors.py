"""An error the training process did not foresee comes back as one sentence; its traceback is logged."""

import pytest

from vae_studio.core import ModelConfig, TrainConfig, TrainingError
from vae_studio.core.remote import RemoteTrainer


def test_an_unforeseen_error_in_the_child_is_one_sentence_and_a_log(tmp_path, monkeypatch):
    monkeypatch.setenv("VAE_STUDIO_LOG_DIR", str(tmp_path))
    with pytest.raises(TrainingError) as caught:
        RemoteTrainer(ModelConfig(hidden=(8,)), TrainConfig(epochs=1, device="cpu"), "not a dataset")
    text = str(caught.value)
    assert "\n" not in text and "unexpected error in the training process" in text and "AttributeError" in text
    assert caught.value.log_path == str(tmp_path / "errors.log")
    assert "Traceback" in (tmp_path / "errors.log").read_text()
