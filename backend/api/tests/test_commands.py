"""The entrypoint's management commands: wait_for_db and migrate_locked."""

import io
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from django.core.management import call_command
from django.db import connection, connections

from api.management.commands.migrate_locked import MIGRATION_LOCK_ID

BACKEND = Path(__file__).resolve().parents[2]


def closed_port():
    """Return a local port that nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_db(timeout, **env):
    return subprocess.run(
        [sys.executable, "manage.py", "wait_for_db", "--timeout", str(timeout)],
        cwd=BACKEND,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


@pytest.mark.django_db
def test_wait_for_db_returns_at_once_when_the_database_is_up():
    out = io.StringIO()
    call_command("wait_for_db", "--timeout", "5", stdout=out)
    assert out.getvalue() == ""


def test_wait_for_db_gives_up_after_its_timeout_with_the_reason():
    started = time.monotonic()
    completed = wait_for_db(1, DB_HOST="127.0.0.1", DB_PORT=str(closed_port()))
    elapsed = time.monotonic() - started
    assert completed.returncode == 1
    assert "did not answer within 1 s" in completed.stderr
    assert "OperationalError" in completed.stderr
    assert "refused" in completed.stderr
    assert "DB_WAIT_TIMEOUT" in completed.stderr
    assert "Traceback" not in completed.stderr
    assert "waiting up to 1 s" in completed.stdout
    # Django's start-up takes part of this; the wait itself is bounded by 1 s.
    assert elapsed < 1 + 5


def test_wait_for_db_never_prints_the_password():
    password = f"pw{secrets.token_hex(8)}"
    # An unresolvable host whose name holds the password, so that the driver's
    # message would show it if nothing masked it.
    completed = wait_for_db(0, DB_HOST=f"{password}.invalid", DB_PASSWORD=password)
    assert completed.returncode == 1
    assert "***" in completed.stderr
    assert password not in completed.stderr + completed.stdout


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
def test_migrate_locked_waits_for_a_migration_in_progress():
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
