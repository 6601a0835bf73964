"""production: users, tokens, admin sessions and the Redis cache."""

import json

import pytest

from e2e.http import HTTPS, Superuser, admin_login, request
from e2e.mail import reset_mail_arrives
from e2e.shell import exec_in, podman
from e2e.stacks import Stack
from e2e.timings import Timings


def test_superuser_gets_access_and_refresh_tokens(
    production: Stack, superuser: Superuser
) -> None:
    credentials = {"username": superuser.username, "password": superuser.password}
    response = request(
        production.endpoint, "POST", "/api/auth/token/",
        body=json.dumps(credentials).encode(),
        headers={**HTTPS, "Content-Type": "application/json"},
    )  # fmt: skip
    assert response.status == 200
    body = response.json()
    assert body.get("access")
    assert body.get("refresh")


def test_superuser_logs_in_to_the_admin(
    production: Stack, superuser: Superuser
) -> None:
    login = admin_login(production.endpoint, superuser.username, superuser.password)
    assert login.status == 302
    assert login.headers["Location"] == "/admin/"
    assert login.cookies().get("sessionid")


def test_admin_index_answers_the_session_from_the_database(
    production: Stack, signed_in: dict[str, str]
) -> None:
    assert (
        request(production.endpoint, "GET", "/admin/", headers=signed_in).status == 200
    )


@pytest.fixture(scope="module")
def cached(production: Stack) -> list[str]:
    """Return Django's cache backend and a value set and read back through it."""
    return exec_in(
        production.container("backend"),
        "python", "manage.py", "shell", "-v", "0", "-c",
        "from django.conf import settings; from django.core.cache import cache; "
        "cache.set('keel-e2e', 'through-redis', 60); "
        "print(settings.CACHES['default']['BACKEND'], cache.get('keel-e2e'))",
    ).stdout.split()  # fmt: skip


def test_django_cache_is_redis(cached: list[str]) -> None:
    assert cached == ["core.cache.RedisCache", "through-redis"]


def test_cached_key_is_in_the_redis_container(
    production: Stack, cached: list[str]
) -> None:
    keys = exec_in(
        production.container("redis"), "sh", "-c",
        'REDISCLI_AUTH="$(cat "$REDIS_PASSWORD_FILE")" '
        'redis-cli --scan --pattern "*keel-e2e*"',
    ).stdout  # fmt: skip
    assert "keel-e2e" in keys


def test_redis_refuses_a_client_without_the_password(
    production: Stack, cached: list[str]
) -> None:
    refused = exec_in(
        production.container("redis"), "redis-cli", "get", "keel-e2e", check=False
    )
    assert "NOAUTH" in refused.stdout + refused.stderr


def test_redis_is_not_published_on_the_host(production: Stack) -> None:
    assert podman("port", production.container("redis"), check=False) == ""


def test_worker_is_up_and_a_reset_mail_arrives_through_it(
    production: Stack, timings: Timings
) -> None:
    seconds = reset_mail_arrives(
        production.endpoint,
        production.container("backend"),
        production.container("worker"),
        production.container("keel-smtp"),
    )
    timings.figure(
        f"production: reset requested to mail logged by SMTP: {seconds:.1f} s"
    )
