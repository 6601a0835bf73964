"""
The task queue with two real workers (bin/worker) on the test database: a job
is run by exactly one of them, and a periodic job once per period. make
security runs it (marker ``slow``): two workers take seconds to start and stop,
more than make test can spend.
"""

import signal
from collections import Counter

import pytest
from procrastinate.contrib.django.models import ProcrastinateJob, ProcrastinateWorker

from testing import tasks
from testing.worker import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

JOBS = 40
# The workers' settings: keel's, with testing.tasks loaded.
WITH_TEST_TASKS = {"DJANGO_SETTINGS_MODULE": "testing.worker_settings"}


def unfinished():
    return ProcrastinateJob.objects.filter(
        queue_name=tasks.QUEUE, status__in=("todo", "doing")
    ).exists()


def test_two_workers_run_each_job_exactly_once_and_each_periodic_job_once(
    start_worker, record_property
):
    with tasks.runs_table():
        workers = [start_worker(**WITH_TEST_TASKS) for _ in range(2)]

        def outputs():
            return "\n".join(worker.output() for worker in workers)

        assert wait_until(
            lambda: ProcrastinateWorker.objects.count() == 2, timeout=30
        ), outputs()
        ids = tasks.record_run.batch_defer(*[{} for _ in range(JOBS)])
        assert wait_until(lambda: not unfinished(), timeout=30), outputs()
        # Stopped, neither can run anything more.
        for worker in workers:
            worker.signal(signal.SIGTERM)
        assert [worker.wait(timeout=30) for worker in workers] == [0, 0], outputs()

        runs = tasks.runs("record_run")
        assert sorted(job for job, _ in runs) == sorted(ids), "each job ran once"
        taken = Counter(pid for _, pid in runs)
        assert set(taken) == {worker.process.pid for worker in workers}, taken
        assert not ProcrastinateJob.objects.filter(status="failed").exists()

        # Each worker's scheduler deferred the every-minute job for the minute
        # just past when it started (and for any minute that began since);
        # Procrastinate lets one deferral per task and minute through.
        minutes = Counter(minute for minute, _ in tasks.runs("record_tick"))
        assert minutes and set(minutes.values()) == {1}, minutes

    record_property("jobs", len(ids))
    record_property("split", " + ".join(str(n) for n in sorted(taken.values())))
    record_property("minutes", len(minutes))
