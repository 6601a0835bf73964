"""production: the backend stopped by SIGTERM and started again."""

import time
from dataclasses import dataclass

import pytest

from e2e.http import answers
from e2e.shell import TimedOut, inspect, wait_until
from e2e.stacks import Stack
from e2e.timings import Timings


@dataclass(frozen=True)
class Restart:
    exit_code: str
    ready_after: float | None


@pytest.fixture(scope="module")
def restart(production: Stack) -> Restart:
    """Stop the backend (SIGTERM), start it; return its exit code and time to ready."""
    backend = production.container("backend")
    production.compose("stop", "backend")
    exit_code = inspect(backend, "{{.State.ExitCode}}")
    started = time.monotonic()
    production.compose("start", "backend")
    try:
        wait_until(
            "the restarted backend", answers(production.endpoint, "/readyz", 200), 60
        )
        ready_after: float | None = time.monotonic() - started
    except TimedOut:
        ready_after = None
    return Restart(exit_code, ready_after)


def test_sigterm_stops_the_server_cleanly(restart: Restart) -> None:
    assert restart.exit_code == "0", "killed, or exited with an error, on SIGTERM"


def test_restarted_backend_is_ready(restart: Restart, timings: Timings) -> None:
    assert restart.ready_after is not None, "/readyz not 200 within 60 s"
    timings.figure(
        f"backend container start to /readyz 200, database up: "
        f"{restart.ready_after:.1f} s"
    )
