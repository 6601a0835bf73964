"""
Fixtures for the accounts tests only; the user, API clients and tokens every
app's tests share are in backend/conftest.py.
"""

import pytest


@pytest.fixture
def open_registration(settings):
    """Turn registration on, as KEEL_ALLOW_REGISTRATION=1 does."""
    settings.KEEL = {**settings.KEEL, "ALLOW_REGISTRATION": True}


class DeferredJobs:
    """
    The jobs deferred into Procrastinate's table during a test, and a way to run
    them in the test's own thread and transaction (a worker, in another
    connection, would not see the test's uncommitted rows).
    """

    def __init__(self):
        self.ran: set[int] = set()

    def pending(self):
        from procrastinate.contrib.django.models import ProcrastinateJob

        return [
            job
            for job in ProcrastinateJob.objects.filter(status="todo").order_by("id")
            if job.id not in self.ran
        ]

    def names(self):
        return [job.task_name for job in self.pending()]

    def run(self):
        """Run every pending job once, as the worker would; return how many."""
        from procrastinate.contrib.django import app

        jobs = self.pending()
        for job in jobs:
            self.ran.add(job.id)
            app.tasks[job.task_name](**job.args)
        return len(jobs)


@pytest.fixture
def jobs(db):
    return DeferredJobs()


@pytest.fixture
def frontend(settings):
    settings.KEEL = {**settings.KEEL, "FRONTEND_URL": "https://app.example.com"}
    return "https://app.example.com"
