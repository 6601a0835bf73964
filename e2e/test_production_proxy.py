"""production: the proxy in front, TLS, whole requests, the client's address.

bin/serve (granian) hands a request to a worker thread before its body has
arrived, and waits for the body without a deadline: a few clients sending a
byte a second hold every thread. The control case shows that on a backend
reached directly; through the proxy, which reads each body whole before
passing it on, the same attack leaves /healthz and /api/auth/me/ answering.
"""

import json
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from e2e.http import HTTPS, Endpoint, request
from e2e.shell import exec_in, podman
from e2e.stacks import Stack
from e2e.timings import Timings
from testing.slow_body import Probe, Target, latency, probe, under_attack

ATTACKERS = 16
# The control, straight at a replica (2 workers of 4 threads). Each worker
# accepts what it wins of the connections, about half, so 16 would leave a
# worker fewer than 4 about 2 % of the time, 32 about 3 times in 10^6.
# Each claims its own address: a replica trusts one proxy hop, and at 10 a
# minute per address its login limit would refuse the rest before their
# bodies, freeing their threads (what failed CI once).
DIRECT_ATTACKERS = 32
# How long the probes run while the attack holds its connections.
ATTACK_SECONDS = 12
PROBE_TIMEOUT = 5.0
PROBES = [("/healthz", {}), ("/api/auth/me/", HTTPS)]
CERTIFICATE = "/tmp/keel-proxy/tls/tls.crt"  # noqa: S108 (the container's /tmp)


def target(endpoint: Endpoint) -> Target:
    """Return the slow-body attack's target for endpoint (testing.slow_body)."""
    return Target(endpoint.port, tls=endpoint.tls, host=endpoint.host)


def attacked(
    endpoint: Endpoint, seconds: float, attackers: int, *, forged: bool = False
) -> list[Probe]:
    """Return /healthz's and /me's probes while attackers slow bodies go on."""
    taken, _ = under_attack(
        target(endpoint),
        PROBES,
        attackers=attackers,
        seconds=seconds,
        probe_timeout=PROBE_TIMEOUT,
        close_wait=1,  # how each attacker's connection ends is not checked here
        forged_addresses=forged,
    )
    return taken


def summary(taken: list[Probe], path: str) -> str:
    figures = latency(taken, path)
    return (
        f"{path} {figures['answered']}/{figures['probes']} answered, "
        f"p50 {figures['p50_ms']:.0f} ms, max {figures['max_ms']:.0f} ms"
    )


@dataclass(frozen=True)
class Attack:
    quiet: list[Probe]
    through_proxy: list[Probe]
    direct: list[Probe]
    stalled_cut_after: float | None


def stalled_body(endpoint: Endpoint) -> float | None:
    """Return the seconds until the proxy drops a body that stopped coming."""
    started = time.monotonic()
    with target(endpoint).connect(timeout=30) as sock:
        sock.sendall(
            b"POST /api/auth/token/ HTTP/1.1\r\n"
            + f"Host: 127.0.0.1:{endpoint.port}\r\n".encode()
            + b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
        )
        try:
            while sock.recv(4096):
                pass
        except TimeoutError:
            return None
        except OSError:
            pass
    return time.monotonic() - started


@pytest.fixture(scope="module")
def attack(production: Stack, timings: Timings) -> Attack:
    proxy = production.endpoint
    (first, *_) = production.replicas("backend")
    backend = Endpoint(8000, production.address(first))

    quiet = [
        probe(target(proxy), path, headers, PROBE_TIMEOUT)
        for _ in range(5)
        for path, headers in PROBES
    ]
    stalled: list[float | None] = []
    watcher = threading.Thread(target=lambda: stalled.append(stalled_body(proxy)))
    watcher.start()
    through_proxy = attacked(proxy, ATTACK_SECONDS, ATTACKERS)
    watcher.join(timeout=60)
    # The control: the attack on one replica, reached without the proxy.
    direct = attacked(backend, ATTACK_SECONDS, DIRECT_ATTACKERS, forged=True)
    result = Attack(quiet, through_proxy, direct, stalled[0] if stalled else None)
    for name, taken in (
        ("quiet, through the proxy", quiet),
        (f"{ATTACKERS} slow bodies at 1 byte/s, through the proxy", through_proxy),
        (
            f"{DIRECT_ATTACKERS} slow bodies at 1 byte/s, straight at a replica",
            direct,
        ),
    ):
        timings.figure(
            f"{name}: {summary(taken, '/healthz')}; {summary(taken, '/api/auth/me/')}"
        )
    if result.stalled_cut_after is not None:
        timings.figure(
            f"a body that stopped coming: cut by the proxy after "
            f"{result.stalled_cut_after:.1f} s"
        )
    return result


