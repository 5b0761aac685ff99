"""The model-quality pieces on tiny data: best weights, augmentation, LR schedule, IWAE,
the continuous Bernoulli, binarisation and the posterior sampler. No quality figures."""

import math

import numpy as np
import pytest
import torch

from vae_studio.core import ModelConfig, TrainConfig, Trainer, Validation, build_model, load_checkpoint, make_bundle, save_checkpoint
from vae_studio.core.augment import augment
from vae_studio.core.checkpoint import select_weights
from vae_studio.core.config import ConfigError, resolved_augment
from vae_studio.core.data import binarized
from vae_studio.core.evaluate import elbo, evaluate, iwae_nll
from vae_studio.core.fused_adam import FusedAdamStep
from vae_studio.core.losses import cb_log_norm, cb_mean, iwae_terms, recon_nll
from vae_studio.core.sampler import GaussianMixture, PosteriorSampler, fit_posterior_sampler, sample_codes
from vae_studio.core.trainer import lr_factor

TINY = ModelConfig(latent_dim=3, hidden=(32,))


@pytest.fixture(scope="module")
def small(digits):
    """The digits cut to a few hundred images, so a run takes a second or two."""
    from vae_studio.core import Dataset

    # every 15th image: the digits are stored class by class, and every class should be there
    return Dataset("digits", digits.train.subset(slice(0, 4500, 15)), digits.test.subset(slice(0, 500, 5)), digits.class_names)


# -- best weights --------------------------------------------------------------------------------
def test_the_trainer_remembers_its_best_epoch_and_weights(small):
    trainer = Trainer(TINY, TrainConfig(epochs=3, device="cpu", snapshot_interval=1e9), small)
    seen = {}
    for msg in trainer.run():
        if isinstance(msg, Validation):
            seen[msg.epoch] = (msg.neg_elbo, {k: v.clone() for k, v in trainer.model.state_dict().items()}, msg)
            # the epoch just validated is the best so far exactly when its figure is the lowest
            lowest = min(seen, key=lambda e: seen[e][0])
            assert msg.best_epoch == lowest and msg.best_neg_elbo == seen[lowest][0]
            assert msg.likelihood == "bernoulli"
    best = trainer.best_epoch
    assert best == min(seen, key=lambda e: seen[e][0])
    state = trainer.best_state()
    assert all(torch.equal(state[k], seen[best][1][k]) for k in state)


def test_best_weights_travel_in_the_bundle_and_can_be_chosen(small, tmp_path):
    trainer = Trainer(TINY, TrainConfig(epochs=2, device="cpu", snapshot_interval=1e9), small)
    trainer.train()
    # pretend the first epoch was the best, so the two sets of weights differ
    first = {k: torch.zeros_like(v) for k, v in trainer.model.state_dict().items()}
    trainer._best = [first[k] for k in trainer.model.state_dict()]
    trainer.best_epoch, trainer.best_neg_elbo = 1, 1.0
    bundle = make_bundle(trainer)
    assert bundle["best_epoch"] == 1 and bundle["weights_epoch"] == 2 and "best_model_state" in bundle
    save_checkpoint(tmp_path / "both.pt", bundle)
    loaded = load_checkpoint(tmp_path / "both.pt")
    assert loaded["best_epoch"] == 1
    best = select_weights(loaded, "best")
    assert best["weights_epoch"] == 1 and "best_model_state" not in best
    assert all(torch.equal(v, first[k]) for k, v in best["_model"].state_dict().items())
    last = select_weights(loaded, "last")
    assert all(torch.equal(v, trainer.model.state_dict()[k]) for k, v in last["model_state"].items())
    # a continued run starts from the bundle's best-epoch bookkeeping
    again = Trainer(TINY, TrainConfig(epochs=3, device="cpu"), small, state=loaded)
    assert again.best_epoch == 1 and again.best_neg_elbo == 1.0
    assert all(torch.equal(v, first[k]) for k, v in again.best_state().items())


# -- augmentation --------------------------------------------------------------------------------
@pytest.mark.parametrize("level", ["light", "strong"])
def test_augmentation_keeps_shape_range_and_device(level):
    x = torch.rand(64, 1, 12, 16)
    y = augment(x, level)
    assert y.shape == x.shape and y.dtype == x.dtype and y.device == x.device
    assert 0.0 <= float(y.min()) and float(y.max()) <= 1.0
    moved = (y - x).flatten(1).abs().amax(1) > 1e-5
    assert 0 < int(moved.sum()) < 64  # some images move, the others are left as they are
    assert augment(x, "none") is x
    # three channels work the same way
    assert augment(torch.rand(4, 3, 8, 8), level).shape == (4, 3, 8, 8)


