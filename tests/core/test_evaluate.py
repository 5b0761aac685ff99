import torch

from vae_studio.core import evaluate
from vae_studio.core.evaluate import active_units, iwae_nll


def test_iwae_is_below_neg_elbo_and_tightens_with_k(trained):
    test = trained.dataset.test
    r = evaluate(trained.model, test, iwae_samples=1, seed=0)
    nll = {k: iwae_nll(trained.model, test, k, generator=torch.Generator().manual_seed(5)) for k in (1, 10, 100)}
    # k = 1 is an unbiased estimate of -ELBO itself
    assert abs(nll[1] - r.neg_elbo) < 1.5, (nll[1], r.neg_elbo)
    assert nll[100] < nll[10] < nll[1]
    assert nll[100] <= r.neg_elbo
    assert r.n_images == len(test)


def test_active_units_and_kl_per_dim(trained):
    r = evaluate(trained.model, trained.dataset.test)
    assert len(r.kl_per_dim) == 8 and abs(sum(r.kl_per_dim) - r.kl) < 1e-3
    assert 1 <= r.active_units <= 8
    mu = torch.zeros(100, 3)
    mu[:, 0] = torch.linspace(-1, 1, 100)
    mu[:, 1] = torch.linspace(-0.05, 0.05, 100)
    n, var = active_units(mu)
    assert n == 1 and var[0] > 0.01 > var[1]


def test_collapse_warning_names_the_remedies(trained):
    from vae_studio.core.evaluate import collapse_warning

    r = evaluate(trained.model, trained.dataset.test)
    assert collapse_warning(r.kl_per_dim, r.active_units) is None
    msg = collapse_warning([0.001] * 8, 0)
    assert "collapse" in msg and "warm-up" in msg and "free bits" in msg and "lower beta" in msg
    assert collapse_warning([2.0, 0.0], 0) is not None
