"""The model-quality parts of the window: best epoch, the likelihood named, samplers and density."""

import numpy as np

from window_helpers import train_to_end  # noqa: E402 - tests/gui is on the path

WAIT_MS = 60_000


def test_best_epoch_is_marked_and_the_likelihood_named(qtbot, make_window, fast):
    w = make_window(fast.replace(epochs=3, likelihood="continuous-bernoulli"))
    train_to_end(qtbot, w)
    h = w.session.current.history
    val = h.array("val_neg_elbo")
    best = int(np.argmin(val))
    x, y = w.loss_plot.best.getData()
    assert list(x) == [h.array("val_step")[best]] and list(y) == [val[best]]
    assert w.loss_plot.best_epoch == int(h.array("val_epoch")[best])
    text = w.loss_plot.readout.text()
    assert f"best: epoch {w.loss_plot.best_epoch}" in text and "continuous bernoulli likelihood" in text


def test_samples_from_the_fitted_posterior_or_the_prior_and_the_density_on_the_map(qtbot, make_window, fast):
    w = make_window(fast.replace(epochs=2))
    train_to_end(qtbot, w)
    g = w.explorer.generation
    w.explorer.tabs.setCurrentWidget(g)
    page = g.prior
    g.show_page(page)
    qtbot.waitUntil(lambda: page.images is not None, timeout=WAIT_MS)
    assert w.explorer.state.sampler == "posterior"  # the default: its draws land where the codes are
    posterior = page.images.copy()
    page.sampler.setCurrentIndex(page.sampler.findData("prior"))
    qtbot.waitUntil(lambda: page.images is not None and not np.array_equal(page.images, posterior), timeout=WAIT_MS)
    assert "prior" in page.status.text()
    prior = page.images.copy()
    page.temperature.setValue(50)
    qtbot.waitUntil(lambda: not np.array_equal(page.images, prior), timeout=WAIT_MS)
    assert "0.50" in page.status.text()
    page.density.setChecked(True)
    m = w.explorer.map
    qtbot.waitUntil(lambda: len(m._density) == 3, timeout=WAIT_MS)
    w.reset()
    assert not m._density  # a new model: no old contours


def test_a_learned_prior_is_drawn_as_its_components_and_sampled(qtbot, make_window, fast):
    w = make_window(fast.replace(epochs=2, prior="mixture", prior_components=30))
    train_to_end(qtbot, w)
    m = w.explorer.map
    model = w.explorer.state.model
    assert model.prior.kind == "mixture"
    qtbot.waitUntil(lambda: m.contours[0].getData()[0] is not None and len(m.contours[0].getData()[0]) > 0,
                    timeout=WAIT_MS)
    x, y = m.contours[0].getData()
    # one outline per heavy component, NaN between them, and no N(0, I) circles left over
    outlines = np.count_nonzero(np.isnan(x))
    assert outlines == 20
    assert all(len(c.getData()[0]) == 0 for c in m.contours[1:])
    assert not any(label.isVisible() for label in m.contour_labels)
    # each outline is closed (its last point is its first), so the mean of the others is its centre
    cuts = np.where(np.isnan(x))[0]
    centres = np.array([[x[a:b - 1].mean(), y[a:b - 1].mean()] for a, b in zip(np.r_[0, cuts[:-1] + 1], cuts)])
    heaviest = model.prior.mixture()
    top = np.argsort(-heaviest.weights)[:20]
    view = w.explorer.state.projection
    assert np.allclose(centres, view.to_view(heaviest.means[top]), atol=1e-3)
    # "Prior" samples come from the learned mixture, and say so
    g = w.explorer.generation
    w.explorer.tabs.setCurrentWidget(g)
    page = g.prior
    g.show_page(page)
    page.sampler.setCurrentIndex(page.sampler.findData("prior"))
    qtbot.waitUntil(lambda: page.images is not None and "learned mixture prior" in page.status.text(), timeout=WAIT_MS)
