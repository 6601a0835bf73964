"""
The throttles' counts (accounts.counts), in PostgreSQL and in the cache: one
per key, opened by the first attempt, exact under concurrent attempts from
separate connections, pruned once closed; a key found over its limit refused
from the process's memory for a second, uncounted.
"""

import threading
import time

import pytest

from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.db import connection
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from accounts import counts
from accounts.counts import count_attempt, prune_closed_counts, uncount_attempt
from accounts.models import ThrottleCount
from accounts.tests.factories import REGISTER_URL, TOKEN_URL
from accounts.throttles import (
    PasswordGuessIpThrottle,
    PasswordGuessUsernameThrottle,
    RegisterThrottle,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["database", "cache"])
def store(request, settings):
    settings.KEEL = {**settings.KEEL, "THROTTLE_COUNTS": request.param}
    return request.param


def test_attempts_are_counted_until_one_is_taken_back(store):
    counted = [count_attempt(key="k", period=60) for _ in range(3)]
    assert [count for count, _ in counted] == [1, 2, 3]
    uncount_attempt(key="k", closes_at=counted[-1][1], period=60)
    assert count_attempt(key="k", period=60)[0] == 3
    assert count_attempt(key="other", period=60)[0] == 1


def close_count(store, key, closes_at):
    """Close key's count as its period running out would; return when it closed."""
    # As if it had closed two minutes ago: the next then closes a period
    # after it at least, as it would (a test's transaction keeps one now()).
    if store == "cache":
        caches["default"].delete_many([key, f"{key}_opened"])
        return closes_at - 120
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE accounts_throttle_count SET closes_at = now() - interval '2 min'"
            " WHERE key = %s RETURNING extract(epoch FROM closes_at)::float8",
            [key],
        )
        (closed_at,) = cursor.fetchone()
    return closed_at


def test_a_refund_without_the_counts_opening_time_still_applies(settings):
    settings.KEEL = {**settings.KEEL, "THROTTLE_COUNTS": "cache"}
    # Its `_opened` evicted, or not yet written by the attempt that opened it.
    counted = [count_attempt(key="k", period=60) for _ in range(2)]
    caches["default"].delete("k_opened")
    uncount_attempt(key="k", closes_at=counted[-1][1], period=60)
    assert count_attempt(key="k", period=60)[0] == 2


def test_a_refund_after_its_count_closed_takes_nothing_from_the_next(store):
    _, closes_at = count_attempt(key="k", period=60)
    closed_at = close_count(store, "k", closes_at)
    assert count_attempt(key="k", period=60)[0] == 1
    # An attempt of the closed count, refunded late: a right password, say.
    uncount_attempt(key="k", closes_at=closed_at, period=60)
    assert count_attempt(key="k", period=60)[0] == 2


def test_a_count_closes_one_period_after_the_attempt_that_opened_it(store):
    before = time.time()
    _, closes_at = count_attempt(key="k", period=60)
    assert before + 59 <= closes_at <= time.time() + 61
    assert count_attempt(key="k", period=60)[1] == pytest.approx(closes_at, abs=0.01)


def test_the_last_attempt_taken_back_leaves_no_row():
    _, closes_at = count_attempt(key="k", period=60)
    uncount_attempt(key="k", closes_at=closes_at, period=60)
    # More refunds than attempts change nothing.
    uncount_attempt(key="k", closes_at=closes_at, period=60)
    assert not ThrottleCount.objects.exists()


def test_an_attempt_after_the_period_opens_a_new_count(settings):
    for _ in range(3):
        count_attempt(key="k", period=60)
    ThrottleCount.objects.update(closes_at="2000-01-01T00:00:00Z")
    count, closes_at = count_attempt(key="k", period=60)
    assert count == 1
    assert closes_at > time.time() + 59


def test_prune_deletes_closed_counts_only():
    count_attempt(key="closed", period=60)
    count_attempt(key="open", period=60)
    ThrottleCount.objects.filter(key="closed").update(closes_at="2000-01-01T00:00:00Z")
    assert prune_closed_counts() == 1
    assert list(ThrottleCount.objects.values_list("key", flat=True)) == ["open"]


def test_the_prune_job_runs_every_ten_minutes():
    from procrastinate.contrib.django import app

    from accounts import tasks

    count_attempt(key="closed", period=60)
    ThrottleCount.objects.update(closes_at="2000-01-01T00:00:00Z")
    tasks.prune_throttle_counts(timestamp=0)
    assert not ThrottleCount.objects.exists()
    (periodic,) = [
        p
        for p in app.periodic_registry.periodic_tasks.values()
        if p.task.name == "accounts.prune_throttle_counts"
    ]
    assert periodic.cron == "*/10 * * * *"


