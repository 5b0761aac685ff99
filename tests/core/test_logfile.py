"""The log of unexpected errors: one sentence for a person, the traceback in a per-user file."""

import os
import subprocess
import sys

from vae_studio import logfile


def test_report_internal_writes_the_traceback_and_returns_one_sentence(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(logfile.LOG_DIR_ENV, str(tmp_path / "state"))
    try:
        {}["missing"]
    except KeyError as exc:
        sentence, path = logfile.report_internal(exc, "saving the run", echo=False)
    assert path == tmp_path / "state" / "errors.log"
    assert "\n" not in sentence and "KeyError" in sentence and "saving the run" in sentence
    text = path.read_text()
    assert "Traceback" in text and "saving the run" in text and f"pid {os.getpid()}" in text
    assert capsys.readouterr().err == ""  # echo=False: nothing on stderr


def test_an_unwritable_log_still_gives_the_sentence(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(logfile.LOG_DIR_ENV, str(blocker / "logs"))
    sentence, path = logfile.report_internal(ValueError("x"), echo=False)
    assert path is None and "ValueError: x" in sentence


def test_the_log_rolls_over_instead_of_growing(tmp_path, monkeypatch):
    monkeypatch.setenv(logfile.LOG_DIR_ENV, str(tmp_path))
    monkeypatch.setattr(logfile, "MAX_BYTES", 100)
    for i in range(3):
        logfile.report_internal(RuntimeError(f"error {i}"), echo=False)
    assert (tmp_path / "errors.log.1").exists()
    assert (tmp_path / "errors.log").stat().st_size < 2000


def test_the_default_folder_is_the_per_user_state_folder(monkeypatch, tmp_path):
    monkeypatch.delenv(logfile.LOG_DIR_ENV, raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    if sys.platform != "win32":
        assert logfile.log_path() == tmp_path / "vae-studio" / "errors.log"


def test_the_logfile_module_needs_neither_qt_nor_torch():
    code = "import sys, vae_studio.logfile; print(sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'torch')))"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == "[]"
