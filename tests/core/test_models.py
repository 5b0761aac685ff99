import dataclasses

import pytest
import torch

from vae_studio.core import ConfigError, ModelConfig, TrainConfig, build_model


@pytest.mark.parametrize("arch", ["mlp", "conv"])
@pytest.mark.parametrize("variant", ["vanilla", "conditional", "beta"])
def test_shapes_follow_the_config(arch, variant):
    cfg = ModelConfig(variant=variant, arch=arch, latent_dim=7, hidden=(64, 32), image_shape=(1, 12, 16), num_classes=5)
    model = build_model(cfg)
    x = torch.rand(3, 1, 12, 16)
    y = torch.tensor([0, 4, 2]) if cfg.conditional else None
    logits, mu, logvar = model(x, y)
    assert logits.shape == x.shape
    assert mu.shape == logvar.shape == (3, 7)
    assert model.decode_mean(torch.zeros(2, 7), y[:2] if y is not None else None).shape == (2, 1, 12, 16)


def test_gradients_flow_through_the_reparameterisation():
    mu = torch.zeros(5, 3, requires_grad=True)
    logvar = torch.zeros(5, 3, requires_grad=True)
    z = build_model(ModelConfig(latent_dim=3)).reparameterize(mu, logvar)
    (z**2).sum().backward()
    assert mu.grad.abs().sum() > 0 and logvar.grad.abs().sum() > 0
    model = build_model(ModelConfig(latent_dim=3, hidden=(32,)))
    logits, m, lv = model(torch.rand(4, 1, 28, 28))
    logits.sum().backward()
    enc_grads = [p.grad for p in model.encoder.parameters()]
    assert all(g is not None and g.abs().sum() > 0 for g in enc_grads)


@pytest.mark.parametrize("arch", ["mlp", "conv"])
def test_conditional_decoder_output_depends_on_the_label(arch):
    model = build_model(ModelConfig(variant="conditional", arch=arch, latent_dim=4, hidden=(64,)))
    z = torch.randn(1, 4)
    a, b = model.decode_mean(z, torch.tensor([3])), model.decode_mean(z, torch.tensor([7]))
    assert (a - b).abs().max() > 1e-4
    with pytest.raises(ValueError, match="label"):
        model.decode(z)


def test_nothing_is_hard_coded_to_mnist_sizes():
    model = build_model(ModelConfig(latent_dim=20, hidden=(400,)))
    assert sum(p.numel() for p in model.parameters()) == (784 * 400 + 400) + (400 * 40 + 40) + (20 * 400 + 400) + (400 * 784 + 784)


@pytest.mark.parametrize(
    "kwargs,match",
    [(dict(latent_dim=0), "latent"), (dict(arch="rnn"), "arch"), (dict(variant="x"), "variant"),
     (dict(arch="conv", image_shape=(1, 30, 30)), "divisible by 4"), (dict(hidden=()), "hidden")],
)
def test_model_config_rejects_bad_values(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        ModelConfig(**kwargs)


@pytest.mark.parametrize(
    "kwargs,match",
    [(dict(epochs=0), "epochs"), (dict(lr=float("nan")), "learning rate"), (dict(beta=-1.0), "beta"),
     (dict(free_bits=-0.1), "free bits"), (dict(kl_schedule="cyclical"), "cycle length"), (dict(device="tpu"), "device")],
)
def test_train_config_rejects_bad_values(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        TrainConfig(**kwargs)


def test_configs_round_trip_through_dicts():
    m = ModelConfig(variant="beta", hidden=(128, 64))
    t = TrainConfig(beta=4.0, warmup_epochs=2)
    assert ModelConfig.from_dict(m.to_dict()) == m
    assert TrainConfig.from_dict(t.to_dict()) == t
    assert t.kl_schedule == "linear"
    with pytest.raises(ConfigError, match="unknown"):
        ModelConfig.from_dict({**m.to_dict(), "bogus": 1})


def test_skip_connections_join_only_hidden_layers_of_equal_width():
    torch.manual_seed(0)
    plain = build_model(ModelConfig(latent_dim=3, hidden=(24, 24, 16)))
    skip = build_model(ModelConfig(latent_dim=3, hidden=(24, 24, 16), residual=True))
    # the same parameters under the same names: a checkpoint written before skip connections loads
    assert [(k, v.shape) for k, v in plain.state_dict().items()] == [(k, v.shape) for k, v in skip.state_dict().items()]
    skip.load_state_dict(plain.state_dict())
    body = plain.encoder.body
    assert [s for _, _, s in skip.encoder.body._steps] == [False, True, False]  # 784->24, 24->24, 24->16
    assert [s for _, _, s in skip.decoder.net._steps] == [False, False, True, False]  # 3->16, 16->24, 24->24, 24->784
    x = torch.rand(5, 1, 28, 28)
    h1 = torch.relu(body[0](x.flatten(1)))
    h2 = torch.relu(body[2](h1))
    assert torch.allclose(plain.encoder.body(x.flatten(1)), torch.relu(body[4](h2)), atol=1e-6)
    assert torch.allclose(skip.encoder.body(x.flatten(1)), torch.relu(body[4](h1 + h2)), atol=1e-6)


def test_a_model_config_without_the_skip_setting_is_the_plain_network_it_was_saved_as():
    saved = ModelConfig(hidden=(64, 64)).to_dict()
    del saved["residual"]
    assert ModelConfig.from_dict(saved).residual is False
    with pytest.raises(ConfigError, match="residual"):
        ModelConfig(residual="yes")


@pytest.mark.parametrize("arch", ["conv", "resnet"])
def test_the_convolutional_models_fully_connected_layers_take_the_skip_setting_too(arch):
    torch.manual_seed(0)
    cfg = ModelConfig(arch=arch, latent_dim=3, hidden=(16, 16), channels=(4, 8))
    plain, skip = build_model(cfg), build_model(dataclasses.replace(cfg, residual=True))
    assert list(plain.state_dict()) == list(skip.state_dict())  # the same weights, so old files still open
    skip.load_state_dict(plain.state_dict())
    x = torch.rand(2, 1, 28, 28)
    assert [s for _, _, s in skip.encoder.fc._steps] == [False, True]
    assert not torch.allclose(plain.encode(x)[0], skip.encode(x)[0])
