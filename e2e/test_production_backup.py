"""production: back up, destroy the database's volume, restore, and it is all back."""

import json
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from e2e.http import HTTPS, Superuser, answers, request
from e2e.shell import exec_in, inspect, run, wait_until
from e2e.stacks import Stack
from e2e.timings import Timings

ROWS = (
    "from accounts.models import User; "
    "from rest_framework_simplejwt.token_blacklist.models import OutstandingToken; "
    "print(sorted(User.objects.values_list('username', 'password')), "
    "sorted(OutstandingToken.objects.values_list('jti', flat=True)))"
)
NO_TABLES = (
    'psql -U "$POSTGRES_USER" -d "$POSTGRES_DB" -tAc '
    "\"SELECT to_regclass('accounts_user') IS NULL\""
)


@dataclass(frozen=True)
class RoundTrip:
    """What was seen before the backup and after the restore."""

    rows_before: str
    dump: Path
    backup_seconds: float
    empty_after_destroying: str
    restore_seconds: float
    ready_after: float
    rows_after: str
    refresh_status: int
    refreshed_access: bool


def tokens(production: Stack, superuser: Superuser) -> dict[str, object]:
    credentials = {"username": superuser.username, "password": superuser.password}
    response = request(
        production.endpoint, "POST", "/api/auth/token/",
        body=json.dumps(credentials).encode(),
        headers={**HTTPS, "Content-Type": "application/json"},
    )  # fmt: skip
    assert response.status == 200, f"login before the backup: {response.status}"
    return response.json()


def backup_script(production: Stack, *args: str) -> str:
    """Run scripts/backup.py of the workspace against the stack's db container."""
    return run(
        sys.executable, "scripts/backup.py", *args, "--via", "compose",
        cwd=production.workspace,
        env={"COMPOSE_PROJECT_NAME": production.project},
    ).stdout  # fmt: skip


@pytest.fixture(scope="module")
def round_trip(production: Stack, superuser: Superuser, timings: Timings) -> RoundTrip:
    backend = production.container("backend")
    production.container("worker")
    production.container("db")
    refresh = tokens(production, superuser)["refresh"]
    exec_in(
        backend, "python", "manage.py", "shell", "-v", "0", "-c",
        "from accounts.models import User; "
        "[User.objects.create_user(f'e2e-user-{n}', f'u{n}@example.com', "
        "'a long e2e password') for n in range(3)]",
    )  # fmt: skip
    rows_before = exec_in(
        backend, "python", "manage.py", "shell", "-v", "0", "-c", ROWS
    )

    started = time.monotonic()
    timings.note(backup_script(production, "backup").strip())
    backup_seconds = time.monotonic() - started
    (dump,) = (production.workspace / "backups").glob("keel-*.dump")

    # The backend's replicas and the worker require the database, so all
    # go; they come back only after the restore, so that their start-up
    # migrations do not fill the empty database first, and come back
    # however this ends, for the checks after these. The proxy requires
    # nothing and stays: it answers 502 meanwhile and finds the new replicas
    # by name.
    # The same image comes back, by id: another run on this machine may have
    # tagged a newer build since.
    image = inspect(backend, "{{.Image}}")
    same_image = replace(production, env={**production.env, "BACKEND_IMAGE": image})
    doomed = [*production.replicas("worker"), *production.replicas("backend")]
    production.compose("stop", "backend", "worker")
    for name in [*doomed, production.container("db")]:
        run("podman", "rm", "-f", name)
    production.containers.clear()
    try:
        run("podman", "volume", "rm", f"{production.project}_pgdata")
        production.compose("up", "-d", "--no-deps", "db")
        db = production.container("db")
        # Over TCP: on a new volume the image first runs a server on its
        # socket only, to create the database, and stops it again.
        wait_until(
            "the new, empty database",
            lambda: exec_in(
                db, "sh", "-c",
                'pg_isready -h 127.0.0.1 -U "$POSTGRES_USER" -d "$POSTGRES_DB"',
                check=False,
            ).returncode == 0,
            timeout=90,
        )  # fmt: skip
        empty = exec_in(db, "sh", "-c", NO_TABLES).stdout.strip()

        started = time.monotonic()
        backup_script(production, "restore", str(dump), "--yes")
        restore_seconds = time.monotonic() - started
        timings.figure(
            f"backup {backup_seconds:.2f} s, restore {restore_seconds:.2f} s of a "
            f"{dump.stat().st_size:,}-byte dump, through podman exec"
        )
    finally:
        same_image.compose("up", "-d", "--no-deps", "backend", "worker")
    backend = production.container("backend")
    ready_after = wait_until(
        "the backend after the restore",
        answers(production.endpoint, "/readyz", 200),
        timeout=120,
    )
    rows_after = exec_in(backend, "python", "manage.py", "shell", "-v", "0", "-c", ROWS)
    refreshed = request(
        production.endpoint, "POST", "/api/auth/token/refresh/",
        body=json.dumps({"refresh": refresh}).encode(),
        headers={**HTTPS, "Content-Type": "application/json"},
    )  # fmt: skip
    return RoundTrip(
        rows_before=rows_before.stdout.strip(),
        dump=dump,
        backup_seconds=backup_seconds,
        empty_after_destroying=empty,
        restore_seconds=restore_seconds,
        ready_after=ready_after,
        rows_after=rows_after.stdout.strip(),
        refresh_status=refreshed.status,
        refreshed_access=refreshed.status == 200
        and bool(refreshed.json().get("access")),
    )


def test_the_backup_has_a_checksum_file_that_matches(round_trip: RoundTrip) -> None:
    checksum = round_trip.dump.with_name(round_trip.dump.name + ".sha256")
    assert run("sha256sum", "-c", checksum.name, cwd=checksum.parent).returncode == 0


def test_destroying_the_volume_left_a_database_without_keels_tables(
    round_trip: RoundTrip,
) -> None:
    assert round_trip.empty_after_destroying == "t"


def test_the_same_users_and_tokens_are_back_after_the_restore(
    round_trip: RoundTrip,
) -> None:
    assert "e2e-user-2" in round_trip.rows_before
    assert round_trip.rows_after == round_trip.rows_before


def test_a_refresh_token_issued_before_the_backup_still_refreshes(
    round_trip: RoundTrip,
) -> None:
    assert round_trip.refresh_status == 200
    assert round_trip.refreshed_access
