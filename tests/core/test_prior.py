import math

import numpy as np
import pytest
import torch

from vae_studio.cli import main
from vae_studio.core import ModelConfig, TrainConfig, Trainer, build_model, evaluate, load_checkpoint
from vae_studio.core.errors import ConfigError
from vae_studio.core.evaluate import iwae_nll
from vae_studio.core.losses import elbo_terms, kl_per_dim
from vae_studio.core.prior import MixturePrior, StandardNormalPrior
from vae_studio.core.sampler import sample_codes
from vae_studio.core.cli_settings import from_cli
from vae_studio.core.settings import RunSettings


def _random_mixture(k=7, d=3, seed=0) -> MixturePrior:
    torch.manual_seed(seed)
    p = MixturePrior(d, k)
    with torch.no_grad():
        p.means.mul_(2.0)
        p.log_var.uniform_(-1.5, 1.0)
        p.logits.normal_()
    return p


def _brute_log_prob(p: MixturePrior, z: torch.Tensor) -> torch.Tensor:
    m, lv, log_pi = p.means.double(), p.log_var.double(), torch.log_softmax(p.logits.double(), 0)
    per = -0.5 * (math.log(2 * math.pi) + lv + (z.double()[:, None] - m) ** 2 / lv.exp()).sum(2)
    return torch.logsumexp(per + log_pi, 1)


def test_the_mixture_density_is_the_mixture_it_reports_and_stays_float32_under_bf16():
    p = _random_mixture()
    z = 3 * torch.randn(50, 3)
    exact = _brute_log_prob(p, z).detach()
    assert torch.allclose(p.log_prob(z).double(), exact, atol=1e-4)
    assert np.allclose(p.mixture().log_prob(z.numpy()), exact.numpy(), atol=1e-6)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        under_bf16 = p.log_prob(z)
    assert under_bf16.dtype == torch.float32 and torch.allclose(under_bf16.double(), exact, atol=1e-4)
    # a batch of draws (S, B, D) gives (S, B)
    assert p.log_prob(torch.randn(4, 5, 3)).shape == (4, 5)


def test_the_one_sample_kl_is_unbiased_and_the_standard_prior_stays_exact():
    # a mixture whose every component is N(0, I) is the standard prior, whose KL has a closed form
    p = MixturePrior(4, 5)
    with torch.no_grad():
        p.means.zero_()
    g = torch.Generator().manual_seed(1)
    mu, logvar = torch.randn(6, 4, generator=g), 0.5 * torch.randn(6, 4, generator=g)
    exact = kl_per_dim(mu, logvar).sum(1)
    z = mu + torch.randn(4000, 6, 4, generator=g) * torch.exp(0.5 * logvar)
    estimates = torch.stack([p.kl(mu, logvar, zi) for zi in z])  # one draw each, (S, B)
    stderr = estimates.std(0) / math.sqrt(len(estimates))
    assert torch.all((estimates.mean(0) - exact).abs() < 4 * stderr + 1e-3)
    assert torch.allclose(p.kl(mu, logvar, z), estimates.mean(0), atol=1e-4)  # all draws at once: their mean
    # per dimension: the KL to each marginal, which here adds up to the whole
    per_dim = torch.stack([p.kl_per_dim(mu, logvar, zi) for zi in z]).mean(0)
    assert torch.allclose(per_dim, kl_per_dim(mu, logvar), atol=0.15)
    std = StandardNormalPrior(4)
    assert torch.equal(std.kl(mu, logvar), exact)  # no z needed, no noise


def test_the_standard_prior_adds_no_weights_and_the_mixture_is_learned_with_the_model(digits):
    assert not any(k.startswith("prior.") for k in build_model(ModelConfig()).state_dict())
    cfg = ModelConfig(latent_dim=4, hidden=(64,), prior="mixture", prior_components=10)
    trainer = Trainer(cfg, TrainConfig(epochs=1, device="cpu", seed=0), digits)
    before = {k: v.clone() for k, v in trainer.model.state_dict().items() if k.startswith("prior.")}
    assert set(before) == {"prior.means", "prior.log_var", "prior.logits"}
    messages = list(trainer.run())
    val = [m for m in messages if type(m).__name__ == "Validation"][-1]
    assert math.isfinite(val.neg_elbo) and val.kl > 0 and len(val.kl_per_dim) == 4
    after = trainer.model.state_dict()
    assert all(not torch.equal(before[k], after[k]) for k in before)


def test_free_bits_need_the_standard_prior():
    with pytest.raises(ConfigError, match="free bits"):
        RunSettings(prior="mixture", free_bits=0.5).train_config()
    p = _random_mixture()
    with pytest.raises(ValueError, match="free bits"):
        elbo_terms(torch.zeros(2, 1, 2, 2), torch.rand(2, 1, 2, 2), torch.zeros(2, 3), torch.zeros(2, 3),
                   free_bits=0.5, prior=p, z=torch.zeros(2, 3))


