"""The variant panels, live diagnostics and the run list, driven through the real window."""

import dataclasses

import numpy as np
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QImage

from vae_studio.core.config import ModelConfig
from vae_studio.core.settings import BETA_VARIANT_LATENT
from vae_studio.core.trainer import Snapshot
from vae_studio.gui.run_record import SETTLED
from vae_studio.gui.widgets.smoothing import Smoother
from vae_studio.gui.session import RunState
from window_helpers import train_to_end as train_and_wait  # noqa: E402

WAIT_MS = 30_000


def click(qtbot, button):
    assert button.isEnabled() and button.isVisible(), f"{button.text()} is disabled or hidden"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def pick_variant(qtbot, window, variant):
    click(qtbot, window.controls.variant.buttons[variant])
    assert window.controls.settings().variant == variant


def train_to_end(qtbot, window):
    train_and_wait(qtbot, window)
    assert window.session.current.finish_reason == "completed"


def test_vanilla_panel_trains_with_a_cyclical_schedule_and_shows_kl_per_dim(qtbot, make_window, fast):
    w = make_window(fast.replace(latent_dim=4, epochs=2, kl_schedule="cyclical", warmup_epochs=1.0, free_bits=0.1,
                                 prior="standard"))  # free bits are per dimension of N(0, I)
    c = w.controls
    pick_variant(qtbot, w, "vanilla")
    # the vanilla panel is the shared model settings alone
    assert not c.variant_pages.isVisible()
    for widget in (c.latent_dim, c.arch, c.likelihood):
        assert widget.isVisible() and widget.isEnabled()
    assert c.form_label(c.warmup_epochs).text() == "Cycle length"
    train_to_end(qtbot, w)

    weights = w.session.current.history.array("kl_weight")
    assert w.loss_plot.weight_plot.isVisible()
    assert (np.diff(weights) < 0).any(), "a cyclical schedule ramps up more than once"
    d = w.diagnostics
    heights = d.bar_heights()
    assert len(heights) == 4 and (heights > 0).any()
    np.testing.assert_allclose(heights, d.kl_values())
    assert d.free_bits_line.isVisible() and d.free_bits_line.value() == 0.1
    assert "/ 4" in d.active_label.text() and d.diagnosis.active_units >= 1
    assert not d.warning.isVisible(), "a healthy model shows no collapse warning"
    assert [r.settings.variant for r in w.session.runs] == ["vanilla"]


def test_conditional_panel_decodes_with_the_chosen_class_and_sweeps_labels(qtbot, make_window, fast, tmp_path):
    w = make_window(fast.replace(epochs=2))
    c = w.controls
    pick_variant(qtbot, w, "conditional")
    assert c.variant_pages.isVisible() and c.class_combo.isVisible()
    train_to_end(qtbot, w)
    e = w.explorer
    assert e.model() is not None and e.model().conditional
    e.set_z(np.array([0.5, -0.3]))

    c.class_combo.setCurrentIndex(c.class_combo.findData(3))
    assert e.label() == 3 and e.label_combo.currentData() == 3
    as_three = e.decoded_image().copy()
    c.class_combo.setCurrentIndex(c.class_combo.findData(7))
    as_seven = e.decoded_image().copy()
    assert np.abs(as_three - as_seven).mean() > 0.01, "the label must change what z decodes to"
    e.label_combo.setCurrentIndex(e.label_combo.findData(5))  # the explorer's own choice shows in the panel
    assert c.class_combo.currentData() == 5

    click(qtbot, c.sweep_button)
    g = e.generation
    assert g.tabs.currentWidget() is g.label_sweep and g.label_sweep.isVisible()
    assert g.label_sweep.images.shape == (10, 28, 28)
    assert len({float(img.sum()) for img in g.label_sweep.images}) == 10  # ten different drawings
    click(qtbot, c.transfer_button)
    st = g.style_transfer
    assert g.tabs.currentWidget() is st
    rows = st.rows.value()
    assert st.images.shape == (rows * 11, 28, 28)  # the input digit, then all ten labels
    first_input = st.images[0]
    expected, _ = e.probe_examples([st.first.value() - 1])
    np.testing.assert_allclose(first_input, expected[0])
    for page in (g.label_sweep, g.style_transfer):
        out = tmp_path / f"{page.file_stem}.png"
        page.export_png(out)
        assert out.stat().st_size > 0

    # another variant starts a new run: the label controls follow it at once, not at the next Train
    pick_variant(qtbot, w, "beta")  # given the label, as the β panel starts
    assert e.label_combo.isVisible()
    pick_variant(qtbot, w, "vanilla")
    assert not e.label_combo.isVisible()
    assert not g.buttons[g.label_sweep].isVisible() and not g.buttons[g.style_transfer].isVisible()
    assert g.tabs.currentWidget() not in (g.label_sweep, g.style_transfer)


