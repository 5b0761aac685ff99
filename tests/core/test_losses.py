import math

import pytest
import torch

from vae_studio.core.losses import elbo_terms, kl_per_dim, kl_schedule_weight, recon_nll


def test_analytic_kl_matches_monte_carlo():
    g = torch.Generator().manual_seed(0)
    mu = torch.randn(4, 3, generator=g)
    logvar = torch.randn(4, 3, generator=g) * 0.5
    analytic = kl_per_dim(mu, logvar)
    n = 400_000
    std = torch.exp(0.5 * logvar)
    z = mu + std * torch.randn(n, 4, 3, generator=g)
    log_q = -0.5 * (((z - mu) / std) ** 2 + logvar + math.log(2 * math.pi))
    log_p = -0.5 * (z**2 + math.log(2 * math.pi))
    mc = (log_q - log_p).mean(0)
    assert torch.allclose(mc, analytic, atol=0.02), (mc, analytic)


def test_kl_is_zero_at_the_prior_and_positive_elsewhere():
    assert kl_per_dim(torch.zeros(2, 5), torch.zeros(2, 5)).abs().max() == 0
    assert (kl_per_dim(torch.full((2, 5), 0.3), torch.full((2, 5), -0.2)) > 0).all()


def test_terms_are_nats_per_image_and_sum_to_neg_elbo():
    x = torch.rand(8, 1, 4, 4)
    logits = torch.randn(8, 1, 4, 4)
    mu, logvar = torch.randn(8, 3), torch.randn(8, 3)
    t = elbo_terms(logits, x, mu, logvar)
    bce = torch.nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="sum") / 8
    assert torch.isclose(t.recon, bce)
    assert torch.isclose(t.kl, kl_per_dim(mu, logvar).sum() / 8)
    assert torch.isclose(t.total, t.recon + t.kl)
    assert t.kl_per_dim.shape == (3,)
    assert t.recon > 0 and t.kl > 0


def test_beta_warmup_free_bits_and_capacity_shape_the_objective_not_the_reported_terms():
    x = torch.rand(8, 1, 4, 4)
    logits = torch.randn(8, 1, 4, 4)
    mu, logvar = torch.randn(8, 3) * 0.01, torch.zeros(8, 3)
    plain = elbo_terms(logits, x, mu, logvar)
    beta = elbo_terms(logits, x, mu, logvar, beta=4.0, kl_weight=0.5)
    assert torch.isclose(beta.total, plain.recon + 2.0 * plain.kl)
    fb = elbo_terms(logits, x, mu, logvar, free_bits=0.5)
    # every dimension is below the floor, so the objective sees 3 * 0.5 nats of KL
    assert torch.isclose(fb.total, plain.recon + torch.tensor(1.5))
    assert torch.isclose(fb.kl, plain.kl)
    cap = elbo_terms(logits, x, mu, logvar, beta=2.0, capacity=5.0)
    assert torch.isclose(cap.total, plain.recon + 2.0 * (plain.kl - 5.0).abs())


def test_free_bits_stop_the_gradient_below_the_floor():
    mu = torch.full((4, 2), 0.01, requires_grad=True)
    t = elbo_terms(torch.zeros(4, 1, 2, 2), torch.rand(4, 1, 2, 2), mu, torch.zeros(4, 2), free_bits=1.0)
    t.total.backward()
    assert mu.grad.abs().max() == 0


def test_gaussian_likelihood_is_a_proper_density():
    x = torch.full((1, 1, 1, 1), 0.5)
    logits = torch.zeros(1, 1, 1, 1)  # mean 0.5
    nll = recon_nll(logits, x, "gaussian", torch.tensor(0.0))
    assert torch.isclose(nll, torch.tensor([0.5 * math.log(2 * math.pi)]))


@pytest.mark.parametrize(
    "schedule,epoch,period,expected",
    [("constant", 0.0, 0, 1.0), ("linear", 0.0, 4, 0.0), ("linear", 1.0, 4, 0.25), ("linear", 9.0, 4, 1.0),
     ("cyclical", 1.0, 4, 0.5), ("cyclical", 3.0, 4, 1.0), ("cyclical", 4.0, 4, 0.0)],
)
def test_kl_schedules(schedule, epoch, period, expected):
    assert kl_schedule_weight(schedule, epoch, period) == pytest.approx(expected)
