"""
Logins under a login flood, against the production server (bin/serve: two
workers of four threads) with production settings and real PBKDF2.

Each client has an address of its own on loopback (127.0.0.2, 127.0.0.3...:
on Linux all of 127/8 is this machine), so the server sees real, distinct
socket addresses with DJANGO_NUM_PROXIES=0, as behind no proxy. The flood is
16 keep-alive connections from one address logging in to an account of the
flooder's own (mallory), with wrong passwords or with the right one; the
victim logs in to her account every 0.5 s from another address, while a third
GETs /api/auth/me/ every 25 ms. The one-address flood runs once more through
keel's proxy (deploy/proxy/nginx.conf under Debian's nginx, testing/proxy.py),
which refuses most of it before the backend. It runs in make security (marker
``load``).
"""

import json
import os
import statistics
import threading
import time

import pytest

from accounts.tests.factories import make_user
from configs.tests.test_server import start_production_server, stop
from testing.flood import Flood
from testing.http import LiveClient
from testing.proxy import HostProxy

pytestmark = [pytest.mark.load, pytest.mark.django_db(transaction=True)]

SECONDS = float(os.environ.get("KEEL_LOGIN_FLOOD_SECONDS", "15"))
PASSWORD = "a long login-flood passphrase"
TOKEN_URL, ME_URL = "/api/auth/token/", "/api/auth/me/"
FLOODER, VICTIM, WATCHER = "127.0.0.2", "127.0.0.3", "127.0.0.4"


def start(tmp_path, settings, **environment):
    """Start bin/serve as in production, with victim's and mallory's accounts."""
    users = {"victim": PASSWORD, "mallory": PASSWORD}
    return start_production_server(tmp_path, settings, users, **environment)[:2]


@pytest.fixture
def server(tmp_path, settings):
    """Return a client of bin/serve, with no proxy in front."""
    server, port = start(tmp_path, settings)
    try:
        yield LiveClient.on_port(port, timeout=15)
    finally:
        stop(server)


@pytest.fixture
def proxied_server(tmp_path, settings):
    """Return a client of keel's proxy in front of bin/serve, and the proxy."""
    server, port = start(tmp_path, settings, DJANGO_NUM_PROXIES="1")
    try:
        with HostProxy(f"127.0.0.1:{port}") as proxy:
            yield LiveClient.on_port(proxy.https_port, timeout=15, tls=True), proxy
    finally:
        stop(server)


def client_from(target, source):
    """Return a client like target, connecting from the address source."""
    return LiveClient.on_port(
        target.port, timeout=target.timeout, source=source, tls=target.tls
    )


def login(target, source, username="victim", password=PASSWORD):
    return client_from(target, source).post_json(
        TOKEN_URL, {"username": username, "password": password}
    )


def p99(samples):
    return statistics.quantiles(samples, n=100)[98]