def post(url, body, address):
    django_request = APIRequestFactory().post(
        url, body, format="json", REMOTE_ADDR=address
    )
    return Request(django_request, parsers=[JSONParser()])


LIMITS = {
    # (throttle, what each attempt sends, the documented limit)
    "per username": (
        PasswordGuessUsernameThrottle,
        lambda n: post(TOKEN_URL, {"username": "alice"}, f"10.1.0.{n}"),
        5,
    ),
    "per IP": (
        PasswordGuessIpThrottle,
        lambda n: post(TOKEN_URL, {"username": f"u{n}"}, "10.2.0.1"),
        10,
    ),
    "registrations per IP": (
        RegisterThrottle,
        lambda n: post(REGISTER_URL, {"username": f"u{n}"}, "10.3.0.1"),
        10,
    ),
}


@pytest.mark.django_db(transaction=True)
def test_concurrent_attempts_on_separate_connections_pass_exactly_the_limit(
    record_property,
):
    """
    As two worker processes do: every thread has its own PostgreSQL connection
    (Django's are per thread) and one of two local-memory caches (Django's
    caches are per thread too), and all attempt at once, each limit three
    times over. A count kept in a worker's own memory lets twice the limit
    through. Then the cost of one committed count is recorded (not asserted).
    """
    attempts = [
        (limit, number) for limit in LIMITS for number in range(LIMITS[limit][2] * 3)
    ]
    start = threading.Barrier(len(attempts))
    allowed: dict[str, list[bool]] = {limit: [] for limit in LIMITS}

    def attempt(limit, number):
        caches["default"] = LocMemCache(f"worker-{number % 2}", {})
        throttle_class, request_for, _documented = LIMITS[limit]
        request = request_for(number)
        try:
            start.wait()
            allowed[limit].append(throttle_class().allow_request(request, APIView()))
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=pair) for pair in attempts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    passed = {limit: results.count(True) for limit, results in allowed.items()}
    assert passed == {limit: LIMITS[limit][2] for limit in LIMITS}
    assert sum(map(len, allowed.values())) == len(attempts)
    record_property(
        "allowed",
        ", ".join(
            f"{limit} {passed[limit]} of {len(allowed[limit])}" for limit in LIMITS
        ),
    )

    rounds = 300
    started = time.perf_counter()
    for number in range(rounds):
        count_attempt(key=f"key-{number % 50}", period=60)
    per_attempt = (time.perf_counter() - started) / rounds
    record_property("upsert_ms", f"{per_attempt * 1000:.3f}")


def over_the_ip_limit():
    """Make 10.2.0.1 pass its limit of 10 once; return its key and the throttle."""
    throttle_class, request_for, limit = LIMITS["per IP"]
    for number in range(limit):
        assert throttle_class().allow_request(request_for(number), APIView())
    throttle = throttle_class()
    assert not throttle.allow_request(request_for(limit), APIView())
    return throttle.key, throttle


def test_a_key_over_its_limit_is_refused_from_memory_uncounted(store):
    key, throttle = over_the_ip_limit()
    # Retry-After is the count's close, a minute off, not the memory's second.
    assert 58 <= throttle.wait() <= 60
    throttle_class, request_for, _ = LIMITS["per IP"]
    for number in range(50):
        refused = throttle_class()
        assert not refused.allow_request(request_for(number), APIView())
        assert refused.wait() == pytest.approx(throttle.wait(), abs=1)
    # The 11th attempt was counted; the 50 after it were not.
    assert count_attempt(key=key, period=60)[0] == 12


def test_a_key_is_counted_again_a_second_after_it_was_found_over(store, monkeypatch):
    key, _ = over_the_ip_limit()
    later = time.time() + counts.OVER_LIMIT_MEMORY + 0.1
    monkeypatch.setattr(time, "time", lambda: later)
    throttle_class, request_for, _ = LIMITS["per IP"]
    assert not throttle_class().allow_request(request_for(0), APIView())
    assert count_attempt(key=key, period=60)[0] == 13


def test_a_refund_in_the_process_forgets_the_key(store):
    key, throttle = over_the_ip_limit()
    for _ in range(2):  # two right passwords: the count is 9
        uncount_attempt(key=key, closes_at=throttle.closes_at, period=60)
    throttle_class, request_for, _ = LIMITS["per IP"]
    assert throttle_class().allow_request(request_for(0), APIView())
    assert not throttle_class().allow_request(request_for(1), APIView())


def test_the_keys_remembered_are_bounded(monkeypatch):
    monkeypatch.setattr(counts, "OVER_LIMIT_KEYS", 3)
    keys = [f"key-{number}" for number in range(10)]
    for key in keys:
        counts.remember_over_limit(key, time.time() + 60)
    remembered = [key for key in keys if counts.remembered_over_limit(key)]
    assert len(remembered) <= 3
    assert "key-9" in remembered
