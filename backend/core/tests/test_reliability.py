"""
The worker and its mail under failure, measured: make security runs these
(marker ``slow``), as they take minutes; make test does not.

Each runs bin/worker for real on the test database, mailing through a real
SMTP server on loopback (aiosmtpd), with resets requested over HTTP from a
live server. The figures go into the test's report (record_property) for
scripts/security.py's table.
"""

import io
import json
import re
import signal
import statistics
import time
from collections import Counter

import pytest

from django.core.management import CommandError, call_command

from accounts.tests.factories import RESET_URL, make_user
from testing.worker import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

HIGH_RATES = {"email_ip": "100000/min", "email_address": "100000/min"}


@pytest.fixture(autouse=True)
def _unthrottled(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            **HIGH_RATES,
        },
    }


def request_reset(live, email):
    status, _, body = live.request(
        "POST",
        RESET_URL,
        json.dumps({"email": email}),
        {"Content-Type": "application/json"},
    )
    assert status == 202, body
    return body


def worker_alive():
    try:
        call_command("probe_worker", stdout=io.StringIO())
    except CommandError:
        return False
    return True


def reset_jobs():
    from procrastinate.contrib.django.models import ProcrastinateJob

    return ProcrastinateJob.objects.filter(task_name="accounts.send_password_reset")


def test_reset_takes_the_same_time_for_a_known_and_an_unknown_address(
    live, record_property
):
    for n in range(30):
        make_user(f"user{n}")
    for n in range(5):  # warm-up: connections, caches
        request_reset(live, f"warm{n}@example.com")
    timings: dict[str, list[float]] = {"known": [], "unknown": []}
    bodies = set()
    for n in range(30):
        pair = [
            ("known", f"user{n}@example.com"),
            ("unknown", f"nobody{n}@example.com"),
        ]
        # Interleaved, each first in turn, so that drift hits both alike.
        for kind, email in pair if n % 2 else reversed(pair):
            started = time.perf_counter()
            bodies.add(request_reset(live, email))
            timings[kind].append(time.perf_counter() - started)
    assert len(bodies) == 1
    known = statistics.median(timings["known"]) * 1000
    unknown = statistics.median(timings["unknown"]) * 1000
    record_property("known_ms", f"{known:.2f}")
    record_property("unknown_ms", f"{unknown:.2f}")
    # The medians are the figure; the guarantee is that the request does the
    # same work either way, the same statements on the same tables, checked
    # without a clock (a timed bound fails with the machine's load).
    assert statement_shapes("user1@example.com") == statement_shapes(
        "nobody1@example.com"
    )


def statement_shapes(email):
    """Return the SQL a reset request for email runs, its literals blanked."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    with CaptureQueriesContext(connection) as queries:
        response = APIClient().post(RESET_URL, {"email": email}, format="json")
    assert response.status_code == 202
    literal = re.compile(r"'(?:[^']|'')*'|\b\d+(?:\.\d+)?\b")
    return [literal.sub("?", query["sql"]) for query in queries.captured_queries]


def test_reset_to_message_received_through_a_real_worker(
    live, smtp_server, start_worker, record_property
):
    count = 20
    for n in range(count):
        make_user(f"user{n}")
    worker = start_worker()
    assert wait_until(worker_alive, timeout=30), worker.output()
    latencies = []
    for n in range(count):
        started = time.monotonic()
        request_reset(live, f"user{n}@example.com")
        received = smtp_server.inbox.wait_for(n + 1, timeout=30)[n]
        latencies.append(received.at - started)
    p50 = statistics.median(latencies) * 1000
    record_property("p50_ms", f"{p50:.0f}")
    record_property("max_ms", f"{max(latencies) * 1000:.0f}")
    record_property("messages", count)


def test_smtp_down_for_30_s_under_100_resets_delivers_each_once(
    live, smtp_server, start_worker, record_property
):
    count = 100
    for n in range(count):
        make_user(f"user{n}")
    worker = start_worker()
    assert wait_until(worker_alive, timeout=30), worker.output()
    smtp_server.stop()
    down_at = time.monotonic()
    for n in range(count):
        request_reset(live, f"user{n}@example.com")
    time.sleep(max(0.0, 30 - (time.monotonic() - down_at)))
    smtp_server.start()
    back_at = time.monotonic()
    received = smtp_server.inbox.wait_for(count, timeout=300)
    drained = max(r.at for r in received) - back_at
    time.sleep(5)  # anything sent twice would arrive by now
    per_address = Counter(r.to[0] for r in smtp_server.inbox.received)
    twice = {address: n for address, n in per_address.items() if n > 1}
    assert not twice, (twice, worker.output()[-6000:])
    assert set(per_address) == {f"user{n}@example.com" for n in range(count)}
    assert set(per_address.values()) == {1}, "a message was delivered twice"
    assert not reset_jobs().exists(), list(reset_jobs().values("status", "attempts"))
    record_property("delivered", len(per_address))
    record_property("drained_s", f"{drained:.1f}")


def test_a_worker_killed_mid_job_has_the_job_run_again_once(
    live, smtp_server, start_worker, record_property
):
    make_user()
    smtp_server.inbox.delay = 3  # the job is mid-send for 3 s (EMAIL_TIMEOUT is 5)
    first = start_worker()
    assert wait_until(worker_alive, timeout=30), first.output()
    request_reset(live, "alice@example.com")
    # Killed while the server holds the message, before it says 250.
    assert wait_until(lambda: smtp_server.inbox.started == 1, timeout=20)
    first.signal(signal.SIGKILL)
    killed_at = time.monotonic()
    first.wait(timeout=10)
    second = start_worker()
    # The job is retried once the killed worker's heartbeat is 30 s old.
    try:
        (message,) = smtp_server.inbox.wait_for(1, timeout=150)
    except TimeoutError as error:
        raise AssertionError(second.output()[-8000:]) from error
    rerun_after = message.at - killed_at
    assert wait_until(lambda: not reset_jobs().exists(), timeout=10)
    time.sleep(3)
    # Two runs: the killed one, never acknowledged, and one more, delivered.
    runs = (smtp_server.inbox.started, len(smtp_server.inbox.received))
    assert runs == (2, 1), runs
    record_property("rerun_after_s", f"{rerun_after:.0f}")
    second.stop()
