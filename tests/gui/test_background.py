"""LatestJob: one job at a time off the GUI thread, the newest request next, failures as one line."""

import threading

from vae_studio.core.errors import DataError
from vae_studio.gui.background import LatestJob


def test_requests_made_while_a_job_runs_collapse_to_the_newest(qtbot):
    job = LatestJob()
    gate = threading.Event()
    ran, done = [], []
    job.done.connect(lambda key, result: done.append((key, result)))

    def work(name):
        if name == "first":
            gate.wait(10)
        ran.append(name)
        return name.upper()

    job.request("a", work, "first")
    for name in ("second", "third", "fourth"):
        job.request(name[0], work, name)
    assert job.busy and job.running_key == "a"
    gate.set()
    qtbot.waitUntil(lambda: len(done) == 2 and not job.busy, timeout=10_000)
    assert ran == ["first", "fourth"] and done == [("a", "FIRST"), ("f", "FOURTH")]


def test_a_failing_job_reports_one_line_and_the_next_one_runs(qtbot):
    job = LatestJob()
    failed, done = [], []
    job.failed.connect(lambda key, msg: failed.append((key, msg)))
    job.done.connect(lambda key, result: done.append(key))

    def bad():
        raise DataError("the folder holds no images")

    job.request("bad", bad)
    qtbot.waitUntil(lambda: bool(failed) and not job.busy, timeout=10_000)
    assert failed == [("bad", "the folder holds no images")]
    job.request("good", lambda: 1)
    qtbot.waitUntil(lambda: done == ["good"], timeout=10_000)
    assert job.wait(1.0)


def test_a_throttled_request_waits_for_its_share_of_the_time(qtbot):
    job = LatestJob(max_share=0.05)
    done = []
    job.done.connect(lambda key, result: done.append(key))
    job.request(1, lambda: threading.Event().wait(0.1))
    qtbot.waitUntil(lambda: done == [1] and not job.busy, timeout=10_000)
    job.request(2, lambda: None, throttled=True)  # may start ~2 s after the first began
    assert job.busy and job.running_key is None  # waiting, not running
    job.request(3, lambda: None)  # what the person asks for does not wait
    qtbot.waitUntil(lambda: done == [1, 3], timeout=10_000)
