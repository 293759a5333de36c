"""Jobs side by side: every outcome comes back, in time, each worker on its own terminal line."""

import os
import time

import pytest

from companion.pipeline import parallel
from companion.progress import POSITION_ENV


def nap(seconds: float, fail: bool = False) -> tuple[int, str]:
    time.sleep(seconds)
    if fail:
        raise ValueError(f"failed after {seconds} s")
    return os.getpid(), os.environ.get(POSITION_ENV, "")


@pytest.mark.parametrize("workers", [1, 2])
def test_every_job_reports_its_result_or_its_exception(workers):
    events, outcomes = [], {}
    jobs = [(0.2,), (0.1, True), (0.1,)]
    parallel.run_jobs(nap, jobs, workers, lambda job: events.append(("start", job)),
                      lambda job, outcome: outcomes.update({job: outcome}))
    assert [job for kind, job in events] == jobs  # handed out in the order given
    assert set(outcomes) == set(jobs)
    assert isinstance(outcomes[0.1, True], ValueError)
    assert "failed after 0.1 s" in str(outcomes[0.1, True])


def test_two_workers_run_two_jobs_at_once_each_on_its_own_line():
    outcomes = []
    started = time.perf_counter()
    parallel.run_jobs(nap, [(1.0,), (1.0,)], 2, lambda job: None,
                      lambda job, outcome: outcomes.append(outcome))
    assert time.perf_counter() - started < 1.8
    pids, lines = zip(*outcomes)
    assert len(set(pids)) == 2 and sorted(lines) == ["0", "1"]
