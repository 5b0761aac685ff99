"""Corruptions, PSNR, the median filter, and the VAE's restorations (denoising, inpainting)."""

import numpy as np
import pytest

from vae_studio.core.corruption import (
    PSNR_CAP_DB, box_mask, corrupt, erase, gaussian, median3x3, occlusion, psnr, salt_and_pepper,
)
from vae_studio.core.data import to_float
from vae_studio.core.denoise import denoise, inpaint, psnr_curve, reconstruct, restore


@pytest.fixture
def clean():
    rng = np.random.default_rng(0)
    return rng.random((6, 1, 12, 10)).astype(np.float32)


@pytest.mark.parametrize("kind,level", [("gaussian", 0.3), ("saltpepper", 0.2), ("occlusion", 0.5)])
def test_corruptions_keep_shape_and_range_and_are_seeded(clean, kind, level):
    a = corrupt(clean, kind, level, seed=1)
    assert a.images.shape == clean.shape and a.known.shape == clean.shape
    assert a.images.dtype == np.float32 and a.known.dtype == bool
    assert 0 <= a.images.min() and a.images.max() <= 1
    assert not np.array_equal(a.images, clean)
    assert np.array_equal(corrupt(clean, kind, level, seed=1).images, a.images)
    assert not np.array_equal(corrupt(clean, kind, level, seed=2).images, a.images)


def test_noise_has_no_place_so_nothing_is_known(clean):
    assert not gaussian(clean, 0.2, 0).locatable
    sp = salt_and_pepper(clean, 1.0, 0)
    assert not sp.locatable and set(np.unique(sp.images)) <= {0.0, 1.0}
    assert np.array_equal(salt_and_pepper(clean, 0.0, 0).images, clean)


def test_occlusion_blanks_one_box_and_knows_the_rest(clean):
    occ = occlusion(clean, 0.5, seed=3)
    side = 5  # half of the shorter side, 10
    for img, known, orig in zip(occ.images, occ.known, clean):
        hidden = ~known[0]
        assert hidden.sum() == side * side
        rows, cols = np.nonzero(hidden)
        assert rows.max() - rows.min() == side - 1 and cols.max() - cols.min() == side - 1
        assert (img[0][hidden] == 0).all() and np.array_equal(img[0][~hidden], orig[0][~hidden])


def test_box_mask_spans_channels_and_erase_takes_any_mask():
    m = box_mask((2, 3, 8, 8), 0.25, seed=0)
    assert m.shape == (2, 3, 8, 8) and (m.sum((2, 3)) == 4).all()
    assert (m[:, 0] == m[:, 2]).all()
    x = np.full((1, 4, 4), 0.7, np.float32)
    stroke = np.zeros((1, 4, 4), bool)
    stroke[0, 1, :] = True
    e = erase(x, stroke)
    assert (e.images[0, 1] == 0).all() and (e.images[0, 0] == np.float32(0.7)).all()
    assert np.array_equal(e.known, ~stroke)


def test_levels_out_of_range_are_refused(clean):
    for kind, level in [("gaussian", -0.1), ("saltpepper", 1.5), ("occlusion", 2.0)]:
        with pytest.raises(ValueError):
            corrupt(clean, kind, level)
    with pytest.raises(ValueError):
        corrupt(clean, "blur", 0.1)


def test_psnr_by_hand():
    a = np.zeros((2, 2, 2), np.float32)
    b = a.copy()
    b[0, 0, 0] = 1.0  # one pixel of four wrong by 1: MSE 1/4 -> 10 log10(4) dB
    b[1] = 0.1  # every pixel off by 0.1: MSE 0.01 -> 20 dB
    np.testing.assert_allclose(psnr(a, b), [10 * np.log10(4), 20.0], rtol=1e-5)
    assert psnr(a, a)[0] == PSNR_CAP_DB


def test_median_removes_an_isolated_speck_and_keeps_flat_areas():
    x = np.zeros((1, 1, 5, 5), np.float32)
    x[0, 0, 2, 2] = 1.0
    assert (median3x3(x) == 0).all()
    flat = np.full((1, 5, 5), 0.4, np.float32)
    assert np.allclose(median3x3(flat), 0.4)


def test_inpainting_keeps_every_known_pixel_in_every_iterate(trained, digits):
    model = trained.model.cpu().eval()
    clean = to_float(digits.test.images[:8]).numpy()
    occ = occlusion(clean, 0.4, seed=0)
    steps = inpaint(model, occ.images, occ.known, iterations=4)
    assert steps.shape == (5, *clean.shape)
    assert np.array_equal(steps[0], occ.images)
    for s in steps:
        assert np.array_equal(s[occ.known], clean[occ.known])
    assert not np.array_equal(steps[-1][~occ.known], occ.images[~occ.known])  # the box was drawn in


@pytest.mark.parametrize("method", ["fit", "encoder"])
def test_restorations_measure_against_the_clean_images(trained, digits, method):
    model = trained.model.cpu().eval()
    clean = to_float(digits.test.images[:6]).numpy()
    r = denoise(model, clean, "gaussian", 0.4, seed=0, method=method)
    assert r.denoised.shape == clean.shape and r.steps is None and r.method == method
    assert 0 <= r.denoised.min() and r.denoised.max() <= 1
    s = r.summary()
    assert set(s) >= {"psnr_noisy", "psnr_denoised", "psnr_median", "n", "method"}
    np.testing.assert_allclose(s["psnr_denoised"], psnr(clean, r.denoised).mean())
    occ = restore(model, clean, occlusion(clean, 0.5, seed=1), "occlusion", 0.5, method=method)
    assert np.array_equal(occ.denoised[occ.corrupted.known], clean[occ.corrupted.known])
    assert (occ.steps is not None) == (method == "encoder")


def test_reconstruct_takes_images_without_a_channel_axis(trained, digits):
    model = trained.model.cpu().eval()
    flat = to_float(digits.test.images[:3]).numpy()[:, 0]
    assert reconstruct(model, flat).shape == flat.shape


def test_psnr_curve_has_one_point_per_level(trained, digits):
    model = trained.model.cpu().eval()
    curve = psnr_curve(model, to_float(digits.test.images[:4]).numpy(), "saltpepper", [0.1, 0.3], method="encoder")
    assert curve.levels.tolist() == [0.1, 0.3]
    assert curve.noisy.shape == curve.denoised.shape == curve.median.shape == (2,)
    assert curve.noisy[0] > curve.noisy[1]  # more noise, lower PSNR
