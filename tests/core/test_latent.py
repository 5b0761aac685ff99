"""The latent-space maths behind the explorer: views and their inverses, grids, encodes."""

import math

import numpy as np
import pytest
import torch

from vae_studio.core import ModelConfig, build_model
from vae_studio.core import decoding, drawing, generate, image_elbo, projection


@pytest.fixture(scope="module")
def snapshot(trained):
    return trained.snapshot()


@pytest.fixture(scope="module")
def model(snapshot):
    return snapshot.build_model()


def correlated(n=3000, d=6, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(d, d))
    return (rng.normal(size=(n, d)) * np.linspace(3, 0.2, d)) @ np.linalg.qr(a)[0] + rng.normal(size=d)


# -- projections -----------------------------------------------------------------------------
def test_dims_view_picks_two_dimensions_and_takes_the_rest_from_the_base():
    p = projection.Projection(5, mode="dims", dims=(3, 1))
    z = np.arange(10, dtype=np.float64).reshape(2, 5)
    assert np.allclose(p.to_view(z), z[:, [3, 1]])
    base = np.array([9.0, 9, 9, 9, 9])
    back = p.to_latent(np.array([0.5, -1.0]), base)
    assert np.allclose(back, [9, -1.0, 9, 0.5, 9])
    assert np.allclose(p.to_latent(np.array([0.5, -1.0])), [0, -1.0, 0, 0.5, 0])  # default base: 0
    assert p.axis_labels() == ("z4", "z2")
    with pytest.raises(ValueError):
        p.set_dims(2, 2)


def test_pca_view_is_orthonormal_invertible_and_explains_the_most_variance():
    mu = correlated()
    p = projection.Projection.pca(mu)
    w = p.matrix
    assert np.allclose(w @ w.T, np.eye(2), atol=1e-10)
    ref = np.linalg.svd(mu - mu.mean(0), full_matrices=False)
    assert np.allclose(np.abs(w @ ref[2][:2].T), np.eye(2), atol=1e-6)
    var = ref[1] ** 2
    assert np.allclose(p.explained_variance_ratio, var[:2] / var.sum())
    xy = np.random.default_rng(1).normal(size=(50, 2))
    assert np.allclose(p.to_view(p.to_latent(xy)), xy)  # view -> z -> view
    assert np.allclose(p.to_latent(xy)[0], p.center + xy[0] @ w)  # other components at their mean
    z = mu[:7]
    for zi in z:
        assert np.allclose(p.to_latent(p.to_view(zi), base_z=zi), zi)  # z -> view -> z with z as base


def test_pca_refits_keep_the_signs_of_the_axes():
    mu = correlated()
    p = projection.Projection.pca(mu)
    first = p.matrix.copy()
    p.fit(mu * 1.01 + 0.01)  # a slightly different snapshot
    assert np.all(np.sum(first * p.matrix, axis=1) > 0.99)


@pytest.mark.parametrize("mode", ["dims", "pca"])
def test_prior_contours_are_the_priors_k_sigma_circles_in_the_view(mode):
    mu = correlated(d=4)
    p = projection.Projection(4, mode=mode, dims=(2, 0)).fit(mu)
    curves = p.prior_contours((1.0, 2.0, 3.0))
    centre = p.to_view(np.zeros(4))
    for k, c in zip((1, 2, 3), curves):
        assert np.allclose(np.linalg.norm(c - centre, axis=1), k)
    # the mass of the projected prior inside each circle is that of a 2-D standard normal
    z = np.random.default_rng(0).normal(size=(40_000, 4))
    r = np.linalg.norm(p.to_view(z) - centre, axis=1)
    for k in (1, 2, 3):
        assert abs((r < k).mean() - (1 - math.exp(-k * k / 2))) < 0.01