def test_augmentation_reads_nothing_back_from_the_device():
    # meta tensors have no data: any read of a value (a host sync) would fail here
    x = torch.empty(32, 1, 28, 28, device="meta")
    y = augment(x, "light")
    assert y.device.type == "meta" and y.shape == x.shape


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_augmentation_on_cuda_does_not_sync():
    x = torch.rand(64, 1, 28, 28, device="cuda")
    torch.cuda.set_sync_debug_mode("error")
    try:
        y = augment(x, "light")
    finally:
        torch.cuda.set_sync_debug_mode("default")
    assert y.is_cuda


def test_auto_augmentation_depends_on_the_set_size():
    assert resolved_augment("auto", 4500) == "light"
    assert resolved_augment("auto", 60000) == "none"
    assert resolved_augment("strong", 60000) == "strong"
    with pytest.raises(ConfigError, match="augment"):
        TrainConfig(augment="huge")


# -- schedule and weight decay -------------------------------------------------------------------
def test_lr_schedules():
    assert lr_factor("constant", 0.7) == 1.0
    assert lr_factor("cosine", 0.0, 0.1) < 0.01 and lr_factor("cosine", 0.1, 0.1) == pytest.approx(1.0)
    assert lr_factor("cosine", 1.0, 0.1) == pytest.approx(0.0, abs=1e-9)
    c = [lr_factor("cosine", p / 100, 0.05) for p in range(5, 101)]
    assert all(a >= b for a, b in zip(c, c[1:]))
    assert lr_factor("onecycle", 0.0) == pytest.approx(1 / 25) and lr_factor("onecycle", 0.3) == pytest.approx(1.0)
    assert lr_factor("onecycle", 1.0) < 1e-5


def test_the_trainer_follows_the_schedule(small):
    trainer = Trainer(TINY, TrainConfig(epochs=2, device="cpu", lr=2e-3, progress_interval=1e-4), small)
    lrs = [m.lr for m in trainer.run() if hasattr(m, "lr")]
    assert max(lrs) <= 2e-3 and lrs[-1] < 0.1 * max(lrs) and max(lrs) > 1.5e-3 and lrs[0] < 1e-4


def test_fused_adamw_matches_torch_adamw_bit_for_bit():
    torch.manual_seed(0)
    a = build_model(ModelConfig(latent_dim=4, hidden=(16,), image_shape=(1, 8, 8)))
    b = build_model(ModelConfig(latent_dim=4, hidden=(16,), image_shape=(1, 8, 8)))
    b.load_state_dict(a.state_dict())
    ref = torch.optim.AdamW(a.parameters(), lr=1e-2, weight_decay=0.05, fused=True)
    opt = torch.optim.AdamW(b.parameters(), lr=1e-2, weight_decay=0.05, fused=True)
    fast = FusedAdamStep(opt)
    x = torch.rand(16, 1, 8, 8)
    for i in range(6):
        for model, step in ((a, ref.step), (b, fast.step)):
            torch.manual_seed(i)
            logits, mu, logvar = model(x)
            loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, x) + mu.pow(2).mean()
            model.zero_grad(set_to_none=True)
            loss.backward()
            step()
    assert fast._lists is not None
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))


# -- continuous Bernoulli ------------------------------------------------------------------------
def test_continuous_bernoulli_normaliser_matches_a_numerical_integral():
    logits = torch.tensor([-30.0, -8.0, -2.0, -0.3, -0.05, -1e-4, 0.0, 1e-4, 0.05, 0.19, 0.21, 1.0, 6.0, 25.0], dtype=torch.float64)
    lam = torch.sigmoid(logits)
    x = torch.linspace(0, 1, 200_001, dtype=torch.float64)
    # integral over [0, 1] of lambda^x (1 - lambda)^(1 - x) = 1 / C(lambda)
    dens = torch.exp(x[None, :] * torch.log(lam[:, None]) + (1 - x[None, :]) * torch.log1p(-lam[:, None]))
    integral = torch.trapezoid(dens, x, dim=1)
    assert torch.allclose(cb_log_norm(logits), -torch.log(integral), rtol=1e-6, atol=1e-6)
    # in float32, finite values and gradients through lambda = 0.5
    t = torch.linspace(-0.5, 0.5, 101, requires_grad=True)
    cb_log_norm(t).sum().backward()
    assert torch.isfinite(t.grad).all()
    mean = (x[None, :] * dens).sum(1) / dens.sum(1)
    assert torch.allclose(cb_mean(logits), mean, atol=1e-4)


