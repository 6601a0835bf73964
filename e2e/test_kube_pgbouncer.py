"""
kube with PgBouncer: deploy/kube-pgbouncer.yaml played beside deploy/kube.yaml,
and the backend's and worker's Deployments replaced by the same ones with
DB_POOLER_HOST=keel-pgbouncer, as make kube PGBOUNCER=1 plays them. The 3
replicas' connections end at PgBouncer, and PostgreSQL sees its pool only;
login, rotation and migrations work through it.

It runs after test_kube, on the same play: the database, Redis and their data
stay, only the replicas and the worker are replaced (their sessions ended, so
that PostgreSQL's counts are of the containers that run).
"""

from concurrent.futures import ThreadPoolExecutor

import pytest

from e2e.http import answers, load
from e2e.shell import exec_in, podman, wait_until
from e2e.stacks import KUBE_PGBOUNCER_POOL, KUBE_REPLICAS, KubePlay
from e2e.test_kube import (
    admin_session,
    make_user,
    post_json,
    tokens,
    workers_times_threads,
)
from e2e.timings import Timings


@pytest.fixture(scope="module")
def pooled(kube: KubePlay, pgbouncer_image: str, timings: Timings) -> KubePlay:
    """Return the play with PgBouncer in front, every replica answering."""
    with timings.step("kube: PgBouncer played, replicas replaced to first answer"):
        kube.pool(pgbouncer_image)
        for backend in kube.backends():
            wait_until(backend, answers(8000, host=kube.address(backend)), timeout=180)
    return kube


@pytest.fixture(scope="module")
def replicas(pooled: KubePlay) -> dict[str, str]:
    return {backend: pooled.address(backend) for backend in pooled.backends()}


def pgbouncer_address(kube: KubePlay) -> str:
    return kube.address("keel-pgbouncer-pgbouncer")


def test_the_replicas_request_through_pgbouncer(pooled: KubePlay) -> None:
    for backend in pooled.backends():
        assert exec_in(backend, "printenv", "DB_POOLER_HOST").stdout.strip() == (
            "keel-pgbouncer"
        )


def test_pooled_replicas_migrated_past_pgbouncer_and_find_nothing_pending(
    pooled: KubePlay, replicas: dict[str, str]
) -> None:
    # Each entrypoint ran migrate_locked, whose advisory lock needs a session:
    # it connected to keel-db directly and found everything applied.
    for name in replicas:
        assert "No migrations to apply." in podman("logs", name)
    # And Django's own view of the migrations, through PgBouncer.
    checked = exec_in(
        pooled.backend(), "python", "manage.py", "migrate", "--check", check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_login_and_one_of_8_parallel_refreshes_through_pgbouncer(
    pooled: KubePlay, replicas: dict[str, str]
) -> None:
    addresses = list(replicas.values())
    issued = tokens(addresses[0], "e2e-pooled", make_user(pooled, "e2e-pooled"))
    spread = [addresses[n % len(addresses)] for n in range(8)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(
            pool.map(
                lambda address: (
                    post_json(
                        address,
                        "/api/auth/token/refresh/",
                        {"refresh": issued["refresh"]},
                    ).status
                ),
                spread,
            )
        )
    # The blacklist's unique key decides in one transaction, whichever server
    # connection PgBouncer lends it.
    assert sorted(statuses) == [200] + [401] * 7, statuses


def test_postgresql_sees_pgbouncers_pool_not_the_replicas(
    pooled: KubePlay, replicas: dict[str, str], timings: Timings
) -> None:
    headers = admin_session(pooled, next(iter(replicas.values())), "e2e-pooled-load")
    statuses = load(list(replicas.values()), "/admin/", headers, parallel=16)
    assert set(statuses) == {200}, statuses
    counts = pooled.postgres_connections()
    bouncer = counts.get(pgbouncer_address(pooled), 0)
    worker = counts.get(pooled.address(pooled.worker()), 0)
    per_replica = {name: counts.get(address, 0) for name, address in replicas.items()}
    # No replica reaches PostgreSQL itself; PgBouncer holds at most its pool,
    # fewer than the replicas' threads, which all ran at once.
    assert per_replica == dict.fromkeys(replicas, 0), counts
    assert 1 <= bouncer <= KUBE_PGBOUNCER_POOL, counts
    threads = sum(workers_times_threads(name) for name in replicas)
    assert threads > KUBE_PGBOUNCER_POOL
    # The worker waits for jobs with LISTEN, which needs a session: it
    # connects to PostgreSQL directly (bin/worker).
    assert worker >= 1, counts
    # Nothing else connects: PgBouncer's pool and the worker are all there is.
    assert sum(counts.values()) == bouncer + worker, counts
    timings.figure(
        f"PostgreSQL connections with PgBouncer ({KUBE_REPLICAS} replicas of "
        f"{threads // KUBE_REPLICAS} threads, {len(statuses)} admin pages in "
        f"parallel): {bouncer} from PgBouncer (pool {KUBE_PGBOUNCER_POOL}), "
        f"0 from the replicas, and {worker} from the worker (direct)"
    )
