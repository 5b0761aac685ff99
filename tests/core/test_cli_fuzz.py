"""Generated values for every numeric option of train, evaluate and sample: the command exits 0,
or 2 with one line on stderr; never 1 with "internal error" (training failures aside)."""

import contextlib
import io

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from vae_studio.cli import main
from vae_studio.core.idx import write_idx

TINY = ["--epochs", "1", "--hidden", "8", "--latent-dim", "2"]

# values that are out of range, not numbers, or at the edge of the types; none that would make a long run
_VALUES = st.one_of(
    st.sampled_from([
        "0", "-0", "-1", "1", "2", "1.5", "-2.5", "1e-320", "1e300", "1e400", "-1e400", "nan", "NaN", "inf", "-inf",
        str(2**31), str(2**63 - 1), str(2**63), str(2**64), str(10**30), "9" * 50, "abc", "", " ", "0x10", "1_000",
        "١٢", "1e5", "255", "256",
    ]),
    st.integers(max_value=-1).map(str),
    st.integers(min_value=10**7).map(str),
    st.floats(allow_nan=True, allow_infinity=True).filter(lambda x: not 0 < x < 10**5).map(repr),
    st.text(max_size=8),
)

TRAIN = ["--epochs", "--batch-size", "--lr", "--latent-dim", "--hidden", "--capacity-epochs", "--warmup-epochs", "--free-bits", "--seed"]
TRAIN_BETA = ["--beta", "--capacity"]
EVALUATE = ["--iwae-samples", "--seed"]
SAMPLE = ["--n", "--label", "--seed"]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("fuzz")
    rng = np.random.default_rng(0)
    data = d / "idx"
    data.mkdir()
    write_idx(data / "train-images-idx3-ubyte", rng.integers(0, 256, (48, 28, 28), dtype=np.uint8))
    write_idx(data / "train-labels-idx1-ubyte", (np.arange(48) % 4).astype(np.uint8))
    vanilla, cond = d / "v.pt", d / "c.pt"
    assert main(["train", *TINY, "--dataset", str(data), "--out", str(vanilla)]) == 0
    assert main(["train", *TINY, "--variant", "conditional", "--dataset", str(data), "--out", str(cond)]) == 0
    return d, data, vanilla, cond


def _run(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = main(argv)
        except SystemExit as e:
            rc = e.code
    return rc, err.getvalue()


def _check(rc, err, training: bool):
    event(f"exit {rc}")
    assert "internal error" not in err and "Traceback" not in err, err
    if rc == 2:
        assert len(err.strip().splitlines()) == 1, err
    elif rc == 1:
        # only a failure of the training itself, which still saves the weights
        assert training and "the last good weights were saved" in err, err
    else:
        assert rc == 0, (rc, err)


_SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@_SETTINGS
@given(option=st.sampled_from(TRAIN + TRAIN_BETA), value=_VALUES)
def test_train_numbers(files, option, value):
    d, data, _, _ = files
    variant = ["--variant", "beta"] if option in TRAIN_BETA else []
    argv = ["train", *TINY, *variant, "--dataset", str(data), "--out", str(d / "t.pt"), option, value]
    rc, err = _run(argv)
    _check(rc, err, training=True)


@_SETTINGS
@given(option=st.sampled_from(EVALUATE), value=_VALUES)
def test_evaluate_numbers(files, option, value):
    _, _, vanilla, _ = files
    rc, err = _run(["evaluate", str(vanilla), option, value])
    _check(rc, err, training=False)


@_SETTINGS
@given(option=st.sampled_from(SAMPLE), value=_VALUES, conditional=st.booleans(), suffix=st.sampled_from([".png", ".npy"]))
def test_sample_numbers(files, option, value, conditional, suffix):
    d, _, vanilla, cond = files
    label = ["--label", "1"] if conditional and option != "--label" else []
    rc, err = _run(["sample", str(cond if conditional else vanilla), "--out", str(d / f"s{suffix}"), *label, option, value])
    _check(rc, err, training=False)
