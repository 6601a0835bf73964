"""production: /metrics for the token's bearer only, summed across the workers."""

import re

import pytest

from e2e.http import HTTPS, Response, request
from e2e.stacks import Stack


def metrics_token(production: Stack) -> str:
    env = (production.workspace / "backend" / ".env").read_text()
    match = re.search(r"^KEEL_METRICS_TOKEN=(.+)$", env, flags=re.M)
    assert match, "make env wrote no KEEL_METRICS_TOKEN"
    return match[1].strip()


def scrape(production: Stack) -> Response:
    bearer = {"Authorization": f"Bearer {metrics_token(production)}"}
    return request(production.port, "GET", "/metrics", headers=bearer)


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
    assert request(production.port, "GET", "/metrics", headers=headers).status == 401


def test_metrics_with_the_token_are_prometheus_text(production: Stack) -> None:
    response = scrape(production)
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    assert b"keel_password_checks_in_flight" in response.body


def test_a_request_counter_moves_summed_across_the_workers(production: Stack) -> None:
    before = requests_counted(scrape(production).body, "/api/auth/me/", "401")
    # Several requests on fresh connections: granian spreads them over its
    # workers, and whichever worker answers the scrape sums every worker's files.
    for _ in range(6):
        request(production.port, "GET", "/api/auth/me/", headers=HTTPS)
    after = requests_counted(scrape(production).body, "/api/auth/me/", "401")
    assert after == before + 6
