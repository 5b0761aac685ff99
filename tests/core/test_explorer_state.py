"""The explorer's state without any widget: what a snapshot, a click, a label or a clear changes,
and what its observers are told."""

import subprocess
import sys

import numpy as np
import pytest

from vae_studio.core import ModelConfig, Snapshot, TrainConfig, Trainer
from vae_studio.core import explorer_state as S
from vae_studio.core.decoding import decode


@pytest.fixture(scope="module")
def snapshot(trained):
    return trained.snapshot()


@pytest.fixture(scope="module")
def conditional_snapshot(digits):
    t = Trainer(ModelConfig(variant="conditional", latent_dim=3, hidden=(16,)), TrainConfig(epochs=1, device="cpu"), digits)
    return [m for m in t.run() if isinstance(m, Snapshot)][-1]


def observed(state):
    seen = []
    state.subscribe(seen.append)
    return seen


def test_a_snapshot_is_one_notification_with_everything_it_changed(snapshot, digits):
    st = S.ExplorerState()
    st.set_probe_split(digits.test)
    seen = observed(st)
    st.set_snapshot(snapshot)
    assert len(seen) == 1
    assert {S.MODEL, S.CONFIG, S.POINTS, S.KL, S.PROJECTION, S.Z, S.PROBES} <= seen[0]
    assert st.projection.mode == "pca" and st.latent_dim == 8
    assert st.xy.shape == (len(snapshot.probe_mu), 2)
    assert np.allclose(st.xy, st.projection.to_view(snapshot.probe_mu), atol=1e-5)
    assert st.probe_count() == len(snapshot.probe_mu)
    st.set_snapshot(snapshot)  # the same configuration again: no new network, no reset of z
    assert S.CONFIG not in seen[-1] and S.MODEL in seen[-1]


def test_a_click_sets_the_code_and_the_selection_and_clear_forgets_them(snapshot):
    st = S.ExplorerState()
    st.set_snapshot(snapshot)
    seen = observed(st)
    x, y = st.xy[5]
    st.click(float(x), float(y), 5)
    assert seen == [frozenset({S.Z, S.SELECTION})]
    assert st.selected == 5 and np.allclose(st.projection.to_view(st.z), [x, y], atol=1e-6)
    assert np.allclose(st.decode(st.z), decode(st.model, st.z)[0])
    st.set_z(np.zeros(8))
    st.take_clicked()
    assert np.allclose(st.z, st.clicked_z)
    st.clear()
    assert seen[-1] == S.ALL
    assert st.model is None and st.z is None and st.selected == -1 and len(st.xy) == 0


def test_label_controls_follow_the_model_shown_and_else_the_variant(conditional_snapshot):
    st = S.ExplorerState()
    seen = observed(st)
    assert not st.conditional
    st.set_variant("conditional")
    assert st.conditional and S.CONDITIONAL in seen[-1]
    st.set_variant("beta", label_given=True)  # the β panel's default: given the label
    assert st.conditional
    st.set_variant("beta")
    assert not st.conditional
    st.set_snapshot(conditional_snapshot)
    assert st.conditional  # the model shown is conditional, whatever comes next
    st.clear()
    assert not st.conditional  # nothing shown: the variant (beta) decides


def test_a_drawing_is_encoded_and_scored_and_follows_the_label(conditional_snapshot, digits):
    st = S.ExplorerState()
    st.set_snapshot(conditional_snapshot)
    image = digits.test.images[0].numpy() / 255.0
    st.set_drawing(image)
    mu0 = st.drawn[0].copy()
    total, recon, kl = st.drawn_score
    assert total == pytest.approx(recon + kl) and kl > 0
    seen = observed(st)
    st.set_label(4)
    assert {S.LABEL, S.DRAWN} <= seen[-1]
    assert not np.allclose(st.drawn[0], mu0)  # encoded with the new class
    st.set_drawing(np.zeros((28, 28)))
    assert st.drawn is None and st.drawing is None


def test_the_interpolation_path_defaults_to_two_class_means(snapshot):
    st = S.ExplorerState()
    assert st.path_codes() is None
    st.set_snapshot(snapshot)
    lin, sl = st.path_codes()
    assert lin.shape == sl.shape == (st.path_steps, 8)
    a = np.ones(8)
    st.set_endpoints(a, None)
    st.set_path_steps(4)
    lin, _ = st.path_codes()
    assert lin.shape == (4, 8) and np.allclose(lin[0], a)


def test_the_state_needs_no_qt():
    code = ("import sys, vae_studio.core.explorer_state; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph', 'superqt')))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == "[]"
