"""The adaptive thread count: it keeps whichever count trains faster under the load of the moment."""

import torch

from vae_studio.core import ModelConfig, Progress, TrainConfig, Trainer
from vae_studio.core.threads import ThreadTuner


class World:
    """A CPU whose speed for each thread count changes when other processes start or stop."""

    def __init__(self, rates):
        self.rates = rates  # threads -> samples per second
        self.threads = max(rates)
        self.switches = []

    def set_threads(self, n):
        self.threads = n
        self.switches.append(n)

    def run(self, tuner, seconds, dt=0.1):
        t = 0.0
        while t < seconds:
            tuner.observe(int(self.rates[self.threads] * dt), dt)
            t += dt


def test_a_busy_machine_moves_to_fewer_threads_and_back_when_it_is_idle_again():
    busy = World({2: 2_600, 1: 10_000})  # beside other busy processes the team of two spins
    tuner = ThreadTuner(2, set_threads=busy.set_threads)
    busy.run(tuner, 5)
    assert tuner.threads == 1 and busy.threads == 1
    busy.rates = {2: 23_000, 1: 13_000}  # the other processes ended
    busy.run(tuner, 60)
    assert tuner.threads == 2


def test_on_an_idle_machine_trials_get_rarer_and_cost_little():
    idle = World({2: 23_000, 1: 13_000})
    tuner = ThreadTuner(2, set_threads=idle.set_threads)
    trained = 0
    for _ in range(1200):  # two minutes of progress reports
        before = idle.threads
        tuner.observe(int(idle.rates[before] * 0.1), 0.1)
        trained += idle.rates[before] * 0.1
    assert tuner.threads == 2 and all(t.kept == 2 for t in tuner.trials)
    assert tuner.every == tuner.max_every_s
    assert trained / (23_000 * 120) > 0.97  # the trials cost under 3% over two minutes


def test_more_cores_try_their_neighbours():
    world = World({8: 5_000, 4: 20_000, 1: 9_000})
    tuner = ThreadTuner(8, set_threads=world.set_threads)
    assert tuner.candidates == [1, 4, 8]
    world.run(tuner, 30)
    assert tuner.threads == 4


def test_the_trainer_reports_its_thread_count_in_progress(digits):
    trainer = Trainer(ModelConfig(hidden=(16,), latent_dim=2), TrainConfig(epochs=1, device="cpu"), digits)
    before = torch.get_num_threads()
    progress = [m for m in trainer.run() if isinstance(m, Progress)]
    assert progress and all(1 <= p.threads <= before for p in progress)
    assert torch.get_num_threads() == before  # restored when the run ends


def test_no_tuner_for_a_single_thread_or_when_turned_off(monkeypatch):
    monkeypatch.setattr(torch, "get_num_threads", lambda: 1)
    assert ThreadTuner.for_device(torch.device("cpu")) is None
    monkeypatch.setattr(torch, "get_num_threads", lambda: 2)
    assert ThreadTuner.for_device(torch.device("cpu")) is not None
    monkeypatch.setenv("VAE_STUDIO_ADAPTIVE_THREADS", "0")
    assert ThreadTuner.for_device(torch.device("cpu")) is None
