"""
Test set-up shared by the whole suite: the environment and a real PostgreSQL.

pytest-django is configured here, in pytest_configure, rather than from the
ini file, because settings require the database's address when they load:
with DB_HOST in the environment the suite uses that server; otherwise it
starts a throwaway PostgreSQL from the binaries on this machine and stops it
when the session ends.
"""

import os
import secrets
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from hypothesis import settings as hypothesis_settings

from testing.environment import BACKEND, production_environment
from testing.http import LiveClient
from testing.postgres import PostgresNotFound, ThrowawayPostgres

_server: ThrowawayPostgres | None = None

# Fuzzing's budget (api/tests/test_fuzz.py), in examples per API operation: a
# quick pass in every run, a deeper one with --hypothesis-profile=security
# (make security). Derandomized, so that a run repeats; no example database.
hypothesis_settings.register_profile(
    "keel", max_examples=15, derandomize=True, database=None, deadline=None
)
hypothesis_settings.register_profile(
    "security", hypothesis_settings.get_profile("keel"), max_examples=150
)
hypothesis_settings.load_profile("keel")


def suite_environment() -> dict[str, str]:
    """Return the environment the suite runs in: production-like, debug off."""
    return {
        "KEEL_ENV_FILE": "",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "JWT_SIGNING_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "testserver,localhost,127.0.0.1",
        "CORS_ALLOWED_ORIGINS": "https://app.example.com",
        "CSRF_TRUSTED_ORIGINS": "https://app.example.com",
        # Tests speak plain HTTP to the app; the redirect has tests of its own.
        "DJANGO_SECURE_SSL_REDIRECT": "0",
    }


def pytest_configure(config: pytest.Config) -> None:
    global _server
    if config.getoption("help") or config.getoption("version"):
        return
    for name, value in suite_environment().items():
        os.environ.setdefault(name, value)
    if not os.environ.get("DB_HOST"):
        try:
            _server = ThrowawayPostgres().start()
        except PostgresNotFound as error:
            pytest.exit(str(error), returncode=2)
        os.environ.update(_server.environment())
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "configs.settings")
    from django.conf import settings

    # Loading settings here lets pytest-django finish setting Django up.
    settings.DATABASES  # noqa: B018


def pytest_unconfigure(config: pytest.Config) -> None:
    if _server is not None:
        _server.remove()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Hash passwords cheaply: the real hasher's cost is the point, not the test."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def postgres_server() -> ThrowawayPostgres:
    """Return the suite's own PostgreSQL server, for tests that stop and start it."""
    if _server is None:
        pytest.skip(
            "stopping the database needs the suite's own PostgreSQL; "
            "DB_HOST points the suite at an external server"
        )
    return _server


@pytest.fixture(autouse=True)
def _empty_cache(settings):
    """Give each test an empty cache of its own: throttle counts must not leak."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": secrets.token_hex(8),
        }
    }


@pytest.fixture
def redis_cache(settings):
    """Point Django's cache at the Redis on this machine, under a fresh prefix."""
    import redis

    url = "redis://127.0.0.1:6379/0"
    client = redis.Redis.from_url(url, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    prefix = f"keel-test-{secrets.token_hex(6)}"
    settings.REDIS_URL = url
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": prefix,
        }
    }
    yield client, prefix
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)


@pytest.fixture(autouse=True)
def _static_files_without_collectstatic(settings):
    """Serve static files from the apps: the suite never runs collectstatic."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        },
    }


@pytest.fixture
def dead_redis(settings):
    """Point Django's cache, and REDIS_URL, at a Redis that is not there."""
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": settings.REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def manage() -> Callable[..., Result]:
    """Return a runner of manage.py with exactly the environment it is given."""

    def run(*args: str, env: dict[str, str]) -> Result:
        completed = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=BACKEND,
            env={"PATH": os.environ["PATH"], **env},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        return Result(completed.returncode, completed.stdout, completed.stderr)

    return run


# A user and API clients, shared by every app's tests. Django code is imported
# inside the fixtures: this file is loaded before Django is configured.
@pytest.fixture
def user(db):
    from accounts.tests.factories import make_user

    return make_user()


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def tokens(user, api_client):
    """Return the access and refresh tokens of a real login as user."""
    from accounts.tests.factories import login

    response = login(api_client)
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def auth_client(tokens):
    """Return an API client signed in as user with a real access token."""
    from accounts.tests.factories import bearer

    return bearer(tokens["access"])


@pytest.fixture
def prod_env() -> dict[str, str]:
    return production_environment()


@pytest.fixture
def live(live_server) -> LiveClient:
    return LiveClient(live_server.url)