def test_the_command_line_and_a_checkpoint_carry_the_prior(tmp_path, digits, capsys):
    s = from_cli({"prior": "mixture", "prior_components": 12, "latent_dim": 3})
    assert (s.model_config().prior, s.model_config().prior_components) == ("mixture", 12)
    out = tmp_path / "run.pt"
    rc = main(["train", "--prior", "mixture", "--prior-components", "12", "--latent-dim", "3", "--hidden", "32",
               "--epochs", "1", "--out", str(out)])
    assert rc == 0
    bundle = load_checkpoint(out)
    model = bundle["_model"]
    assert model.cfg.prior == "mixture" and model.prior.means.shape == (12, 3)
    # what the model evaluates to uses the learned prior: its IWAE bound and ELBO agree in scale
    res = evaluate(model, digits.test.subset(torch.arange(200)), iwae_samples=20)
    assert math.isfinite(res.neg_elbo) and res.nll_iwae <= res.neg_elbo + 1.0
    capsys.readouterr()
    assert main(["evaluate", str(out)]) == 0
    text = capsys.readouterr().out
    assert "mixture of 12" in text and "need not add up to the KL" in text


def test_prior_samples_come_from_the_learned_mixture():
    p = _random_mixture(k=3, d=2)
    with torch.no_grad():
        p.means.copy_(torch.tensor([[10.0, 0.0], [0.0, 10.0], [-10.0, -10.0]]))
        p.log_var.fill_(-4.0)
    z = sample_codes("prior", 3000, 2, prior=p, seed=0)
    nearest = np.argmin(((z[:, None] - p.means.detach().numpy()) ** 2).sum(2), 1)
    weights = torch.softmax(p.logits, 0).detach().numpy()
    assert np.abs(np.bincount(nearest, minlength=3) / 3000 - weights).max() < 0.05
    assert np.abs(z - p.means.detach().numpy()[nearest]).max() < 1.0  # within the components' tiny spread
    assert sample_codes("prior", 0, 2, prior=p).shape == (0, 2)  # none asked, none drawn
    # the standard prior draws what it always drew
    assert np.array_equal(sample_codes("prior", 5, 2, prior=StandardNormalPrior(2), seed=3), sample_codes("prior", 5, 2, seed=3))


def test_iwae_under_a_mixture_prior_is_at_least_as_tight_as_the_elbo(digits):
    cfg = ModelConfig(latent_dim=4, hidden=(64,), prior="mixture", prior_components=8)
    trainer = Trainer(cfg, TrainConfig(epochs=1, device="cpu", seed=0, objective="iwae", iwae_k=3), digits)
    trainer.train()
    split = digits.test.subset(torch.arange(300))
    ev = evaluate(trainer.model, split, iwae_samples=1)
    k50 = iwae_nll(trainer.model, split, 50, generator=torch.Generator().manual_seed(0))
    assert k50 < ev.neg_elbo


def test_the_prior_is_learned_unless_the_beta_variant_or_free_bits_need_n01():
    assert RunSettings().prior == from_cli({}).prior == "mixture"
    assert from_cli({"variant": "beta"}).prior == from_cli({"variant": "conditional"}).prior == "standard"
    assert from_cli({"free_bits": 0.2}).prior == "standard"
    assert from_cli({"variant": "beta", "prior": "mixture"}).prior == "mixture"  # asked for, so given
    with pytest.raises(ConfigError, match="free bits need the N\\(0, I\\) prior"):
        from_cli({"free_bits": 0.2, "prior": "mixture"})


def test_the_map_outlines_the_prior_it_has():
    from vae_studio.core.projection import Projection

    view = Projection(2)
    assert len(view.prior_outlines(None)) == len(view.prior_outlines(StandardNormalPrior(2))) == 3
    p = _random_mixture(k=40, d=2)
    (curve,) = view.prior_outlines(p)
    assert np.count_nonzero(np.isnan(curve[:, 0])) == 20  # the 20 heaviest of 40, one outline each
    # a component's 1σ ellipse passes through its mean plus one standard deviation along an axis
    top = int(torch.argmax(p.logits))
    m, sd = p.means[top].detach().numpy(), np.exp(0.5 * p.log_var[top].detach().numpy())
    first = curve[: np.argmax(np.isnan(curve[:, 0]))]
    assert np.allclose(np.abs(first - m).max(0), sd, rtol=1e-2)


def test_the_run_list_names_a_prior_that_is_not_the_variants_own():
    assert "prior" not in RunSettings().describe()
    assert "N(0, I) prior" in RunSettings(prior="standard").describe()
    assert "prior" not in RunSettings(variant="beta", prior="standard").describe()
    assert "learned prior" in RunSettings(variant="conditional", prior="mixture").describe()
