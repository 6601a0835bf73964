"""
The entrypoint's management commands: wait_for_db and migrate_locked.

wait_for_db's messages and exit status are tested through bin/entrypoint, in
configs/tests/test_server.py; its deadline here, on a clock of the test's own.
"""

import io
import os
import subprocess
import sys
import threading
import time

import pytest

from django.core.management import CommandError, call_command
from django.db import connection, connections

from core.management.commands import wait_for_db
from core.management.commands.migrate_locked import MIGRATION_LOCK_ID
from testing.environment import BACKEND, production_environment
from testing.pgbouncer import PgBouncer, PgBouncerNotFound
from testing.worker import database_environment


@pytest.mark.django_db
def test_wait_for_db_returns_at_once_when_the_database_is_up():
    out = io.StringIO()
    call_command("wait_for_db", "--timeout", "5", stdout=out)
    assert out.getvalue() == ""


class FakeClock:
    """The time module for wait_for_db: its sleep moves its monotonic clock."""

    def __init__(self):
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.mark.parametrize("timeout", [0, 1, 7])
def test_wait_for_db_gives_up_once_its_timeout_has_passed(monkeypatch, timeout):
    clock = FakeClock()
    attempts: list[float] = []
    monkeypatch.setattr(wait_for_db, "time", clock)

    def database_error(detail: bool) -> str:
        attempts.append(clock.now)
        return "connection refused"

    monkeypatch.setattr(wait_for_db, "database_error", database_error)
    with pytest.raises(CommandError, match=f"did not answer within {timeout} s"):
        call_command("wait_for_db", "--timeout", str(timeout), stdout=io.StringIO())
    # Tried every half second until the deadline, then once more at it.
    assert sum(clock.sleeps) == timeout
    assert max(clock.sleeps, default=0) <= wait_for_db.RETRY_INTERVAL
    assert len(attempts) == timeout / wait_for_db.RETRY_INTERVAL + 1
    assert attempts[-1] - attempts[0] == timeout


def test_wait_for_db_returns_when_the_database_comes_up(monkeypatch):
    clock = FakeClock()
    errors = iter(["connection refused", "the database system is starting up", None])
    monkeypatch.setattr(wait_for_db, "time", clock)
    monkeypatch.setattr(wait_for_db, "database_error", lambda detail: next(errors))
    out = io.StringIO()
    call_command("wait_for_db", "--timeout", "60", stdout=out)
    assert clock.sleeps == [wait_for_db.RETRY_INTERVAL] * 2
    assert "waiting up to 60 s" in out.getvalue()
    assert out.getvalue().rstrip().endswith("is up.")


def advisory_lock_waiters():
    """Return how many sessions wait for the migration lock."""
    high, low = MIGRATION_LOCK_ID >> 32, MIGRATION_LOCK_ID & 0xFFFFFFFF
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
            "AND classid = %s AND objid = %s AND NOT granted",
            [high, low],
        )
        return cursor.fetchone()[0]


def lock_is_free():
    """Return whether another session can take the migration lock now."""
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [MIGRATION_LOCK_ID])
            (acquired,) = cursor.fetchone()
            if acquired:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [MIGRATION_LOCK_ID])
            return acquired
    finally:
        other.close()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("timeout_ms", [None, 50], ids=["default", "short timeout"])
def test_migrate_locked_waits_for_a_migration_in_progress(
    statement_timeout, timeout_ms
):
    # Waiting for the lock is one statement; DB_STATEMENT_TIMEOUT must not end it.
    if timeout_ms is not None:
        statement_timeout(timeout_ms)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [MIGRATION_LOCK_ID])
    out = io.StringIO()

    def migrate():
        try:
            call_command("migrate_locked", stdout=out)
        finally:
            connections.close_all()

    replica = threading.Thread(target=migrate)
    replica.start()
    try:
        deadline = time.monotonic() + 10
        while advisory_lock_waiters() == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert advisory_lock_waiters() == 1
        assert replica.is_alive()
        assert "No migrations to apply" not in out.getvalue()
        # Longer than the short timeout, so that it would have run out.
        time.sleep(0.2)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [MIGRATION_LOCK_ID])
        replica.join(timeout=30)
    assert not replica.is_alive()
    assert "another process is migrating" in out.getvalue()
    assert "No migrations to apply" in out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_migrate_locked_migrates_and_releases_the_lock():
    out = io.StringIO()
    call_command("migrate_locked", stdout=out)
    assert "No migrations to apply" in out.getvalue()
    assert "another process" not in out.getvalue()
    assert lock_is_free()


def migration_lock_waiter():
    """Return the server process id of the session waiting for the lock."""
    high, low = MIGRATION_LOCK_ID >> 32, MIGRATION_LOCK_ID & 0xFFFFFFFF
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' "
            "AND classid = %s AND objid = %s AND NOT granted",
            [high, low],
        )
        row = cursor.fetchone()
    return row[0] if row else None


@pytest.fixture
def pgbouncer(settings):
    """Return a real PgBouncer, transaction pooling, in front of the test database."""
    database = settings.DATABASES["default"]
    try:
        bouncer = PgBouncer(
            host=database["HOST"], port=int(database["PORT"] or 5432),
            database=database["NAME"], user=database["USER"],
        ).start()  # fmt: skip
    except PgBouncerNotFound as missing:
        # An optional service, as Podman is: tested wherever it is installed.
        pytest.skip(f"needs PgBouncer: {missing}")
    yield bouncer
    bouncer.stop()


@pytest.mark.django_db(transaction=True)
def test_migrate_locked_behind_pgbouncer_takes_its_lock_on_postgresql_itself(
    settings, pgbouncer
):
    # A session-level lock taken through transaction pooling would sit on
    # whichever server connection PgBouncer lent that one statement: the lock
    # must be taken, and waited for, on a connection of its own to PostgreSQL.
    env = {
        **production_environment(),
        **database_environment(settings.DATABASES["default"]),
        "DB_POOLER_HOST": "127.0.0.1",
        "DB_POOLER_PORT": str(pgbouncer.port),
        # ensure_superuser, run under the lock, writes through PgBouncer.
        "DJANGO_SUPERUSER_USERNAME": "pooled-admin",
        "DJANGO_SUPERUSER_PASSWORD": "a pooled admin's password",
        "DJANGO_SUPERUSER_EMAIL": "pooled@example.com",
        "PATH": os.environ["PATH"],
    }
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [MIGRATION_LOCK_ID])
    replica = subprocess.Popen(
        [sys.executable, "manage.py", "migrate_locked"],
        cwd=BACKEND, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while (waiter := migration_lock_waiter()) is None:
            assert replica.poll() is None, replica.communicate()[0]
            assert time.monotonic() < deadline, "migrate_locked never waited"
            time.sleep(0.05)
        through_pgbouncer = {server["remote_pid"] for server in pgbouncer.servers()}
        assert waiter not in through_pgbouncer
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [MIGRATION_LOCK_ID])
        output, _ = replica.communicate(timeout=60)
    assert replica.returncode == 0, output
    assert "No migrations to apply" in output
    assert "pooled-admin" in output, output
    # The superuser was written through PgBouncer's pool, not past it.
    assert any(
        server["database"] == settings.DATABASES["default"]["NAME"]
        for server in pgbouncer.servers()
    ), pgbouncer.log()