def victim_and_watcher(target, token, seconds):
    """
    Return the victim's login statuses (one every 0.5 s) and times in ms, and
    /me's latencies in ms (one every 25 ms, on one keep-alive connection), over
    seconds.
    """
    statuses, logins, latencies = [], [], []
    done = threading.Event()

    def victim():
        start = time.monotonic()
        for number in range(int(seconds / 0.5)):
            began = time.perf_counter()
            statuses.append(login(target, VICTIM)[0])
            logins.append((time.perf_counter() - began) * 1000)
            time.sleep(max(start + (number + 1) * 0.5 - time.monotonic(), 0))
        done.set()

    def watcher():
        me = client_from(target, WATCHER).connect()
        headers = {"Authorization": f"Bearer {token}"}
        while not done.is_set():
            began = time.perf_counter()
            me.request("GET", ME_URL, headers=headers)
            response = me.getresponse()
            response.read()
            latencies.append((time.perf_counter() - began) * 1000)
            assert response.status == 200
            time.sleep(0.025)
        me.close()

    threads = [threading.Thread(target=victim), threading.Thread(target=watcher)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses, logins, latencies


def measure(target, record_property, flood_body, sources):
    """Run quiet, then under the flood; record and return the figures."""
    status, _, body = login(target, WATCHER)
    assert status == 200, body
    token = json.loads(body)["access"]
    _, quiet_logins, quiet = victim_and_watcher(target, token, SECONDS)
    with Flood(
        target.port,
        TOKEN_URL,
        flood_body,
        connections=16,
        source=",".join(sources),
        scheme="https" if target.tls else "http",
    ) as flood:
        time.sleep(1)  # the flood at full strength before the victim starts
        statuses, logins, loaded = victim_and_watcher(target, token, SECONDS)
        flood_counts = flood.stop()
    share = statuses.count(200) / len(statuses)
    figures = {
        "login_share": round(share, 3),
        "logins": len(statuses),
        "victim_statuses": dict(
            sorted((str(s), statuses.count(s)) for s in set(statuses))
        ),
        "login_p50_quiet_ms": round(statistics.median(quiet_logins)),
        "login_p50_flood_ms": round(statistics.median(logins)),
        "login_max_flood_ms": round(max(logins)),
        "me_p99_quiet_ms": round(p99(quiet), 1),
        "me_p99_flood_ms": round(p99(loaded), 1),
        "me_p99_ratio": round(p99(loaded) / p99(quiet), 2),
        "me_p50_quiet_ms": round(statistics.median(quiet), 1),
        "me_p50_flood_ms": round(statistics.median(loaded), 1),
        "flood": flood_counts,
    }
    for name, value in figures.items():
        record_property(name, value)
    print(figures)
    return figures


@pytest.mark.parametrize("password", ["wrong", "right"])
def test_a_one_address_login_flood_leaves_others_logging_in(
    server, record_property, password
):
    flood_body = {
        "username": "mallory",
        "password": PASSWORD if password == "right" else "wrong " + PASSWORD,
    }
    figures = measure(server, record_property, flood_body, [FLOODER])
    assert figures["login_share"] >= 0.9, figures
    # /me's p99 against quiet (target: under 5x) is a speed figure, reported
    # in make security's table and never asserted: on two shared cores a
    # timed assertion fails with the machine's load, not with keel.


def test_a_one_address_login_flood_through_the_proxy(proxied_server, record_property):
    # Right passwords, the worst case for the backend: each one it sees is a
    # password check. nginx lets 5 a second through, and keel's throttles the
    # rest of the way.
    target, proxy = proxied_server
    flood_body = {"username": "mallory", "password": PASSWORD}
    figures = measure(target, record_property, flood_body, [FLOODER])
    # nginx's log: FLOODER's logins, and those of them the backend answered.
    floods = [
        line
        for line in proxy.log.read_text().splitlines()
        if line.startswith(f'{FLOODER} "POST {TOKEN_URL} ')
    ]
    backend = sum("upstream=-" not in line for line in floods)
    record_property("flood_to_backend", f"{backend} of {len(floods)}")
    assert figures["login_share"] >= 0.9, figures
    assert backend < len(floods) / 100, (backend, len(floods))


def test_a_sixteen_address_login_flood_is_measured(server, record_property):
    # No target: one connection per address is under every address's cap, so
    # the flood shares the password checks with the victim, round-robin. Right
    # passwords, the worst case: wrong ones would soon lock mallory's username.
    sources = [f"127.0.2.{number}" for number in range(1, 17)]
    flood_body = {"username": "mallory", "password": PASSWORD}
    figures = measure(server, record_property, flood_body, sources)
    assert figures["logins"] > 0


def simultaneous_logins(target, logins):
    """Return the sorted statuses of logins, (address, username) pairs, at once."""
    start = threading.Barrier(len(logins))
    statuses = []

    def one(source, username):
        start.wait()
        statuses.append(login(target, source, username)[0])

    threads = [threading.Thread(target=one, args=pair) for pair in logins]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(statuses)


def test_eight_simultaneous_logins_all_succeed(server, record_property):
    # Eight people, each to an account of their own: eight logins at once to
    # one account would pass its limit of 5 a minute, counted before the check.
    members = [f"member{n}" for n in range(1, 9)]
    for username in members:
        make_user(username=username, password=PASSWORD)
    statuses = simultaneous_logins(
        server, [(f"127.0.3.{n}", username) for n, username in enumerate(members, 1)]
    )
    record_property("statuses", statuses)
    # From one address (an office behind NAT): it holds one running and one
    # waiting check per worker.
    one_address = simultaneous_logins(
        server, [("127.0.4.1", username) for username in members]
    )
    record_property("one_address_statuses", one_address)
    print({"statuses": statuses, "one_address_statuses": one_address})
    assert statuses == [200] * 8
