"""
production with PgBouncer: the compose stack's `pgbouncer` profile, as `make
prod PGBOUNCER=1` runs it. The replicas and the worker are recreated with
DB_POOLER_HOST=pgbouncer; the replicas' connections end at PgBouncer, the
worker's go to PostgreSQL directly, and login, rotation and the admin work.

It runs last of the production checks, on the same stack: its data stays,
only the replicas and the worker are replaced. The stack's own teardown does
not know the profile, so PgBouncer is removed here. Its last check restarts
PostgreSQL behind PgBouncer.
"""

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest

from e2e.http import HTTPS, Endpoint, Superuser, answers, load, request, status
from e2e.shell import exec_in, inspect, run, wait_until
from e2e.stacks import PROD_REPLICAS, Stack
from e2e.timings import Timings

# Fewer than the replicas' threads (3 x 2 workers x 4), so the bound shows.
POOL = 5

CONNECTIONS = (
    "SELECT host(client_addr), count(*) FROM pg_stat_activity "
    "WHERE datname = current_database() AND backend_type = 'client backend' "
    "AND client_addr IS NOT NULL GROUP BY 1"
)


@pytest.fixture(scope="module")
def pooled(
    production: Stack, pgbouncer_image: str, timings: Timings
) -> Iterator[Stack]:
    """Return the production stack with PgBouncer in front of PostgreSQL."""
    pooled = replace(
        production,
        profiles=(*production.profiles, "pgbouncer"),
        env={
            **production.env,
            "PGBOUNCER_IMAGE": pgbouncer_image,
            "PGBOUNCER_POOL_SIZE": f"{POOL}",
            "DB_POOLER_HOST": "pgbouncer",
        },
        containers={},
    )
    with timings.step("production: PgBouncer in, replicas replaced to first answer"):
        pooled.compose("up", "-d", "--no-deps", "pgbouncer")
        bouncer = pooled.container("pgbouncer")
        wait_until(
            bouncer,
            lambda: (
                run("podman", "healthcheck", "run", bouncer, check=False).returncode
                == 0
            ),
            timeout=60,
        )
        doomed = [*production.replicas("worker"), *production.replicas("backend")]
        production.compose("stop", "backend", "worker")
        for name in doomed:
            run("podman", "rm", "-f", name)
        production.containers.clear()
        pooled.compose("up", "-d", "--no-deps", "backend", "worker")
        for replica in pooled.replicas("backend"):
            wait_until(
                replica, answers(8000, host=pooled.address(replica)), timeout=180
            )
    try:
        yield pooled
    finally:
        run("podman", "rm", "-f", bouncer, check=False)


def connections(stack: Stack) -> dict[str, int]:
    """Return PostgreSQL's client connections to keel's database by address,
    asked over the database container's socket (so the asking adds none)."""
    rows = exec_in(
        stack.container("db"), "sh", "-c",
        f'psql -U "$POSTGRES_USER" -d "$POSTGRES_DB" -AtF " " -c "{CONNECTIONS}"',
    ).stdout  # fmt: skip
    return {
        address: int(count)
        for address, count in (line.split() for line in rows.splitlines() if line)
    }


def post_json(stack: Stack, path: str, body: dict[str, str]) -> tuple[int, bytes]:
    response = request(
        stack.endpoint, "POST", path,
        body=json.dumps(body).encode(),
        headers={**HTTPS, "Content-Type": "application/json"},
    )  # fmt: skip
    return response.status, response.body


def test_the_replicas_request_through_pgbouncer(pooled: Stack) -> None:
    for replica in pooled.replicas("backend"):
        pooler = exec_in(replica, "printenv", "DB_POOLER_HOST").stdout.strip()
        assert pooler == "pgbouncer"


def test_login_and_one_of_8_parallel_refreshes_through_pgbouncer(
    pooled: Stack, superuser: Superuser
) -> None:
    status, body = post_json(
        pooled, "/api/auth/token/",
        {"username": superuser.username, "password": superuser.password},
    )  # fmt: skip
    assert status == 200, body
    refresh = json.loads(body)["refresh"]
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(
            pool.map(
                lambda _: post_json(
                    pooled, "/api/auth/token/refresh/", {"refresh": refresh}
                )[0],
                range(8),
            )
        )
    assert sorted(statuses) == [200] + [401] * 7, statuses


def test_postgresql_sees_pgbouncers_pool_not_the_replicas(
    pooled: Stack, signed_in: dict[str, str], timings: Timings
) -> None:
    replicas = {name: pooled.address(name) for name in pooled.replicas("backend")}
    assert len(replicas) == PROD_REPLICAS
    # Admin pages read their session from PostgreSQL: every thread connects.
    statuses = load(list(replicas.values()), "/admin/", signed_in, parallel=16)
    assert set(statuses) == {200}, statuses
    counts = connections(pooled)
    bouncer = counts.get(pooled.address(pooled.container("pgbouncer")), 0)
    per_replica = {name: counts.get(address, 0) for name, address in replicas.items()}
    assert per_replica == dict.fromkeys(replicas, 0), counts
    assert 1 <= bouncer <= POOL, counts
    # bin/worker connects directly even so: LISTEN needs a session of its own.
    workers = [pooled.address(name) for name in pooled.replicas("worker")]
    assert all(counts.get(address, 0) >= 1 for address in workers), counts
    timings.figure(
        f"compose with PgBouncer, {PROD_REPLICAS} replicas, {len(statuses)} admin "
        f"pages in parallel: PostgreSQL sees {bouncer} connections from PgBouncer "
        f"(pool {POOL}), 0 from the replicas; all it sees: {sorted(counts.values())}"
    )


def admin_status(address: str, headers: dict[str, str]) -> int | str:
    """Return the status of the admin's index on one replica, or why none came."""
    return status(Endpoint(8000, address), "/admin/", headers)


STARTED = "{{.State.StartedAt}} {{.RestartCount}}"


def test_postgresql_restarted_behind_pgbouncer_the_replicas_recover_alone(
    pooled: Stack, signed_in: dict[str, str], timings: Timings
) -> None:
    """Last in the module: PostgreSQL stops and starts behind PgBouncer."""
    replicas = {name: pooled.address(name) for name in pooled.replicas("backend")}
    bouncer = pooled.container("pgbouncer")
    before = {name: inspect(name, STARTED) for name in [*replicas, bouncer]}
    assert {admin_status(a, signed_in) for a in replicas.values()} == {200}
    pooled.compose("stop", "db")
    try:
        began = time.monotonic()
        during = admin_status(next(iter(replicas.values())), signed_in)
        failed_after = time.monotonic() - began
    finally:
        pooled.compose("start", "db")
    # A replica's connection ends at PgBouncer, which stays up: the query waits
    # for a server connection, at most query_wait_timeout (10 s), then fails.
    assert during == 500, during
    assert failed_after < 14, failed_after
    recovered = wait_until(
        "every replica's admin through PgBouncer after PostgreSQL came back",
        lambda: {admin_status(a, signed_in) for a in replicas.values()} == {200},
        timeout=90,
    )
    assert {name: inspect(name, STARTED) for name in before} == before
    timings.figure(
        f"PostgreSQL stopped behind PgBouncer: the admin failed (500) after "
        f"{failed_after:.1f} s; all {len(replicas)} replicas answered again "
        f"{recovered:.1f} s after it was started, none of them or PgBouncer "
        "restarted"
    )
