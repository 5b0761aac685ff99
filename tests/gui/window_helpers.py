"""What many window tests do: press Train with the mouse and wait for the run to stand still."""

from PySide6.QtCore import Qt

from vae_studio.gui.run_record import SETTLED

WAIT_MS = 30_000


def train_to_end(qtbot, w, timeout_ms: int = WAIT_MS) -> None:
    with qtbot.waitSignal(w.session.state_changed, timeout=timeout_ms, check_params_cb=lambda s: s in SETTLED):
        qtbot.mouseClick(w.controls.train_button, Qt.MouseButton.LeftButton)
    w.redraw()


def final_snapshot(model_cfg, epochs: int, data):
    """The last snapshot of a small run, for explorer tests that need a trained model."""
    from vae_studio.core import Snapshot, TrainConfig, Trainer

    trainer = Trainer(model_cfg, TrainConfig(epochs=epochs, batch_size=128, lr=3e-3, device="cpu", seed=0), data)
    return [m for m in trainer.run() if isinstance(m, Snapshot)][-1]
