"""production: /metrics for the token's bearer only, summed across the workers.

Prometheus scrapes a backend on its own address on the stack's network: the
proxy answers /metrics with 404 whatever the token.
"""

import re

import pytest

from e2e.http import HTTPS, Endpoint, Response, request
from e2e.stacks import Stack


def metrics_token(production: Stack) -> str:
    env = (production.workspace / "backend" / ".env").read_text()
    match = re.search(r"^KEEL_METRICS_TOKEN=(.+)$", env, flags=re.M)
    assert match, "make env wrote no KEEL_METRICS_TOKEN"
    return match[1].strip()


def backend(production: Stack) -> Endpoint:
    """Return the first backend replica, on its address on the stack's network."""
    (first, *_) = production.replicas("backend")
    return Endpoint(8000, production.address(first))


def scrape(production: Stack, at: Endpoint | None = None) -> Response:
    bearer = {"Authorization": f"Bearer {metrics_token(production)}"}
    return request(at or backend(production), "GET", "/metrics", headers=bearer)


def requests_counted(body: bytes, route: str, status: str) -> float:
    """Return keel_http_requests_total for route and status, every method."""
    total = 0.0
    for line in body.decode().splitlines():
        if (
            line.startswith("keel_http_requests_total{")
            and f'route="{route}"' in line
            and f'status="{status}"' in line
        ):
            total += float(line.rsplit(" ", 1)[1])
    return total


@pytest.mark.parametrize("authorization", [None, "Bearer not-the-token"])
def test_metrics_without_the_token_are_401(
    production: Stack, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    status = request(backend(production), "GET", "/metrics", headers=headers).status
    assert status == 401


def test_the_proxy_does_not_serve_metrics_even_with_the_token(
    production: Stack,
) -> None:
    assert scrape(production, production.endpoint).status == 404


def test_metrics_with_the_token_are_prometheus_text(production: Stack) -> None:
    response = scrape(production)
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    assert b"keel_password_checks_in_flight" in response.body


def test_a_request_counter_moves_summed_across_the_workers(production: Stack) -> None:
    one = backend(production)
    before = requests_counted(scrape(production).body, "/api/auth/me/", "401")
    # Several requests on fresh connections: granian spreads them over its
    # workers, and whichever worker answers the scrape sums every worker's files.
    for _ in range(6):
        request(one, "GET", "/api/auth/me/", headers=HTTPS)
    after = requests_counted(scrape(production).body, "/api/auth/me/", "401")
    assert after == before + 6
