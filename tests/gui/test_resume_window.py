"""The window's Continue of an opened run resumes it the way `vae-studio train --resume` does: same weights."""

import torch

from vae_studio.core import Trainer, load_dataset, save_checkpoint
from vae_studio.core.messages import Progress

from window_helpers import train_to_end  # tests/gui is on the path


def test_continuing_an_opened_run_stopped_mid_epoch_equals_the_uninterrupted_run(qtbot, make_window, fast, tmp_path,
                                                                                monkeypatch):
    monkeypatch.setenv("VAE_STUDIO_ADAPTIVE_THREADS", "0")  # the same thread count throughout, so sums round alike
    digits = load_dataset("digits")
    settings = fast.replace(epochs=2)
    model_cfg = settings.model_config(digits.image_shape, digits.num_classes)
    whole = Trainer(model_cfg, settings.train_config(), digits)
    whole.train()

    first = Trainer(model_cfg, settings.train_config().replace(progress_interval=1e-9), digits)
    for message in first.run():
        if isinstance(message, Progress) and message.step == 50:  # 36 steps an epoch: 14 into the second
            first.stop()
    save_checkpoint(tmp_path / "half.pt", first.bundle())

    w = make_window(settings, isolation="thread")  # the trainer in this process, where the test can read it
    assert w.open_run(str(tmp_path / "half.pt"))
    assert w.controls.train_button.text() == "Continue"
    train_to_end(qtbot, w)
    resumed = w.session.current.trainer
    assert resumed.step == whole.step == 72
    for (name, a), b in zip(whole.model.state_dict().items(), resumed.model.state_dict().values()):
        assert torch.equal(a, b), name
    for col in ("val_step", "val_recon", "val_kl", "train_epoch_recon", "train_epoch_kl"):
        assert resumed.history.to_dict()[col] == whole.history.to_dict()[col]
