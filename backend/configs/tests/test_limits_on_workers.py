"""
The throttles' documented limits on the production server as make prod,
Quadlet and kube run it: bin/serve with two worker processes and no Redis, so
every count is kept in PostgreSQL (accounts.counts).

Each limit gets three times its number of attempts at once, each on a
connection of its own, and exactly the limit passes: per-worker counts would
let twice as many through. Which worker answered each request is read from
the Prometheus files each worker writes under its own pid
(PROMETHEUS_MULTIPROC_DIR), so every burst is known to have reached both.
It runs in make security (marker ``slow``).
"""

import json
import threading
from collections import Counter
from pathlib import Path

import pytest
from prometheus_client.mmap_dict import MmapedDict

from accounts.models import User
from accounts.tests.factories import ME_URL, REGISTER_URL, TOKEN_URL
from configs.tests.test_server import start_production_server, stop, wait_for
from testing.http import LiveClient

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PASSWORD = "a long limits-on-workers passphrase"
# The defaults the README documents for KEEL_LOGIN_USERNAME_THROTTLE_RATE,
# KEEL_LOGIN_IP_THROTTLE_RATE and KEEL_REGISTER_THROTTLE_RATE.
DOCUMENTED = {"login_username": "5/min", "login_ip": "10/min", "register": "10/hour"}


@pytest.fixture
def server(tmp_path, settings):
    # The server loads settings from the same environment as this process,
    # less REDIS_URL: its rates are these, which must be the documented ones.
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    assert {scope: rates[scope] for scope in DOCUMENTED} == DOCUMENTED
    metrics = tmp_path / "metrics"
    server, port, _ = start_production_server(
        tmp_path,
        settings,
        {"alice": PASSWORD},
        REDIS_URL="",
        KEEL_ALLOW_REGISTRATION="1",
        # Long enough for a burst's admitted checks to run in turn on a loaded
        # machine: a limit is what passes the throttle, not what the queue does.
        KEEL_PASSWORD_CHECK_WAIT="30",
        KEEL_METRICS="1",
        KEEL_METRICS_TOKEN="limits-on-workers-" + "m" * 32,
        PROMETHEUS_MULTIPROC_DIR=str(metrics),
    )
    try:
        both_workers_answer(port, metrics)
        yield port, metrics
    finally:
        stop(server)


def limit(scope):
    return int(DOCUMENTED[scope].split("/")[0])


def answered_by_worker(metrics: Path) -> Counter[int]:
    """Return how many requests each worker (by pid) has answered so far."""
    answered: Counter[int] = Counter()
    for path in metrics.glob("counter_*.db"):
        pid = int(path.stem.removeprefix("counter_"))
        for key, value, _timestamp, _position in MmapedDict.read_all_values_from_file(
            str(path)
        ):
            if json.loads(key)[1] == "keel_http_requests_total":
                answered[pid] += int(value)
    return answered


def both_workers_answer(port, metrics):
    """Wait until each worker has answered a request: both have started."""

    def answered():
        LiveClient.on_port(port, timeout=15).request("GET", ME_URL)
        return len(answered_by_worker(metrics)) == 2

    wait_for(answered, "both workers to answer", timeout=60)


def burst(port, metrics, attempts):
    """
    Send attempts, (source address, path, body) triples, all at once, each on
    a connection of its own; return their statuses by count and the workers'
    shares of them.
    """
    before = answered_by_worker(metrics)
    start = threading.Barrier(len(attempts))
    statuses: list[int] = []

    def one(source, path, body):
        client = LiveClient.on_port(port, timeout=120, source=source)
        start.wait()
        statuses.append(client.post_json(path, body)[0])

    threads = [threading.Thread(target=one, args=attempt) for attempt in attempts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    shares = answered_by_worker(metrics) - before
    return Counter(statuses), sorted(shares.values())


def test_each_limit_is_exact_across_two_workers_without_redis(server, record_property):
    port, metrics = server
    username, ip, register = (
        limit("login_username"),
        limit("login_ip"),
        limit("register"),
    )

    # Wrong passwords for one username, each from an address of its own.
    by_username, username_shares = burst(
        port,
        metrics,
        [
            (f"127.0.5.{n}", TOKEN_URL, {"username": "alice", "password": "wrong"})
            for n in range(1, 3 * username + 1)
        ],
    )
    # Wrong passwords from one address, each for a username of its own. One
    # address has at most one check running and one waiting per worker, so
    # some that pass the throttle are refused a check (503): counted alike.
    by_ip, ip_shares = burst(
        port,
        metrics,
        [
            ("127.0.6.1", TOKEN_URL, {"username": f"user{n}", "password": "wrong"})
            for n in range(3 * ip)
        ],
    )
    registrations, register_shares = burst(
        port,
        metrics,
        [
            (
                "127.0.7.1",
                REGISTER_URL,
                {
                    "username": f"newcomer{n}",
                    "email": f"newcomer{n}@example.com",
                    "password": PASSWORD,
                },
            )
            for n in range(3 * register)
        ],
    )
    figures = {
        "per_username": dict(by_username),
        "per_ip": dict(by_ip),
        "registrations": dict(registrations),
        "workers_shares": {
            "per_username": username_shares,
            "per_ip": ip_shares,
            "registrations": register_shares,
        },
    }
    for name, value in figures.items():
        record_property(name, value)
    print(figures)

    assert by_username == {401: username, 429: 2 * username}, figures
    assert by_ip[429] == 2 * ip, figures
    assert by_ip[401] + by_ip[503] == ip, figures
    assert registrations == {201: register, 429: 2 * register}, figures
    assert User.objects.filter(username__startswith="newcomer").count() == register
    # Both workers answered part of every burst, so each limit held across them.
    for shares in figures["workers_shares"].values():
        assert len(shares) == 2 and min(shares) > 0, figures
