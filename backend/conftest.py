"""
Test set-up shared by the whole suite: the environment, a real PostgreSQL and
Redis, fresh process state for every test, and no silent skips.

pytest-django is configured here, in pytest_configure, rather than from the
ini file, because settings require the database's address when they load:
with DB_HOST in the environment the suite uses that server; otherwise it
starts a throwaway PostgreSQL from the binaries on this machine and stops it
when the session ends. Redis is a throwaway redis-server, started by the first
test that needs it.
"""

import os
import secrets
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from testing.environment import BACKEND, local_environment, production_environment
from testing.http import LiveClient
from testing.postgres import PostgresNotFound, ThrowawayPostgres
from testing.redis import RedisNotFound, ThrowawayRedis

_server: ThrowawayPostgres | None = None

# The only skips a run may have, as (test id prefix, reason prefix): anything
# else skipped fails the run, so a test that stops running is noticed.
ALLOWED_SKIPS = (
    # Debian 12 ships Podman 4.3, which has no Quadlet.
    (
        "backend/configs/tests/test_deploy.py::test_quadlet_generator_accepts_the_units",
        "needs Podman 4.4 or newer with Quadlet",
    ),
    # PgBouncer is optional (Debian's pgbouncer package); CI has it.
    (
        "backend/core/tests/test_commands.py::test_migrate_locked_behind_pgbouncer",
        "needs PgBouncer",
    ),
    # Stopping the database is only possible with the suite's own server.
    ("backend/core/tests/test_health.py::", "stopping the database needs"),
)
_unallowed_skips: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    global _server
    if config.getoption("help") or config.getoption("version"):
        return
    from hypothesis import settings as hypothesis_settings

    # Fuzzing's budget (api/tests/test_fuzz.py), in examples per API operation:
    # a quick pass in every run, a deeper one with --hypothesis-profile=security
    # (make security). Derandomized, so that a run repeats; no example database.
    hypothesis_settings.register_profile(
        "keel", max_examples=15, derandomize=True, database=None, deadline=None
    )
    hypothesis_settings.register_profile(
        "security", hypothesis_settings.get_profile("keel"), max_examples=150
    )
    hypothesis_settings.load_profile("keel")
    for name, value in local_environment().items():
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


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if not report.skipped or hasattr(report, "wasxfail"):
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else ""
    reason = reason.removeprefix("Skipped: ")
    allowed = any(
        report.nodeid.startswith(test) and reason.startswith(why)
        for test, why in ALLOWED_SKIPS
    )
    if not allowed:
        _unallowed_skips.append(f"{report.nodeid}: {reason}")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _unallowed_skips:
        terminalreporter.section("skips not on the allowlist (backend/conftest.py)")
        for line in _unallowed_skips:
            terminalreporter.line(line)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _unallowed_skips and exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(autouse=True)
def _fresh_process_state():
    """Forget process-global state (core.state) before every test."""
    from core import state

    state.reset()


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


@pytest.fixture(scope="session")
def redis_server() -> Iterator[ThrowawayRedis]:
    """Return the suite's throwaway Redis, started on first use."""
    try:
        server = ThrowawayRedis().start()
    except RedisNotFound as error:
        pytest.fail(str(error), pytrace=False)
    yield server
    server.remove()


@pytest.fixture
def redis_cache(settings, redis_server):
    """Point Django's cache and REDIS_URL at the suite's Redis, under a fresh prefix."""
    import redis

    client = redis.Redis.from_url(redis_server.url)
    prefix = f"keel-test-{secrets.token_hex(6)}"
    settings.REDIS_URL = redis_server.url
    settings.CACHES = {
        "default": {
            "BACKEND": "core.cache.RedisCache",
            "LOCATION": redis_server.url,
            "KEY_PREFIX": prefix,
        }
    }
    # As settings choose with REDIS_URL: the throttles count in Redis too.
    settings.KEEL = {**settings.KEEL, "THROTTLE_COUNTS": "cache"}
    yield client, prefix
    client.close()


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
            "BACKEND": "core.cache.RedisCache",
            "LOCATION": settings.REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    settings.KEEL = {**settings.KEEL, "THROTTLE_COUNTS": "cache"}


@pytest.fixture
def statement_timeout():
    """
    Return a function that sets the statement timeout, in milliseconds, of
    every database connection opened from then on, as DB_STATEMENT_TIMEOUT
    does in seconds; the test's own connections are closed to take it.
    """
    from django.db import connections

    options = connections.settings["default"]["OPTIONS"]
    original = options.get("options")

    def set_timeout(milliseconds: int) -> None:
        options["options"] = f"-c statement_timeout={milliseconds}"
        connections.close_all()

    yield set_timeout
    options["options"] = original
    connections.close_all()


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


def run_python(*args: str, env: dict[str, str]) -> Result:
    """Run this Python in backend/ with exactly env (and PATH)."""
    completed = subprocess.run(
        [sys.executable, *args],
        cwd=BACKEND,
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return Result(completed.returncode, completed.stdout, completed.stderr)


@pytest.fixture
def python() -> Callable[..., Result]:
    """Return a runner of Python in backend/ with exactly the environment given."""
    return run_python


@pytest.fixture
def manage() -> Callable[..., Result]:
    """Return a runner of manage.py with exactly the environment it is given."""

    def run(*args: str, env: dict[str, str]) -> Result:
        return run_python("manage.py", *args, env=env)

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


@pytest.fixture
def smtp_server():
    """Return a real SMTP server (aiosmtpd) on loopback, stopped at the end."""
    from testing.smtp import SmtpServer

    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def worker_environment(live_server, smtp_server, settings):
    """
    Return the environment of a worker on the test database, mailing through
    smtp_server; live_server makes the test's writes committed, so the worker's
    own connection sees them.
    """
    from django.db import connection

    from testing.worker import database_environment

    # Django's flush between transactional tests leaves Procrastinate's
    # tables (unmanaged models) alone: start from an empty queue.
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE procrastinate_jobs, procrastinate_workers, "
            "procrastinate_periodic_defers, procrastinate_events CASCADE"
        )
    return {
        **production_environment(),
        **database_environment(settings.DATABASES["default"]),
        **smtp_server.environment(),
        "KEEL_FRONTEND_URL": "https://app.example.com",
        # The worker's links must check out on the live server.
        "DJANGO_SECRET_KEY": settings.SECRET_KEY,
    }


@pytest.fixture
def start_worker(worker_environment, tmp_path):
    """Return a starter of bin/worker processes; each is stopped at the end."""
    from testing.worker import Worker

    started: list[Worker] = []

    def start(**env):
        worker = Worker(
            {**worker_environment, **env}, tmp_path / f"worker{len(started)}.log"
        )
        started.append(worker.start())
        return worker

    yield start
    for worker in started:
        worker.stop()
