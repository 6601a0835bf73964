"""
bin/worker for real: a child process on the test database, mailing through a
real SMTP server on loopback. The heavier measurements (an SMTP outage under
100 resets, a worker killed mid-job, delivery times) are scripts/reliability.py.
"""

import json
import signal

import pytest

from django.core.management import CommandError, call_command

from accounts.tests.factories import RESET_CONFIRM_URL, RESET_URL, make_user
from testing.worker import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def post(live, path, body):
    return live.request(
        "POST", path, json.dumps(body), {"Content-Type": "application/json"}
    )


def job_statuses():
    from procrastinate.contrib.django.models import ProcrastinateJob

    return list(
        ProcrastinateJob.objects.filter(
            task_name="accounts.send_password_reset"
        ).values_list("status", flat=True)
    )


def worker_alive():
    try:
        call_command("probe_worker")
    except CommandError:
        return False
    return True


def test_a_reset_mail_sent_by_the_worker_survives_sigterm_and_its_link_works(
    live, smtp_server, start_worker
):
    make_user()
    # The server takes a second to accept the message, so that SIGTERM comes
    # while the job is in flight.
    smtp_server.inbox.delay = 1
    worker = start_worker()
    assert wait_until(worker_alive, timeout=20), worker.output()
    status, _, _ = post(live, RESET_URL, {"email": "alice@example.com"})
    assert status == 202
    assert wait_until(lambda: job_statuses() == ["doing"], timeout=10)
    worker.signal(signal.SIGTERM)
    assert worker.wait(timeout=20) == 0, worker.output()
    # The job finished before the worker exited: one message, the job done
    # (and deleted), the worker's heartbeat gone.
    (received,) = smtp_server.inbox.received
    assert job_statuses() == []
    assert not worker_alive()

    assert received.to == ["alice@example.com"]
    assert received.message.get_body(preferencelist=("html",)) is not None
    link = next(w for w in received.text().split() if "/reset-password?" in w)
    assert link.startswith("https://app.example.com/reset-password?uid=")
    query = dict(part.split("=", 1) for part in link.split("?", 1)[1].split("&"))
    status, _, body = post(
        live, RESET_CONFIRM_URL, {**query, "new_password": "a brand new passphrase"}
    )
    assert status == 204, body


def test_probe_worker_fails_without_a_worker():
    with pytest.raises(CommandError, match="no worker heartbeat"):
        call_command("probe_worker")