def test_slow_bodies_through_the_proxy_leave_healthz_and_me_answering(
    attack: Attack,
) -> None:
    statuses = {(p.path, p.status) for p in attack.through_proxy}
    assert statuses == {("/healthz", 200), ("/api/auth/me/", 401)}
    assert len(attack.through_proxy) >= 10


def test_the_same_attack_straight_at_a_replica_times_its_probes_out(
    attack: Attack,
) -> None:
    # The control case: without it the test above would prove nothing.
    unanswered = [p for p in attack.direct if p.status is None]
    assert len(unanswered) >= len(attack.direct) / 2, attack.direct


def test_a_body_that_stops_coming_is_cut_after_the_body_timeout(
    attack: Attack,
) -> None:
    assert attack.stalled_cut_after is not None
    # client_body_timeout is 10 s; the reading side allows for scheduling.
    assert 9 < attack.stalled_cut_after < 20


@pytest.fixture(scope="module")
def certificate(production: Stack, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return the proxy's self-signed certificate, copied out of its container."""
    pem = exec_in(production.container("proxy"), "cat", CERTIFICATE).stdout
    path = tmp_path_factory.mktemp("proxy") / "tls.crt"
    path.write_text(pem)
    return path


def test_https_verifies_against_the_self_signed_certificate(
    production: Stack, certificate: Path
) -> None:
    checked = Endpoint(production.port, tls=True, cafile=str(certificate))
    assert request(checked, "GET", "/healthz").status == 200


def test_https_responses_carry_hsts_and_secure_cookies(production: Stack) -> None:
    page = request(production.endpoint, "GET", "/admin/login/")
    assert page.status == 200
    assert page.headers["Strict-Transport-Security"] == (
        "max-age=31536000; includeSubDomains"
    )
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    cookie = page.headers["Set-Cookie"]
    assert "csrftoken=" in cookie and "Secure" in cookie


def test_only_the_proxy_publishes_a_port(production: Stack) -> None:
    names = podman(
        "ps", "--format", "{{.Names}}",
        "--filter", f"label=io.podman.compose.project={production.project}",
    ).split()  # fmt: skip
    published = [name for name in names if podman("port", name, check=False)]
    assert published == [production.container("proxy")]


@pytest.fixture(scope="module")
def throttled_as(production: Stack) -> dict[str, object]:
    """Return what a failed login through the proxy was counted under."""
    marker = secrets.token_hex(6)
    forged = "203.0.113.7"
    response = request(
        production.endpoint, "POST", f"/api/auth/token/?e2e={marker}",
        body=json.dumps(
            {"username": f"e2e-nobody-{marker}", "password": "wrong"}
        ).encode(),
        headers={"Content-Type": "application/json", "X-Forwarded-For": forged},
    )  # fmt: skip
    keys = exec_in(
        production.container("redis"), "sh", "-c",
        'REDISCLI_AUTH="$(cat "$REDIS_PASSWORD_FILE")" '
        'redis-cli --scan --pattern "*throttle_login_ip_*"',
    ).stdout.split()  # fmt: skip
    logged = [
        line
        for line in podman("logs", production.container("proxy")).splitlines()
        if marker in line
    ]
    return {
        "status": response.status,
        "keys": keys,
        "seen_by_proxy": logged[0].split()[0] if logged else None,
        "proxy": production.address(production.container("proxy")),
        "forged": forged,
    }


def test_the_throttle_counts_the_address_the_proxy_saw(
    throttled_as: dict[str, object],
) -> None:
    assert throttled_as["status"] == 401
    client = throttled_as["seen_by_proxy"]
    assert client, "the proxy logged no line for the request"
    keys = throttled_as["keys"]
    assert isinstance(keys, list)
    assert [key for key in keys if key.endswith(f"throttle_login_ip_{client}")]


def test_neither_the_proxys_address_nor_a_forged_one_is_counted(
    throttled_as: dict[str, object],
) -> None:
    keys = throttled_as["keys"]
    assert isinstance(keys, list) and keys
    for address in (throttled_as["proxy"], throttled_as["forged"]):
        assert not [key for key in keys if key.endswith(f"_{address}")]