def test_continuous_bernoulli_is_a_density():
    # its NLL can be negative (a density, not a probability), and it trains like the others
    logits = torch.full((1, 1, 2, 2), 4.0)
    x = torch.ones(1, 1, 2, 2)
    assert recon_nll(logits, x, "continuous-bernoulli").item() < recon_nll(logits, x, "bernoulli").item()
    model = build_model(ModelConfig(latent_dim=2, hidden=(16,), likelihood="continuous-bernoulli"))
    img = model.decode_mean(torch.zeros(3, 2))
    assert img.shape == (3, 1, 28, 28) and 0 <= float(img.min()) and float(img.max()) <= 1


def test_training_with_the_continuous_bernoulli_reports_its_likelihood(small):
    cfg = ModelConfig(latent_dim=2, hidden=(32,), likelihood="continuous-bernoulli")
    v = [m for m in Trainer(cfg, TrainConfig(epochs=1, device="cpu"), small).run() if isinstance(m, Validation)][-1]
    assert v.likelihood == "continuous-bernoulli" and math.isfinite(v.neg_elbo)


# -- binarisation --------------------------------------------------------------------------------
def test_dynamic_binarisation(small):
    b = binarized(small.test)
    assert set(torch.unique(b.images).tolist()) <= {0, 255}
    assert torch.equal(b.images, binarized(small.test).images)  # one fixed draw
    # grey pixels become ink about as often as their grey level says
    grey = small.test.images.float() / 255
    assert abs(float((b.images > 0).float().mean() - grey.mean())) < 0.01
    trainer = Trainer(TINY, TrainConfig(epochs=1, device="cpu", binarize=True), small)
    v = [m for m in trainer.run() if isinstance(m, Validation)][-1]
    assert v.likelihood == "bernoulli-binarized"
    r = evaluate(trainer.model, small.test, "cpu", binarize=True)
    assert r.likelihood == "bernoulli-binarized" and r.to_dict()["likelihood"] == "bernoulli-binarized"


# -- IWAE ------------------------------------------------------------------------------------------
def test_iwae_objective_is_finite_and_bounds_the_elbo(trained, digits):
    model = trained.model.eval()
    x = torch.rand(16, 1, 28, 28)
    terms, neg_iwae = iwae_terms(model, x, None, 8)
    assert torch.isfinite(terms.total) and torch.isfinite(neg_iwae)
    terms.total.backward()
    assert all(p.grad is None or torch.isfinite(p.grad).all() for p in model.parameters())
    model.zero_grad(set_to_none=True)
    # -log p(x) <= -IWAE_k <= -ELBO: more samples give a tighter (lower) bound
    split = digits.test.subset(slice(0, 200))
    g = torch.Generator().manual_seed(0)
    recon, kl, _, _ = elbo(model, split, "cpu", generator=g)
    k1 = iwae_nll(model, split, 1, generator=torch.Generator().manual_seed(1))
    k20 = iwae_nll(model, split, 20, generator=torch.Generator().manual_seed(1))
    assert k20 < k1 and k20 < recon + kl
    assert abs(k1 - (recon + kl)) < 3.0  # k = 1 is the ELBO itself, up to sampling noise


def test_training_with_the_iwae_objective_reports_both_bounds(small):
    trainer = Trainer(TINY, TrainConfig(epochs=1, device="cpu", objective="iwae", iwae_k=4), small)
    v = [m for m in trainer.run() if isinstance(m, Validation)][-1]
    assert v.neg_iwae is not None and math.isfinite(v.neg_iwae) and v.neg_iwae <= v.neg_elbo + 1.0
    assert trainer.history.array("val_neg_iwae").tolist() == [v.neg_iwae]
    with pytest.raises(ConfigError, match="IWAE"):
        TrainConfig(objective="iwae", free_bits=0.5)


