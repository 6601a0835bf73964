"""production: the database down and back, the backend recovering on its own."""

import time
from dataclasses import dataclass

import pytest

from e2e.http import Endpoint, status
from e2e.shell import TimedOut, inspect, run, wait_until
from e2e.stacks import Stack
from e2e.timings import Timings

# How long a worker reuses its /readyz answer (core.health.READINESS_CACHE_SECONDS).
READYZ_REUSE_SECONDS = 1.0


def healthcheck_passes(container: str) -> bool:
    return run("podman", "healthcheck", "run", container, check=False).returncode == 0


def readyz_once_its_cache_expires(port: Endpoint) -> int | str:
    """Return /readyz's status once no replica answers from its cache.

    Each worker reuses its /readyz answer for up to a second (the healthcheck
    has just asked), so the outage shows once that has passed everywhere.
    """
    deadline = time.monotonic() + 5
    answer = status(port, "/readyz")
    while answer == 200 and time.monotonic() < deadline:
        time.sleep(0.2)
        answer = status(port, "/readyz")
    return answer


@dataclass(frozen=True)
class Outage:
    """What was seen before, during and after the database's outage."""

    healthy_before: bool
    admin_during: int | str
    admin_seconds: float
    readyz_during: int | str
    healthz_during: int | str
    healthy_during: bool
    recovered_after: float | None
    db_restarted: bool
    backend_before: str
    backend_after: str


@pytest.fixture(scope="module")
def outage(production: Stack, signed_in: dict[str, str]) -> Outage:
    """Stop the database, look at the backend, start it again; return what was seen.

    Each observation is recorded rather than asserted here, so that every
    check below reports on its own.
    """
    port = production.endpoint
    backend, db = production.container("backend"), production.container("db")
    backend_template = "{{.State.StartedAt}} {{.RestartCount}}"
    backend_before = inspect(backend, backend_template)
    db_started = inspect(db, "{{.State.StartedAt}}")
    healthy_before = healthcheck_passes(backend)
    asked = time.monotonic()
    production.compose("stop", "db")
    try:
        began = time.monotonic()
        admin_during = status(port, "/admin/", signed_in)
        admin_seconds = time.monotonic() - began
        readyz_during = readyz_once_its_cache_expires(port)
        healthz_during = status(port, "/healthz")
        # The healthcheck asked this replica just before the stop, and the
        # worker that answered reuses that answer for a second: /readyz above
        # may have been answered by another replica, so wait that out here.
        time.sleep(max(0.0, asked + READYZ_REUSE_SECONDS + 0.5 - time.monotonic()))
        healthy_during = healthcheck_passes(backend)
    finally:
        production.compose("start", "db")
    try:
        recovered_after: float | None = wait_until(
            "the admin to answer again after the database came back",
            lambda: status(port, "/admin/", signed_in) == 200,
            timeout=90,
        )
    except TimedOut:
        recovered_after = None
    return Outage(
        healthy_before=healthy_before,
        admin_during=admin_during,
        admin_seconds=admin_seconds,
        readyz_during=readyz_during,
        healthz_during=healthz_during,
        healthy_during=healthy_during,
        recovered_after=recovered_after,
        db_restarted=inspect(db, "{{.State.StartedAt}}") != db_started,
        backend_before=backend_before,
        backend_after=inspect(backend, backend_template),
    )


def test_healthcheck_passes_with_the_database_up(outage: Outage) -> None:
    assert outage.healthy_before


def test_admin_fails_fast_without_the_database(outage: Outage) -> None:
    assert outage.admin_during == 500
    # keel gives up on the database after DB_CONNECT_TIMEOUT (3 s by default);
    # a hang would run into the client's 15 s.
    assert outage.admin_seconds < 10


def test_readyz_is_503_and_healthz_200_without_the_database(outage: Outage) -> None:
    assert (outage.readyz_during, outage.healthz_during) == (503, 200)


def test_healthcheck_fails_without_the_database(outage: Outage) -> None:
    assert not outage.healthy_during


def test_database_restarted(outage: Outage) -> None:
    assert outage.db_restarted


def test_admin_answers_again_once_the_database_is_back(
    outage: Outage, timings: Timings
) -> None:
    assert outage.recovered_after is not None, "no answer 90 s after the restart"
    timings.figure(
        f"backend recovered {outage.recovered_after:.1f} s after the database "
        "was started again"
    )


def test_backend_recovered_without_a_restart_of_its_own(outage: Outage) -> None:
    assert outage.backend_after == outage.backend_before
    assert outage.backend_before.endswith(" 0")
