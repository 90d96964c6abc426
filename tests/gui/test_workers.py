"""Jobs run off the UI thread, report progress, and end as finished, cancelled or failed."""

from __future__ import annotations

import threading
import time

import pytest

from fadvi_gui.session.workers import Job, JobCancelled


def _count(control, n):
    for i in range(n):
        control.report(i, force=True)
        if control.should_stop():
            return i
        time.sleep(0.01)
    return n


def test_job_runs_off_the_ui_thread_and_returns(qtbot):
    threads = []
    job = Job("Counting", lambda control: threads.append(threading.current_thread()) or 7)
    with qtbot.waitSignal(job.ended, timeout=5000) as ended:
        with qtbot.waitSignal(job.succeeded, timeout=5000) as result:
            job.start()
    assert result.args == [7] and ended.args == ["finished"]
    assert threads[0] is not threading.main_thread()


def test_job_progress_and_cancel(qtbot):
    job = Job("Counting", _count, 10_000)
    seen = []
    job.progress.connect(seen.append)
    with qtbot.waitSignal(job.progress, timeout=5000):
        job.start()
    with qtbot.waitSignal(job.cancelled, timeout=5000) as cancelled:
        job.cancel()
    assert cancelled.args[0] < 10_000
    assert job.outcome == "cancelled"
    assert seen and seen[0] == 0


@pytest.mark.parametrize(
    ("error", "outcome"), [(ValueError("bad column"), "failed"), (JobCancelled(), "cancelled")]
)
def test_job_errors_become_signals(qtbot, error, outcome):
    def boom(control):
        raise error

    job = Job("Exploding", boom)
    failures = []
    job.failed.connect(lambda message, details: failures.append((message, details)))
    with qtbot.waitSignal(job.ended, timeout=5000) as ended:
        job.start()
    assert ended.args == [outcome]
    if outcome == "failed":
        assert failures[0][0] == "bad column"
        assert "Traceback" in failures[0][1]
