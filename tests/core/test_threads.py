"""The adaptive thread count: it keeps whichever count trains faster under the load of the moment."""

import torch

from vae_studio.core import ModelConfig, Progress, TrainConfig, Trainer
from vae_studio.core.threads import ThreadTuner


class World:
    """A CPU whose speed for each thread count, and the CPU time a run gets, change with the load."""

    def __init__(self, rates, utilisation=1.0):
        self.rates = rates  # threads -> samples per second
        self.utilisation = utilisation  # share of its threads' CPU time the run gets
        self.threads = max(rates)
        self.wall = self.cpu = 0.0

    def tuner(self, max_threads):
        def set_threads(n):
            self.threads = n

        return ThreadTuner(max_threads, set_threads=set_threads, cpu_clock=lambda: self.cpu, wall_clock=lambda: self.wall)

    def step(self, tuner, dt=0.1):
        rate = self.rates[self.threads]
        self.wall += dt
        self.cpu += dt * self.threads * self.utilisation
        tuner.observe(int(rate * dt), dt)
        return rate * dt

    def run(self, tuner, seconds, dt=0.1):
        return sum(self.step(tuner, dt) for _ in range(round(seconds / dt)))


def test_a_busy_machine_moves_to_fewer_threads_and_back_when_it_is_idle_again():
    world = World({2: 2_600, 1: 10_000}, utilisation=0.5)  # beside busy processes the team of two spins
    tuner = world.tuner(2)
    world.run(tuner, 5)
    assert tuner.threads == 1 and world.threads == 1
    world.rates, world.utilisation = {2: 23_000, 1: 13_000}, 1.0  # the other processes ended
    world.run(tuner, 60)
    assert tuner.threads == 2


def test_on_an_idle_machine_there_are_no_trials():
    world = World({2: 23_000, 1: 13_000}, utilisation=0.98)
    tuner = world.tuner(2)
    trained = world.run(tuner, 120)
    assert tuner.threads == 2 and tuner.trials == []
    assert trained == 23_000 * 120


def test_a_contended_machine_where_all_threads_still_win_tries_less_often():
    world = World({2: 15_000, 1: 10_000}, utilisation=0.7)
    tuner = world.tuner(2)
    trained = world.run(tuner, 120)
    assert tuner.threads == 2 and all(t.kept == 2 for t in tuner.trials)
    assert tuner.every == tuner.max_every_s
    assert trained / (15_000 * 120) > 0.97  # the trials that lost cost under 3% over two minutes


def test_more_cores_try_their_neighbours():
    world = World({8: 5_000, 4: 20_000, 1: 9_000}, utilisation=0.4)
    tuner = world.tuner(8)
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


def test_a_pause_is_not_taken_for_a_busy_machine():
    world = World({2: 23_000, 1: 13_000}, utilisation=1.0)
    tuner = world.tuner(2)
    world.run(tuner, 0.5)
    world.wall += 60  # paused for a minute: no CPU time, no training
    world.run(tuner, 5)
    assert tuner.trials == [] and tuner.threads == 2