def test_beta_panel_changes_the_weight_the_trainer_applies_at_its_next_step(qtbot, make_window, fast):
    w = make_window(fast.replace(epochs=500))
    c = w.controls
    pick_variant(qtbot, w, "beta")
    assert c.beta.isVisible() and c.beta.value() == 4.0
    c.capacity_on.setChecked(True)
    c.capacity.setValue(5.0)
    assert c.settings().train_config().capacity == 5.0
    c.capacity_on.setChecked(False)
    click(qtbot, c.train_button)
    qtbot.waitUntil(lambda: w.session.state == RunState.TRAINING and len(w.session.current.history) > 0, timeout=WAIT_MS)
    trainer = w.session.job.trainer
    assert trainer.applied_beta_log[0][1] == 4.0
    asked_at = trainer.step
    c.beta.setValue(0.5)  # the spin box, as a person would
    qtbot.waitUntil(lambda: any(b == 0.5 for _, b in trainer.applied_beta_log), timeout=WAIT_MS)
    step, beta = trainer.applied_beta_log[-1]
    assert beta == 0.5 and step >= asked_at
    qtbot.waitUntil(lambda: w.session.current.progress.beta == 0.5, timeout=WAIT_MS)
    assert "β=0.5" in w.session.current.label  # the run list names the β it trains with now
    click(qtbot, c.traversal_button)
    assert w.explorer.generation.tabs.currentWidget() is w.explorer.generation.traversal
    with qtbot.waitSignal(w.session.state_changed, timeout=WAIT_MS, check_params_cb=lambda s: s in SETTLED):
        click(qtbot, c.stop_button)


def test_beta_one_trains_in_the_beta_panel_without_a_banner(qtbot, make_window, fast):
    w = make_window(fast.replace(variant="beta", beta=1.0, epochs=1))
    assert w.controls.beta.value() == 1.0
    with qtbot.waitSignal(w.session.state_changed, timeout=WAIT_MS, check_params_cb=lambda s: s in SETTLED):
        click(qtbot, w.controls.train_button)
    assert w.session.current.finish_reason == "completed" and w.banner.isHidden()
    assert w.session.current.settings.beta == 1.0 and "β=1" in w.session.current.label


def test_the_beta_panel_gives_the_label_and_the_explorer_decodes_as_a_chosen_class(qtbot, make_window, fast):
    w = make_window(fast.replace(epochs=1))
    c = w.controls
    pick_variant(qtbot, w, "beta")
    assert c.beta_label.isVisible() and c.beta_label.isChecked() and c.beta_label.text() == "Give the label"
    ex = w.explorer
    assert ex.label_combo.isVisible()  # before training: the model Train makes is given the label
    train_to_end(qtbot, w)
    qtbot.waitUntil(lambda: ex.state.model is not None, timeout=WAIT_MS)
    assert ex.state.model.conditional and ex.state.model.cfg.variant == "beta"
    assert ex.label_combo.isVisible()  # "Decode as": the class the map and sliders draw
    assert not c.beta_label.isEnabled()  # it shapes the model: fixed once the model exists
    # switched off, the next β run is the classic β-VAE, with no class to choose
    click(qtbot, c.reset_button)
    qtbot.waitUntil(lambda: c.beta_label.isEnabled(), timeout=WAIT_MS)
    c.beta_label.setChecked(False)
    assert not ex.label_combo.isVisible()
    train_to_end(qtbot, w)
    qtbot.waitUntil(lambda: ex.state.model is not None and not ex.state.model.conditional, timeout=WAIT_MS)
    assert not ex.label_combo.isVisible() and "without labels" in w.session.current.label


