"""The training worker's boundary: whatever the job raises reaches the window, then ``ended``."""

import pytest

from vae_studio.gui.worker import TrainingWorker

WAIT_MS = 10_000


def _record(worker):
    seen = []
    worker.message.connect(lambda m: seen.append(("message", m)))
    worker.failed.connect(lambda e: seen.append(("failed", e)))
    worker.ended.connect(lambda: seen.append(("ended", None)))
    return seen


@pytest.mark.parametrize("exc_type", [RuntimeError, ValueError, MemoryError, SystemExit])
def test_an_exception_in_the_job_emits_failed_then_ended(qtbot, exc_type):
    # superqt's own worker drops a RuntimeError without emitting errored or finished
    def job(control):
        yield 1
        raise exc_type("boom")

    worker = TrainingWorker(job)
    seen = _record(worker)
    with qtbot.waitSignal(worker.ended, timeout=WAIT_MS):
        worker.start()
    assert [kind for kind, _ in seen] == ["message", "failed", "ended"]
    assert isinstance(seen[1][1], exc_type) and "boom" in str(seen[1][1])
    assert worker.control.done.is_set() and not worker.running


def test_a_job_that_ends_normally_emits_ended_once_without_failed(qtbot):
    def job(control):
        yield "a"
        yield "b"

    worker = TrainingWorker(job)
    seen = _record(worker)
    # superqt's own finished signal comes after ours; it must not repeat ended
    with qtbot.waitSignals([worker.ended, worker._worker.finished], timeout=WAIT_MS):
        worker.start()
    assert seen == [("message", "a"), ("message", "b"), ("ended", None)]
