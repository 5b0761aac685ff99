"""The β variant given the class label (the β panel's default): built from the settings, trained,
saved and used like a conditional model; the classic β-VAE where the label is switched off, where
the data has none, and for checkpoints written before the setting existed."""

import numpy as np
import pytest
import torch
from image_folders import make_image_folder  # noqa: E402 - tests/ is on the path

from vae_studio.cli import main
from vae_studio.core import ModelConfig, TrainConfig, Trainer, load_checkpoint, load_dataset
from vae_studio.core.animation import traversal
from vae_studio.core.cli_settings import from_cli
from vae_studio.core.errors import ConfigError
from vae_studio.core.settings import RunSettings


def test_the_beta_variant_is_given_the_label_unless_switched_off():
    given = from_cli({"variant": "beta"})
    assert given.beta_label and given.model_config().label_given and given.model_config().conditional
    classic = from_cli({"variant": "beta", "beta_label": False})
    assert not classic.model_config().conditional
    assert "without labels" in classic.describe() and "without" not in given.describe()
    # the switch is the β variant's own: the other two ignore the stored value
    assert not RunSettings(variant="vanilla", beta_label=True).model_config().conditional
    with pytest.raises(ConfigError, match="--no-beta-label need --variant beta"):
        from_cli({"variant": "vanilla", "beta_label": False})


def test_settings_round_trip_through_a_checkpoint_config_and_the_command_line():
    for on in (True, False):
        s = RunSettings(variant="beta", beta=4.0, beta_label=on)
        back = RunSettings.from_configs(s.model_config(), s.train_config(), s.dataset)
        assert back.beta_label is on
        assert ("--beta-label" if on else "--no-beta-label") in s.cli_args()
    # a β checkpoint from before the setting: its config has no key, and it is the classic model
    old = {k: v for k, v in ModelConfig(variant="beta").to_dict().items() if k != "label_given"}
    cfg = ModelConfig.from_dict(old)
    assert not cfg.label_given and not cfg.conditional
    assert RunSettings.from_configs(cfg, TrainConfig(beta=4.0), "digits").beta_label is False
    with pytest.raises(ConfigError, match="label_given"):
        ModelConfig(variant="beta", label_given="yes")


def test_a_labelled_beta_model_trains_saves_and_draws_a_chosen_class(digits, tmp_path, capsys):
    out = tmp_path / "b.pt"
    args = ["train", "--variant", "beta", "--latent-dim", "3", "--hidden", "32", "--epochs", "1", "--device", "cpu"]
    assert main([*args, "--out", str(out)]) == 0
    model = load_checkpoint(out)["_model"]
    assert model.conditional and model.cfg.label_given and model.cfg.variant == "beta"
    # the label reaches the decoder: the same code drawn as two classes gives two pictures
    a, b = (traversal(model, np.zeros(3), [0], steps=3, label=k) for k in (1, 7))
    assert np.abs(a - b).max() > 1e-3
    capsys.readouterr()
    png = str(tmp_path / "s.png")
    assert main(["sample", str(out), "--out", png]) == 2
    assert "given the class label (beta): give --label" in capsys.readouterr().err
    assert main(["sample", str(out), "--out", png, "--label", "3"]) == 0
    assert main([*args, "--no-beta-label", "--out", str(tmp_path / "c.pt")]) == 0
    assert not load_checkpoint(tmp_path / "c.pt")["_model"].conditional


def test_without_labels_in_the_data_the_beta_variant_trains_the_classic_model(tmp_path):
    folder = make_image_folder(tmp_path / "flat", per_class=10, flat=True)
    ds = load_dataset(str(folder))
    assert not ds.labelled
    cfg = RunSettings(variant="beta", latent_dim=2, hidden=(16,)).model_config(ds.image_shape, ds.num_classes)
    assert cfg.conditional
    t = Trainer(cfg, TrainConfig(epochs=1, device="cpu", beta=4.0), ds)
    assert not t.model.conditional and not t.model_cfg.label_given
    for _ in t.run():
        pass
    assert t.epoch == 1 and torch.isfinite(torch.tensor(t.best_neg_elbo))
