"""A built wheel is complete on its own: installed into a fresh virtual environment, away from
the source tree, it trains on the embedded digits (so the digits are inside it)."""

import json
import os
import site
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

SMOKE = Path(__file__).resolve().parents[1] / "scripts" / "instruments" / "smoke.py"  # an instrument, not in the wheel

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    # no build isolation: the test must not reach a package index
    r = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(out), str(REPO)],
        capture_output=True, text=True,
    )
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    (whl,) = out.glob("vae_studio-*.whl")
    return whl


def test_wheel_carries_the_resources(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for member in ("vae_studio/resources/digits/digits-images-idx3-ubyte.gz",
                   "vae_studio/resources/digits/digits-labels-idx1-ubyte.gz",
                   "vae_studio/resources/README.md", "vae_studio/core/trainer.py", "vae_studio/cli.py",
                   "vae_studio/gui/widgets/explorer/panel.py"):
        assert member in names, member
    assert not any(n.startswith(("tests/", "scripts/")) for n in names)
    (ep,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
    assert "vae-studio = vae_studio.cli:main" in zipfile.ZipFile(wheel).read(ep).decode()


@pytest.fixture(scope="module")
def fresh_env(wheel, tmp_path_factory):
    """A new venv holding only the wheel; the heavy dependencies are borrowed from this one."""
    root = tmp_path_factory.mktemp("venv")
    venv.EnvBuilder(with_pip=False).create(root)
    py = root / "bin" / "python"
    env_site = Path(subprocess.check_output([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True).strip())
    with zipfile.ZipFile(wheel) as z:
        z.extractall(env_site)  # a wheel is a zip laid out for site-packages
    # dependencies (torch, Qt, ...) from the running environment, after the wheel's own files
    deps = [sysconfig.get_paths()["purelib"], *site.getsitepackages()]
    (env_site / "zz_borrowed_deps.pth").write_text("\n".join(dict.fromkeys(deps)) + "\n")
    return py


@pytest.mark.slow
def test_installed_wheel_trains_away_from_the_source_tree(fresh_env, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    where = subprocess.check_output([str(fresh_env), "-c", "import vae_studio, sys; print(vae_studio.__file__)"], text=True, cwd=tmp_path, env=env)
    assert str(REPO) not in where, where
    r = subprocess.run(
        [str(fresh_env), "-m", "vae_studio", "train", "--epochs", "1", "--hidden", "64", "--out", str(tmp_path / "w.pt"), "--json"],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    assert json.loads(r.stdout.strip().splitlines()[-1])["epochs"] == 1


@pytest.mark.slow
def test_installed_wheel_runs_the_window_smoke_test(fresh_env, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["QT_QPA_PLATFORM"] = "offscreen"
    r = subprocess.run([str(fresh_env), str(SMOKE), str(tmp_path / "shot.png")],
                       capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300)
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("{")]
    assert lines and json.loads(lines[-1])["ok"] and r.returncode == 0, r.stdout[-1500:] + r.stderr[-1500:]
    assert (tmp_path / "shot.png").stat().st_size > 20_000