@pytest.mark.parametrize("mode", ["dims", "pca"])
def test_posterior_ellipse_is_the_projected_k_sigma_contour(mode):
    p = projection.Projection(4, mode=mode, dims=(1, 3)).fit(correlated(d=4))
    mu = np.array([0.3, -1.0, 2.0, 0.5])
    logvar = np.log(np.array([0.04, 0.25, 1.0, 0.09]))
    e = p.ellipse(mu, logvar, k=2.0)
    cov = (p.matrix * np.exp(logvar)) @ p.matrix.T
    d = e - p.to_view(mu)
    m = np.einsum("ni,ij,nj->n", d, np.linalg.inv(cov), d)
    assert np.allclose(m, 4.0)
    if mode == "dims":
        assert np.isclose(d[:, 0].max(), 2 * 0.5) and np.isclose(d[:, 1].max(), 2 * 0.3)


def test_one_dimensional_latent_space_still_has_a_view():
    p = projection.Projection(1)
    assert p.to_view(np.array([[2.0]])).tolist() == [[2.0, 0.0]]
    assert p.to_latent(np.array([1.5, 7.0])).tolist() == [1.5]
    assert len(p.prior_contours()) == 3


# -- decoding and grids ----------------------------------------------------------------------
def test_decode_matches_the_model(model):
    z = np.random.default_rng(0).normal(size=(3, model.cfg.latent_dim))
    out = decoding.decode(model, z)
    ref = model.decode_mean(torch.tensor(z, dtype=torch.float32))[:, 0].numpy()
    assert out.shape == (3, 28, 28) and out.dtype == np.float32
    assert np.allclose(out, ref, atol=1e-6)
    assert decoding.decode(model, z[0]).shape == (1, 28, 28)


def test_grids_have_the_requested_sizes(model):
    d = model.cfg.latent_dim
    assert generate.prior_samples(model, 64, seed=1).shape == (64, 28, 28)
    assert np.allclose(generate.prior_samples(model, 4, seed=1), generate.prior_samples(model, 4, seed=1))
    p = projection.Projection(d, mode="dims", dims=(0, 1))
    assert generate.manifold_grid(model, p, (-2, 2), (-1, 1), n=12).shape == (144, 28, 28)
    assert generate.traversal_grid(model, np.zeros(d), steps=7).shape == (7 * d, 28, 28)
    assert generate.traversal_grid(model, np.zeros(d), dims=[2, 0], steps=5).shape == (10, 28, 28)
    assert generate.interpolation_strip(model, np.zeros(d), np.ones(d), steps=6, method="slerp").shape == (6, 28, 28)
    grid = generate.tile(np.zeros((64, 28, 28)), 8, padding=2)
    assert grid.shape == (8 * 30 + 2, 8 * 30 + 2)
    assert generate.tile(np.zeros((10, 28, 28)), 10).shape == (32, 302)


def test_manifold_codes_read_like_the_map():
    p = projection.Projection(3, mode="dims", dims=(0, 2))
    codes = generate.manifold_codes(p, (0, 4), (0, 2), n=4, base_z=np.array([0, 7.0, 0]))
    xy = p.to_view(codes).reshape(4, 4, 2)
    assert np.allclose(xy[0, :, 0], [0.5, 1.5, 2.5, 3.5])  # left to right
    assert np.allclose(xy[:, 0, 1], [1.75, 1.25, 0.75, 0.25])  # top row is the largest y
    assert np.all(codes[:, 1] == 7.0)  # off-plane dims from the base


def test_traversal_sweeps_one_dimension_at_a_time():
    z = np.array([0.5, -0.5, 1.0])
    codes = generate.traversal_codes(z, steps=7, span=3.0).reshape(3, 7, 3)
    for d in range(3):
        assert np.allclose(codes[d, :, d], np.linspace(-3, 3, 7))
        others = [i for i in range(3) if i != d]
        assert np.allclose(codes[d][:, others], z[others])


