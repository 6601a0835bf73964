"""Liveness and readiness probes."""

import json
import time

import pytest
import redis

from api import health


@pytest.fixture
def strict_production(settings):
    """Hosts and HTTPS enforced, as in production."""
    settings.ALLOWED_HOSTS = ["api.example.com"]
    settings.SECURE_SSL_REDIRECT = True


@pytest.fixture(autouse=True)
def _recheck_migrations(monkeypatch):
    monkeypatch.setattr(health, "_migrations_applied", False)


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
def test_readyz_fails_when_redis_is_configured_but_down(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": settings.REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["cache"].startswith("cache unavailable")
    assert "redis://" not in response.content.decode()


def redis_is_running():
    try:
        return redis.Redis.from_url("redis://127.0.0.1:6379/0", socket_timeout=1).ping()
    except redis.RedisError:
        return False


@pytest.mark.django_db
def test_readyz_checks_redis_when_configured(client, settings):
    if not redis_is_running():
        pytest.skip("needs Redis on 127.0.0.1:6379")
    settings.REDIS_URL = "redis://127.0.0.1:6379/0"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": settings.REDIS_URL,
        }
    }
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"]["cache"] == "ok"


@pytest.mark.django_db(transaction=True)
def test_readyz_fails_fast_while_database_is_down_and_recovers(live, postgres_server):
    assert live.request("GET", "/readyz")[0] == 200
    postgres_server.stop()
    try:
        started = time.monotonic()
        status, _, body = live.request("GET", "/readyz")
        assert time.monotonic() - started < 5
        assert status == 503
        assert json.loads(body)["checks"]["database"].startswith("database unavailable")
        assert live.request("GET", "/healthz")[0] == 200
    finally:
        postgres_server.start()
    statuses = [live.request("GET", "/readyz")[0] for _ in range(20)]
    assert statuses == [200] * 20