def test_switching_variant_keeps_the_run_and_two_runs_compare(qtbot, make_window, fast):
    w = make_window(fast.replace(epochs=1))
    pick_variant(qtbot, w, "vanilla")
    train_to_end(qtbot, w)
    first = w.session.current
    pick_variant(qtbot, w, "beta")  # a new variant is a new run; the trained one is kept
    assert w.session.state == RunState.NEW and w.session.current is None
    assert "Run 1 stays in the Runs tab" in w.banner.text()
    assert first in w.session.runs and first.snapshot is not None
    train_to_end(qtbot, w)
    assert [r.settings.variant for r in w.session.runs] == ["vanilla", "beta"]
    assert [r.settings.latent_dim for r in w.session.runs] == [2, BETA_VARIANT_LATENT]  # the β panel's own size
    assert w.bottom_tabs.tabText(1) == "Runs (2)"

    w.bottom_tabs.setCurrentWidget(w.runs)
    w.runs.k_spin.setValue(5)
    w.runs.list.selectAll()
    qtbot.waitUntil(lambda: all(row[1] not in ("…", "") for row in w.runs.table_rows()), timeout=WAIT_MS)
    rows = w.runs.table_rows()
    assert len(rows) == 2 and rows[0][0].startswith("Run 1") and rows[1][0].startswith("Run 2")
    for row, run in zip(rows, w.session.runs):
        neg_elbo, recon, kl, iwae = (float(x) for x in row[1:5])
        assert np.isclose(neg_elbo, recon + kl, atol=0.02)
        assert iwae <= neg_elbo + 2.0  # the IWAE bound is at least about as tight as the ELBO
        assert row[5].endswith(f"/ {run.settings.latent_dim}")
    assert w.runs.table.horizontalHeaderItem(4).text() == "IWAE NLL (k=5)"
    curves = w.runs.curve_data()
    assert set(curves) == {r.id for r in w.session.runs}
    for run in w.session.runs:
        np.testing.assert_allclose(curves[run.id][1], Smoother().arrays(run.history)["neg_elbo"])

    # load the first run back: the explorer shows its model, the controls its settings
    w.runs.select([first.id])
    click(qtbot, w.runs.load_button)
    w.redraw()
    assert w.session.current is first and w.session.state.settled
    assert w.controls.settings().variant == "vanilla"
    assert w.explorer.model() is not None
    np.testing.assert_allclose(w.explorer.map_xy(), first.snapshot.probe_mu[:, :2], atol=1e-6)
    np.testing.assert_allclose(w.loss_plot.curve_data()["smooth:neg_elbo"][1], Smoother().arrays(first.history)["neg_elbo"])

    # Reset after Load: the explorer forgets the model, and the map keeps no half-erased points
    viewport = w.explorer.map.plot.viewport()
    qtbot.waitUntil(lambda: _on_screen(viewport) == _fresh(viewport), timeout=WAIT_MS)
    click(qtbot, w.controls.reset_button)
    assert w.explorer.model() is None and all(len(s.data) == 0 for s in w.explorer.map.scatters)
    qtbot.waitUntil(lambda: _on_screen(viewport) == _fresh(viewport), timeout=WAIT_MS)


def _on_screen(widget) -> QImage:
    """What the screen shows of ``widget`` (the window's backing store, where an item that was
    not repainted keeps its old pixels); ``widget.grab()`` would paint everything afresh."""
    at = widget.mapTo(widget.window(), QPoint(0, 0))
    shot = widget.screen().grabWindow(widget.window().winId(), at.x(), at.y(), widget.width(), widget.height())
    return shot.toImage().convertToFormat(QImage.Format.Format_RGB32)


def _fresh(widget) -> QImage:
    return widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)


def test_an_opened_run_joins_the_list_and_can_be_explored(qtbot, make_window, fast, tmp_path):
    a = make_window(fast.replace(variant="conditional", epochs=1))
    train_to_end(qtbot, a)
    path = tmp_path / "cvae.pt"
    with qtbot.waitSignal(a.session.saved, timeout=WAIT_MS):
        a.save_run(str(path))
    b = make_window(fast)
    assert b.open_run(str(path))
    b.redraw()
    assert len(b.session.runs) == 1 and b.session.runs[0].origin == "cvae.pt"
    assert b.explorer.model() is not None and b.explorer.model().conditional
    assert len(b.diagnostics.bar_heights()) == 2
    b.show_view("label_sweep")
    assert b.explorer.generation.label_sweep.images.shape == (10, 28, 28)


def _snapshot(kl, mu):
    cfg = ModelConfig(latent_dim=len(kl), hidden=(8,))
    n = len(mu)
    return Snapshot(step=1, epoch=1.0, model_config=cfg, state={}, probe_mu=np.asarray(mu, dtype=np.float32),
                    probe_index=np.arange(n), probe_labels=np.zeros(n, dtype=int), kl_per_dim=np.asarray(kl))


def test_collapse_warning_shows_for_a_collapsed_posterior_only(window):
    d = window.diagnostics
    rng = np.random.default_rng(0)
    collapsed = _snapshot([0.002, 0.001, 0.003], rng.normal(0, 0.01, (200, 3)))
    d.set_snapshot(collapsed)
    assert d.warning.isVisible()
    text = d.warning.text()
    assert "collapse" in text and "warm-up" in text and "free bits" in text and "lower beta" in text
    assert "0</b> / 3" in d.active_label.text()
    assert list(d.bar_heights()) == [0.002, 0.001, 0.003]
    mu = rng.normal(0, 1, (200, 3)).astype(np.float32)
    mu[:, 2] = 0.0  # one unused dimension: its mean never moves
    healthy = dataclasses.replace(collapsed, probe_mu=mu, kl_per_dim=np.array([2.5, 1.0, 0.001]))
    d.set_snapshot(healthy)
    assert not d.warning.isVisible() and "2</b> / 3" in d.active_label.text()
    # before the first epoch a snapshot's KL is all zeros: not measured, so no warning yet
    d.clear()
    d.set_snapshot(dataclasses.replace(collapsed, kl_per_dim=np.zeros(3)))
    assert not d.warning.isVisible()


def test_a_very_large_beta_collapses_and_the_window_says_so(qtbot, make_window, fast):
    w = make_window(fast.replace(variant="beta", beta=200.0, epochs=2))
    train_to_end(qtbot, w)
    assert w.diagnostics.warning.isVisible()
    assert "Posterior collapse" in w.diagnostics.warning.text()