# -- the posterior sampler -----------------------------------------------------------------------
def test_mixture_fits_separated_clusters():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(-3, 0.5, (300, 2)), rng.normal(3, 1.0, (300, 2))])
    gm = GaussianMixture.fit(x, 2)
    order = np.argsort(gm.means[:, 0])
    assert np.allclose(gm.means[order], [[-3, -3], [3, 3]], atol=0.2)
    assert np.allclose(gm.weights, 0.5, atol=0.02)
    assert np.allclose(np.sort([gm.covs[i, 0, 0] for i in order]), [0.25, 1.0], rtol=0.25)
    s = PosteriorSampler.fit(x, components=2)
    xs, ys, dens = s.density_grid((-8, 8), (-8, 8), 81)
    assert dens.shape == (81, 81) and xs.shape == ys.shape == (81,)
    assert dens.sum() * (16 / 80) ** 2 == pytest.approx(1.0, abs=0.01)
    z = s.sample(500, temperature=0.5, seed=1)
    assert z.shape == (500, 2) and z.dtype == np.float32
    assert np.abs(z[z[:, 0] < 0] + 3).std() < 0.5  # a cooler draw stays closer to the centres


def test_density_grid_of_a_projection_is_the_marginal():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(400, 5)) * np.array([1.0, 2.0, 0.5, 1.0, 1.0])
    s = PosteriorSampler.fit(x, components=1)
    w = np.zeros((2, 5))
    w[0, 1] = w[1, 2] = 1.0
    xs, ys, dens = s.density_grid((-6, 6), (-3, 3), 61, matrix=w, center=np.zeros(5))
    assert dens.sum() * (12 / 60) * (6 / 60) == pytest.approx(1.0, abs=0.02)
    iy, ix = np.unravel_index(np.argmax(dens), dens.shape)
    assert abs(xs[ix]) < 0.5 and abs(ys[iy]) < 0.3


def test_per_class_sampler_for_a_conditional_model(small):
    model = build_model(ModelConfig(variant="conditional", latent_dim=3, hidden=(32,)))
    s = fit_posterior_sampler(model, small.train, "cpu")
    assert s.per_class and sorted(s.mixtures) == list(range(10))
    z = s.sample(7, label=4)
    assert z.shape == (7, 3)
    assert s.mixture(None).weights.sum() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="class 12"):
        s.sample(2, label=12)
    again = PosteriorSampler.from_dict(s.to_dict())
    assert np.array_equal(again.sample(5, label=2, seed=3), s.sample(5, label=2, seed=3))


def test_sample_codes_prior_and_posterior():
    z = sample_codes("prior", 1000, 4, temperature=0.5)
    assert z.shape == (1000, 4) and abs(z.std() - 0.5) < 0.05
    with pytest.raises(ValueError, match="fitted"):
        sample_codes("posterior", 3, 4)
    with pytest.raises(ValueError, match="temperature"):
        sample_codes("prior", 3, 4, temperature=0)


# -- settings ------------------------------------------------------------------------------------
def test_new_settings_validate_and_round_trip():
    cfg = TrainConfig(augment="strong", lr_schedule="onecycle", weight_decay=1e-4, objective="iwae", iwae_k=7, binarize=True)
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg
    m = ModelConfig(arch="resnet", likelihood="continuous-bernoulli", channels=(8, 16))
    assert ModelConfig.from_dict(m.to_dict()) == m
    for bad in (dict(lr_schedule="step"), dict(weight_decay=-1.0), dict(iwae_k=0), dict(objective="vi"), dict(binarize="yes"), dict(lr_warmup=1.0)):
        with pytest.raises(ConfigError):
            TrainConfig(**bad)
    with pytest.raises(ConfigError, match="divisible by 4"):
        ModelConfig(arch="resnet", image_shape=(1, 10, 10))


def test_old_checkpoints_without_the_new_settings_still_load(trained, tmp_path):
    bundle = make_bundle(trained)
    for key in ("augment", "lr_schedule", "lr_warmup", "weight_decay", "objective", "iwae_k", "binarize"):
        del bundle["train_config"][key]
    del bundle["model_config"]["channels"]
    for key in ("best_epoch", "best_neg_elbo", "weights_epoch", "best_model_state"):
        bundle.pop(key, None)
    torch.save(bundle, tmp_path / "old.pt")
    loaded = load_checkpoint(tmp_path / "old.pt")
    assert loaded["train_config"].augment == TrainConfig().augment and loaded["train_config"].objective == "elbo"
    assert select_weights(loaded, "best")["model_state"] is loaded["model_state"]


@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 12, 16), (1, 8, 4)])
def test_resnet_takes_any_image_shape(shape):
    for variant in ("vanilla", "conditional"):
        model = build_model(ModelConfig(variant=variant, arch="resnet", latent_dim=5, hidden=(16,), channels=(4, 8), image_shape=shape))
        x = torch.rand(2, *shape)
        y = torch.tensor([1, 2]) if variant == "conditional" else None
        logits, mu, _ = model(x, y)
        assert logits.shape == x.shape and mu.shape == (2, 5)
