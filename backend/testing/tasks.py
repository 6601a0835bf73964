"""
Jobs for the workers the tests start (testing.worker_settings loads them), on a
queue of their own. Each records that it ran in testing_job_runs, which the
test creates (runs_table()), with the pid of the worker that ran it.
"""

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from procrastinate.contrib.django import app
from procrastinate.job_context import JobContext

from django.db import connection

QUEUE = "testing"


@contextmanager
def runs_table() -> Iterator[None]:
    """Create testing_job_runs for the duration; the workers' jobs write to it."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE testing_job_runs (task text NOT NULL, key bigint NOT NULL, "
            "pid integer NOT NULL)"
        )
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE testing_job_runs")


def runs(task: str) -> list[tuple[int, int]]:
    """Return (key, pid) of each run of task recorded, by key."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT key, pid FROM testing_job_runs WHERE task = %s ORDER BY key", [task]
        )
        return [(key, pid) for key, pid in cursor.fetchall()]


def _record(task: str, key: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO testing_job_runs (task, key, pid) VALUES (%s, %s, %s)",
            [task, key, os.getpid()],
        )


def _pids() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(DISTINCT pid) FROM testing_job_runs")
        (count,) = cursor.fetchone() or (0,)
        return int(count)


@app.task(name="testing.record_run", queue=QUEUE, pass_context=True)
def record_run(context: JobContext) -> None:
    """
    Record this run under the job's id, then wait (10 s at most) until runs of
    two workers are recorded: a worker holds the jobs it took until another
    has taken some, so that both take part however fast the first one is.
    """
    assert context.job.id is not None  # noqa: S101 (a job being run has one)
    _record("record_run", context.job.id)
    deadline = time.monotonic() + 10
    while _pids() < 2 and time.monotonic() < deadline:
        time.sleep(0.02)


@app.periodic(cron="* * * * *")
@app.task(name="testing.record_tick", queue=QUEUE)
def record_tick(timestamp: int) -> None:
    """Record the minute this periodic job was deferred for."""
    _record("record_tick", timestamp)


@app.task(name="testing.wait_for_file", queue=QUEUE)
def wait_for_file(path: str) -> None:
    """Run until path exists (10 s at most), so that a test sees a job in doing."""
    deadline = time.monotonic() + 10
    while not Path(path).exists() and time.monotonic() < deadline:
        time.sleep(0.02)


@app.task(name="testing.fail", queue=QUEUE)
def fail() -> None:
    """Fail, once: the job has no retry."""
    raise RuntimeError("testing.fail fails, as asked")
