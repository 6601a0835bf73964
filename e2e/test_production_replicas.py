"""production: KEEL_REPLICAS backends behind the proxy, each taking requests."""

import secrets
from collections import Counter

import pytest

from e2e.http import request
from e2e.shell import podman
from e2e.stacks import PROD_REPLICAS, Stack
from e2e.timings import Timings

REQUESTS = 30


@pytest.fixture(scope="module")
def served_by(production: Stack, timings: Timings) -> dict[str, int]:
    """Return how many of REQUESTS each replica answered, by container name."""
    marker = secrets.token_hex(6)
    for _ in range(REQUESTS):
        # A connection each: nginx picks an address per request anyway.
        assert request(production.endpoint, "GET", f"/healthz?e2e={marker}").status
    # The proxy's log names the address that answered (upstream=...).
    upstreams = [
        line.rsplit("upstream=", 1)[1].rsplit(":", 1)[0]
        for line in podman("logs", production.container("proxy")).splitlines()
        if marker in line and "upstream=" in line
    ]
    by_address = {
        production.address(name): name for name in production.replicas("backend")
    }
    counts = Counter(by_address.get(address, address) for address in upstreams)
    timings.figure(
        f"{REQUESTS} requests through the proxy over {PROD_REPLICAS} replicas: "
        + ", ".join(f"{counts[name]}" for name in by_address.values())
    )
    return dict(counts)


def test_the_stack_runs_keel_replicas_backends(production: Stack) -> None:
    running = podman(
        "ps", "--format", "{{.Names}}",
        "--filter", f"label=io.podman.compose.project={production.project}",
        "--filter", "label=com.docker.compose.service=backend",
    ).split()  # fmt: skip
    assert len(running) == PROD_REPLICAS


def test_every_replica_answers_some_requests(
    production: Stack, served_by: dict[str, int]
) -> None:
    assert set(served_by) == set(production.replicas("backend"))
    assert sum(served_by.values()) == REQUESTS
