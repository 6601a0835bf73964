"""Liveness and readiness probes, and the service through a database outage."""

import contextlib
import json
import time

import pytest

from django.core.cache import cache
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import ME_URL, PASSWORD, TOKEN_URL, make_user
from core import health
from core.health import READINESS_CACHE_SECONDS

CREDENTIALS = {"username": "alice", "password": PASSWORD}
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def strict_production(settings):
    """Hosts and HTTPS enforced, as in production."""
    settings.ALLOWED_HOSTS = ["api.example.com"]
    settings.SECURE_SSL_REDIRECT = True


def test_healthz_is_ok_without_database_auth_host_or_https(client, strict_production):
    # No django_db mark: any database access would raise.
    response = client.get("/healthz", HTTP_HOST="localhost")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_is_ok_when_database_answers_and_is_migrated(client, strict_production):
    response = client.get("/readyz", HTTP_HOST="localhost")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "migrations": "ok"},
    }


@pytest.mark.django_db
def test_readyz_names_unapplied_migrations(client, monkeypatch):
    monkeypatch.setattr(
        "django.db.migrations.executor.MigrationExecutor.migration_plan",
        lambda self, targets: [object()],
    )
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["migrations"] == "1 unapplied migration(s)"


@pytest.mark.django_db
def test_readyz_fails_when_redis_is_configured_but_down(client, dead_redis):
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["cache"].startswith("cache unavailable")
    assert "redis://" not in response.content.decode()


@pytest.mark.django_db
def test_readyz_checks_redis_when_configured(client, redis_cache):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"]["cache"] == "ok"


@pytest.fixture
def clock(monkeypatch):
    """Return a list whose one item is the readiness cache's clock, in seconds."""
    now = [1000.0]
    monkeypatch.setattr("core.health.monotonic", lambda: now[0])
    return now


def probe_queries(client, probes):
    """Return the statuses of probes /readyz requests and the queries they ran."""
    with CaptureQueriesContext(connection) as queries:
        statuses = [client.get("/readyz").status_code for _ in range(probes)]
    return statuses, len(queries)


@pytest.mark.django_db
def test_a_flood_of_readyz_costs_one_query_per_second(client, clock, record_property):
    client.get("/readyz")  # finds the migrations applied, once per process
    clock[0] += READINESS_CACHE_SECONDS
    statuses, queries = probe_queries(client, 100)
    assert (statuses, queries) == ([200] * 100, 1)
    clock[0] += READINESS_CACHE_SECONDS - 0.01
    assert probe_queries(client, 100) == ([200] * 100, 0)
    clock[0] += 0.01
    assert probe_queries(client, 100) == ([200] * 100, 1)
    record_property("probes", 100)
    record_property("queries", queries)


@pytest.mark.django_db
def test_readyz_sees_a_database_failure_within_the_cache_period(
    client, clock, monkeypatch
):
    assert client.get("/readyz").status_code == 200
    monkeypatch.setattr("core.health.database_error", lambda: "database unavailable")
    assert client.get("/readyz").status_code == 200  # the last answer, still fresh
    clock[0] += READINESS_CACHE_SECONDS
    assert client.get("/readyz").status_code == 503
    monkeypatch.undo()
    monkeypatch.setattr("core.health.monotonic", lambda: clock[0])
    clock[0] += READINESS_CACHE_SECONDS
    assert client.get("/readyz").status_code == 200


# A stopped database must cost a request no more than this, never a hang.
OUTAGE_BOUND_SECONDS = 5


@pytest.fixture
def signed_in(live, settings):
    """Return a live user's bearer headers, from a real login."""
    # Long enough that a user cached before an outage is still cached during it.
    settings.KEEL = {**settings.KEEL, "AUTH_CACHE_SECONDS": 300}
    make_user()
    status, _, body = live.request(
        "POST", TOKEN_URL, body=json.dumps(CREDENTIALS), headers=JSON
    )
    assert status == 200, body
    return {"Authorization": f"Bearer {json.loads(body)['access']}"}


@contextlib.contextmanager
def database_stopped(server):
    server.stop()
    try:
        yield
    finally:
        server.start()
        # The test's own connection died with the server: open a new one.
        connections.close_all()


def timed(live, *args, **kwargs):
    started = time.monotonic()
    status, headers, body = live.request(*args, **kwargs)
    return status, headers, body, time.monotonic() - started


def assert_json_503(status, headers, body, seconds):
    assert status == 503
    assert headers["Content-Type"] == "application/json"
    assert headers["Retry-After"] == "5"
    assert json.loads(body)["code"] == "service_unavailable"
    assert seconds < OUTAGE_BOUND_SECONDS


@pytest.mark.django_db(transaction=True)
def test_database_outage_is_answered_fast_and_in_json(
    live, signed_in, postgres_server, record_property
):
    # A warm cache: this user's next request needs no database.
    assert live.request("GET", ME_URL, headers=signed_in)[0] == 200
    with database_stopped(postgres_server):
        status, _, body, seconds = timed(live, "GET", "/readyz")
        assert status == 503
        assert seconds < OUTAGE_BOUND_SECONDS
        assert json.loads(body)["checks"]["database"].startswith("database unavailable")
        record_property("readyz_seconds", seconds)
        assert live.request("GET", "/healthz")[0] == 200

        # A user still in the authentication cache is served from it: reading
        # one's own record needs no database. Anything that does gets a 503.
        assert live.request("GET", ME_URL, headers=signed_in)[0] == 200
        cache.clear()
        response = timed(live, "GET", ME_URL, headers=signed_in)
        assert_json_503(*response)
        record_property("me_seconds", response[3])
        response = timed(
            live, "POST", TOKEN_URL, body=json.dumps(CREDENTIALS), headers=JSON
        )
        assert_json_503(*response)
        record_property("token_seconds", response[3])


RECOVERY_ROUNDS = 20


@pytest.mark.django_db(transaction=True)
def test_service_resumes_without_a_restart_when_the_database_is_back(
    live, signed_in, postgres_server, record_property
):
    with database_stopped(postgres_server):
        assert live.request("GET", "/readyz")[0] == 503
    # The 503 would be answered for up to READINESS_CACHE_SECONDS more.
    health.reset()
    statuses = []
    for _ in range(RECOVERY_ROUNDS):
        cache.clear()  # so that authentication reads the user from PostgreSQL
        statuses.append(live.request("GET", "/readyz")[0])
        statuses.append(live.request("GET", ME_URL, headers=signed_in)[0])
        body = json.dumps(CREDENTIALS)
        statuses.append(live.request("POST", TOKEN_URL, body=body, headers=JSON)[0])
    record_property("requests", len(statuses))
    record_property("succeeded", statuses.count(200))
    assert statuses == [200] * 3 * RECOVERY_ROUNDS