def test_linear_and_spherical_interpolation():
    a, b = np.array([2.0, 0, 0]), np.array([0, 0, 2.0])
    lin = generate.interpolate(a, b, 5, "linear")
    sl = generate.interpolate(a, b, 5, "slerp")
    for path in (lin, sl):
        assert np.allclose(path[0], a) and np.allclose(path[-1], b)
    assert np.allclose(np.linalg.norm(sl, axis=1), 2.0)  # stays on the sphere
    assert np.linalg.norm(lin[2]) < 2.0  # cuts the corner towards the origin
    assert np.allclose(generate.interpolate(a, 3 * a, 3, "slerp"), generate.interpolate(a, 3 * a, 3, "linear"))  # parallel
    with pytest.raises(ValueError):
        generate.interpolate(a, b, 5, "cubic")


# -- the CPU copy and single encodes ---------------------------------------------------------
def test_cpu_model_reloads_weights_in_place(snapshot):
    cpu = decoding.CpuModel()
    assert cpu.load(snapshot.model_config, snapshot.state) is True
    first = cpu.model
    state2 = {k: v * 0.5 if v.is_floating_point() else v for k, v in snapshot.state.items()}
    assert cpu.load(snapshot.model_config, state2) is False
    assert cpu.model is first
    z = np.zeros((1, snapshot.model_config.latent_dim))
    ref = build_model(snapshot.model_config)
    ref.load_state_dict(state2)
    assert np.allclose(decoding.decode(cpu.model, z), decoding.decode(ref.eval(), z), atol=1e-6)
    other = ModelConfig.from_dict({**snapshot.model_config.to_dict(), "latent_dim": 3})
    assert cpu.load(other, build_model(other).state_dict()) is True and cpu.model is not first


def test_encode_and_neg_elbo_of_one_image(model, digits):
    x = digits.test.images[0].numpy() / 255.0
    mu, logvar = decoding.encode(model, x)
    assert mu.shape == logvar.shape == (1, model.cfg.latent_dim)
    total, rec, kl = image_elbo.neg_elbo(model, x, samples=32)
    assert math.isclose(total, rec + kl) and rec > 0 and kl > 0
    each = image_elbo.neg_elbo_each(model, digits.test.images[:64].numpy() / 255.0)
    assert each.shape == (64,) and np.all(np.isfinite(each))
    noise = np.random.default_rng(0).random((28, 28))
    assert image_elbo.neg_elbo(model, noise)[0] > np.median(each)  # noise is far less typical than digits


def test_conditional_model_needs_a_label():
    m = build_model(ModelConfig(variant="conditional", latent_dim=2, hidden=(16,))).eval()
    with pytest.raises(ValueError, match="label"):
        decoding.decode(m, np.zeros(2))
    a, b = decoding.decode(m, np.zeros(2), label=1), decoding.decode(m, np.zeros(2), label=4)
    assert not np.allclose(a, b)


def test_center_like_mnist_scales_to_20_pixels_and_centres_the_mass():
    canvas = np.zeros((280, 280), dtype=np.float32)
    canvas[10:150, 20:60] = 1.0  # a tall bar in the top-left corner
    out = drawing.center_like_mnist(canvas)
    ys, xs = np.nonzero(out > 0.05)
    assert ys.max() - ys.min() + 1 <= 20 and ys.max() - ys.min() + 1 >= 19
    cy = (out.sum(1) * np.arange(28)).sum() / out.sum()
    cx = (out.sum(0) * np.arange(28)).sum() / out.sum()
    assert abs(cy - 13.5) <= 1.0 and abs(cx - 13.5) <= 1.0
    assert not drawing.center_like_mnist(np.zeros((280, 280))).any()


def test_the_explorer_scores_an_image_with_the_held_out_figures_own_elbo(model, digits):
    """A batch of one image scored by ``neg_elbo_each`` and by ``evaluate.elbo`` with the same
    seed draws the same z: there is one -ELBO, not two that could drift apart."""
    from vae_studio.core.evaluate import elbo

    split = digits.test.subset(slice(0, 5))
    each = image_elbo.neg_elbo_each(model, split.images.numpy() / 255.0, seed=3)
    recon, kl, _, _ = elbo(model, split, "cpu", generator=torch.Generator().manual_seed(3))
    assert each.mean() == pytest.approx(recon + kl, rel=1e-5)
