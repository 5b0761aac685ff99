"""Any field of a run file, at any depth, replaced with a value of the wrong type or size: the file
loads as a valid run or is refused with CheckpointError, never anything else, and loading never
builds a model larger than the weights the file holds."""

import copy
import io
import math
import resource

import pytest
import torch
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from vae_studio.core import CheckpointError, ModelConfig, TrainConfig, Trainer, load_checkpoint, make_bundle
from vae_studio.core import checkpoint as ckpt_module
from vae_studio.core.budget import state_numel

_DELETE = object()


@pytest.fixture(scope="module")
def base_bundle(digits):
    trainer = Trainer(ModelConfig(hidden=(8,), latent_dim=2, variant="conditional"), TrainConfig(epochs=1, device="cpu", progress_interval=0.01), digits)
    trainer.train()
    bundle = make_bundle(trainer)
    bundle = torch.load(_to_bytes(bundle), weights_only=True)  # exactly what a file holds
    assert bundle["optimizer_state"]["state"] and bundle["history"]["step"]
    return bundle


def _to_bytes(obj) -> io.BytesIO:
    buf = io.BytesIO()
    torch.save(obj, buf)
    buf.seek(0)
    return buf


def _paths(obj, prefix=()):
    """Every place in the bundle a value sits: keys of dicts, and the first items of lists."""
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(obj, (list, tuple)) and obj:
        for i in {0, len(obj) - 1}:
            yield from _paths(obj[i], (*prefix, i))


def _set(obj, path, value):
    if not path:
        return value
    *head, last = path
    parent = obj
    for k in head:
        parent = parent[k]
    if not isinstance(parent, (dict, list, tuple)):
        raise TypeError("an earlier replacement put a leaf here")
    if isinstance(parent, tuple):  # rebuild the tuple with the one item replaced
        items = list(parent)
        items[last] = value
        return _set(obj, tuple(head), tuple(items))
    if value is _DELETE:
        if isinstance(parent, dict):
            parent.pop(last, None)
        else:
            del parent[last]
    else:
        parent[last] = value
    return obj


_WEIRD = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, -1, 1, 2**31, 2**63, 2**64, 10**30, 8192, 513]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([math.nan, math.inf, -math.inf, 1e308, -0.0, 5.5]),
    st.text(max_size=12),
    st.sampled_from(["", "nan", "digits", "../../etc", "mlp", "conditional", "\0"]),
    st.lists(st.integers(min_value=-5, max_value=2**40), max_size=4),
    st.sampled_from([[8192] * 8, [1, 10**6, 10**6], (1, 28, 28), (3, 28, 28), [], {}, {"state": {}, "param_groups": []}]),
    st.sampled_from([
        torch.zeros(0), torch.zeros(3, 3), torch.tensor(math.nan), torch.zeros(2, dtype=torch.int64),
        torch.zeros(8, 784, dtype=torch.float16), torch.full((2,), math.inf), torch.zeros((), dtype=torch.bool),
    ]),
    st.just(_DELETE),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_every_field_replaced_loads_or_is_refused(base_bundle, digits, tmp_path, monkeypatch, data):
    paths = [p for p in _paths(base_bundle) if p]
    chosen = data.draw(st.lists(st.sampled_from(paths), min_size=1, max_size=3, unique=True), label="paths")
    bundle = copy.deepcopy(base_bundle)
    for path in chosen:
        try:
            bundle = _set(bundle, path, data.draw(_WEIRD, label=f"value at {path}"))
        except (KeyError, IndexError, TypeError):
            pass  # an earlier replacement removed or retyped this place

    stored = sum(t.numel() for t in bundle.get("model_state", {}).values() if torch.is_tensor(t)) if isinstance(bundle.get("model_state"), dict) else 0
    real_build = ckpt_module.build_model

    def guarded_build(cfg):
        # nothing larger than the weights the file holds is ever allocated
        assert state_numel(cfg) <= stored, (cfg, stored)
        return real_build(cfg)

    monkeypatch.setattr(ckpt_module, "build_model", guarded_build)
    path = tmp_path / "mutated.pt"
    path.write_bytes(_to_bytes(bundle).getvalue())
    try:
        loaded = load_checkpoint(path)
    except CheckpointError as exc:
        assert str(exc) and "\n" not in str(exc)
        event("refused")
        return
    event("loaded")
    # a valid run: its configs are real, and it can be continued and sampled
    assert isinstance(loaded["model_config"], ModelConfig) and isinstance(loaded["train_config"], TrainConfig)
    cfg = loaded["train_config"].replace(device="cpu", progress_interval=1e-9, snapshot_interval=1e9)
    trainer = Trainer(loaded["model_config"], cfg, digits, state=loaded)
    assert trainer.step == loaded["step"]
    run = trainer.run()
    next(run)  # one step of Continue (or, for a run already past its epochs, its final report)
    run.close()
    z = torch.zeros(2, loaded["model_config"].latent_dim)
    assert loaded["_model"].decode_mean(z, torch.tensor([0, 1])).shape[0] == 2


def test_a_small_file_declaring_a_huge_model_is_refused_at_once(base_bundle, tmp_path):
    bundle = copy.deepcopy(base_bundle)
    bundle["model_config"]["hidden"] = [8192] * 8
    path = tmp_path / "huge.pt"
    torch.save(bundle, path)
    assert path.stat().st_size < 1_000_000
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(CheckpointError, match="do not fit the model"):
        load_checkpoint(path)
    # it used to build the 4.2 GB model first (16 s); memory, unlike time, does not depend on the load
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss < 200_000  # KiB: no 4 GB model was built


@pytest.mark.parametrize("value", [None, math.nan, "12.5", True])
def test_a_best_score_that_is_not_a_number_is_refused(base_bundle, tmp_path, value):
    bundle = copy.deepcopy(base_bundle)
    bundle["best_epoch"], bundle["best_neg_elbo"] = 1, value
    path = tmp_path / "best.pt"
    path.write_bytes(_to_bytes(bundle).getvalue())
    with pytest.raises(CheckpointError, match="best_neg_elbo"):
        load_checkpoint(path)
