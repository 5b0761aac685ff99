"""A script that embeds VAE Studio without an ``if __name__ == "__main__":`` guard can train: the
training process never re-imports the script that started it."""

import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

UNGUARDED = textwrap.dedent("""
    import os, sys
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    # a re-import of this script in the training process would say so here
    print("script body runs in", os.getpid(), flush=True)
    from PySide6.QtCore import QCoreApplication, QTimer
    from vae_studio.gui.session import RunSettings, Session

    app = QCoreApplication(sys.argv)
    session = Session()
    session.state_changed.connect(lambda s: app.quit() if s in ("trained", "stopped", "failed") else None)
    session.error.connect(lambda e: (print("error:", e, flush=True), app.exit(3)))
    session.start(RunSettings(hidden=(16,), latent_dim=2, epochs=1, batch_size=256, device="cpu"))
    QTimer.singleShot(120_000, lambda: app.exit(4))  # a failure bound, not a wait
    code = app.exec()
    print("finished", session.current.finish_reason, code, flush=True)
    session.shutdown(5.0)
""")


def test_an_unguarded_script_trains_in_a_training_process(tmp_path):
    script = tmp_path / "embed.py"
    script.write_text(UNGUARDED)
    r = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=180,
                       env={**__import__("os").environ, "PYTHONPATH": str(REPO),
                            "VAE_STUDIO_AUTOSAVE_DIR": str(tmp_path / "autosave")})
    assert "finished completed 0" in r.stdout, r.stdout + r.stderr[-3000:]
    assert r.stdout.count("script body runs in") == 1, r.stdout  # the script ran once, in its own process
