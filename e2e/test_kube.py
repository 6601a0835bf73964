"""
kube: deploy/kube.yaml played by Podman, as make kube plays it, with 3 backend
replicas sharing PostgreSQL and Redis: what one replica decides, all honour.
"""

import json
import secrets
from concurrent.futures import ThreadPoolExecutor

import pytest

from e2e.hardening import HardenedBackend
from e2e.http import HTTPS, Endpoint, Response, admin_login, load, request
from e2e.mail import reset_mail_arrives
from e2e.shell import exec_in, podman
from e2e.stacks import KUBE_REPLICAS, SMTP_HOST, KubePlay
from e2e.timings import Timings

JSON = {**HTTPS, "Content-Type": "application/json"}


@pytest.fixture(scope="module")
def replicas(kube: KubePlay) -> dict[str, str]:
    """Return each backend replica's container name and address."""
    return {backend: kube.address(backend) for backend in kube.backends()}


def test_the_deployment_runs_its_replicas(replicas: dict[str, str]) -> None:
    assert len(replicas) == KUBE_REPLICAS
    assert len(set(replicas.values())) == KUBE_REPLICAS


def test_admin_answers_on_every_replica(replicas: dict[str, str]) -> None:
    statuses = [
        request(8000, "GET", "/admin/", headers=HTTPS, host=address).status
        for address in replicas.values()
    ]
    assert statuses == [302] * KUBE_REPLICAS


def test_api_root_is_404(kube: KubePlay, replicas: dict[str, str]) -> None:
    address = replicas[kube.backend()]
    assert request(8000, "GET", "/api/", headers=HTTPS, host=address).status == 404


def test_backend_is_pointed_at_the_database_pod_by_name(kube: KubePlay) -> None:
    assert exec_in(kube.backend(), "printenv", "DB_HOST").stdout.strip() == "keel-db"


def test_backend_reaches_the_database_pod_and_finds_it_migrated(kube: KubePlay) -> None:
    migrated = exec_in(
        kube.backend(), "python", "manage.py", "migrate", "--check", check=False
    )
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr


def test_replicas_started_together_migrate_once(
    kube: KubePlay, replicas: dict[str, str]
) -> None:
    # Every replica's entrypoint, and the worker's (the same image), ran
    # migrate_locked on the fresh database at the same moment: under the
    # advisory lock one of them applied everything and the others found
    # nothing left, instead of several applying the same migrations. Which one
    # wins is a race: on a loaded machine it was the worker.
    logs = {name: podman("logs", name) for name in [*replicas, kube.worker()]}
    applied = [name for name, log in logs.items() if "Applying " in log]
    assert len(applied) == 1, logs
    for name, log in logs.items():
        if name not in applied:
            assert "No migrations to apply." in log, log


def test_no_migration_is_recorded_twice(kube: KubePlay) -> None:
    twice = exec_in(
        kube.backend(), "python", "manage.py", "shell", "-v", "0", "-c",
        "from django.db import connection; c = connection.cursor(); "
        "c.execute('SELECT app, name FROM django_migrations "
        "GROUP BY app, name HAVING count(*) > 1'); print(c.fetchall())",
    ).stdout.strip()  # fmt: skip
    assert twice == "[]"


def make_user(kube: KubePlay, username: str) -> str:
    """Return the password of a new user made on the first replica."""
    password = secrets.token_urlsafe(18)
    exec_in(
        kube.backend(), "python", "manage.py", "createsuperuser", "--noinput",
        env={
            "DJANGO_SUPERUSER_USERNAME": username,
            "DJANGO_SUPERUSER_PASSWORD": password,
            "DJANGO_SUPERUSER_EMAIL": f"{username}@example.com",
        },
    )  # fmt: skip
    return password


def post_json(address: str, path: str, body: dict[str, str]) -> Response:
    return request(
        8000, "POST", path, body=json.dumps(body).encode(), headers=JSON, host=address
    )


def me(address: str, access: str) -> int:
    headers = {**HTTPS, "Authorization": f"Bearer {access}"}
    return request(8000, "GET", "/api/auth/me/", headers=headers, host=address).status


def tokens(address: str, username: str, password: str) -> dict[str, str]:
    """Return the access and refresh tokens one replica issues."""
    response = post_json(
        address, "/api/auth/token/", {"username": username, "password": password}
    )
    assert response.status == 200, response.body
    return {key: str(value) for key, value in response.json().items()}


def test_a_token_from_one_replica_is_honoured_by_every_other(
    kube: KubePlay, replicas: dict[str, str]
) -> None:
    first, *others = replicas.values()
    issued = tokens(first, "e2e-kube", make_user(kube, "e2e-kube"))
    assert [me(address, issued["access"]) for address in others] == [200] * len(others)


def test_one_of_8_parallel_refreshes_over_the_replicas_wins(
    kube: KubePlay, replicas: dict[str, str]
) -> None:
    addresses = list(replicas.values())
    refresh = tokens(addresses[0], "e2e-rotate", make_user(kube, "e2e-rotate"))[
        "refresh"
    ]
    spread = [addresses[n % len(addresses)] for n in range(8)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(
            pool.map(
                lambda address: (
                    post_json(
                        address, "/api/auth/token/refresh/", {"refresh": refresh}
                    ).status
                ),
                spread,
            )
        )
    # Rotation blacklists the token: the blacklist's unique key in the shared
    # database lets exactly one replica's refresh through.
    assert sorted(statuses) == [200] + [401] * 7, statuses


def test_login_limit_counts_guesses_on_every_replica_together(
    kube: KubePlay, replicas: dict[str, str]
) -> None:
    # KEEL_LOGIN_USERNAME_THROTTLE_RATE is 5/min: with the counts in Redis,
    # the 6th wrong password is refused whichever replica it reaches; with a
    # cache per replica, each would allow 5.
    make_user(kube, "e2e-guessed")
    addresses = list(replicas.values())
    statuses = [
        post_json(
            addresses[n % len(addresses)], "/api/auth/token/",
            {"username": "e2e-guessed", "password": f"wrong-{n}"},
        ).status
        for n in range(7)
    ]  # fmt: skip
    assert statuses == [401] * 5 + [429] * 2


def test_a_deactivation_is_seen_by_every_replica_on_its_next_request(
    kube: KubePlay, replicas: dict[str, str]
) -> None:
    addresses = list(replicas.values())
    access = tokens(addresses[0], "e2e-leaver", make_user(kube, "e2e-leaver"))["access"]
    # Every replica has read, and cached, the user before the change.
    assert [me(address, access) for address in addresses] == [200] * KUBE_REPLICAS
    exec_in(
        kube.backend(), "python", "manage.py", "shell", "-v", "0", "-c",
        "from accounts.models import User; u = User.objects.get(username='e2e-leaver');"
        " u.is_active = False; u.save()",
    )  # fmt: skip
    assert [me(address, access) for address in addresses] == [401] * KUBE_REPLICAS


def admin_session(kube: KubePlay, address: str, username: str) -> dict[str, str]:
    """Return the headers of a request in a new superuser's admin session."""
    login = admin_login(
        Endpoint(8000, host=address), username, make_user(kube, username)
    )
    return {**HTTPS, "Cookie": f"sessionid={login.cookies()['sessionid']}"}


def workers_times_threads(container: str) -> int:
    """Return the PostgreSQL connections one replica may hold: its granian's
    workers x threads, each thread with one persistent connection."""
    command = exec_in(container, "cat", "/proc/1/cmdline").stdout.split("\0")
    workers = int(command[command.index("--workers") + 1])
    return workers * int(command[command.index("--blocking-threads") + 1])


def test_each_replica_holds_at_most_workers_times_threads_connections(
    kube: KubePlay, replicas: dict[str, str], timings: Timings
) -> None:
    # Every thread of every replica busy at once: each opens its connection
    # (an admin page reads the session from PostgreSQL on every request).
    headers = admin_session(kube, next(iter(replicas.values())), "e2e-load")
    statuses = load(list(replicas.values()), "/admin/", headers, parallel=16)
    assert set(statuses) == {200}, statuses
    counts = kube.postgres_connections()
    per_replica = {name: counts.get(address, 0) for name, address in replicas.items()}
    for name, count in per_replica.items():
        assert 1 <= count <= workers_times_threads(name), per_replica
    worker = counts.get(kube.address(kube.worker()), 0)
    # Nothing else connects: the replicas and the worker are all there is.
    assert sum(counts.values()) == sum(per_replica.values()) + worker, counts
    timings.figure(
        f"PostgreSQL connections per replica ({KUBE_REPLICAS} replicas, "
        f"{len(statuses)} admin pages in parallel over them, no PgBouncer): "
        f"{sorted(per_replica.values())}, and {worker} from the worker"
    )


class TestKubeBackendIsHardened(HardenedBackend):
    @pytest.fixture
    def backend(self, kube: KubePlay) -> str:
        return kube.backend()


def test_database_runs_read_only_with_its_few_capabilities(kube: KubePlay) -> None:
    (db,) = podman(
        "ps", "--format", "{{.Names}}", "--filter", "name=^keel-db-db$"
    ).split()  # fmt: skip
    denied = exec_in(db, "touch", "/probe", check=False)
    assert denied.returncode != 0
    assert "Read-only" in denied.stderr
    status = exec_in(db, "cat", "/proc/1/status").stdout
    assert "NoNewPrivs:\t1" in status
    assert "Seccomp:\t2" in status


def test_worker_is_up_and_a_reset_mail_arrives_through_it(
    kube: KubePlay, replicas: dict[str, str]
) -> None:
    backend = kube.backend()
    reset_mail_arrives(8000, backend, kube.worker(), SMTP_HOST, host=replicas[backend])


def test_worker_runs_read_only_without_privileges(kube: KubePlay) -> None:
    worker = kube.worker()
    denied = exec_in(worker, "touch", "/app/probe", check=False)
    assert denied.returncode != 0
    assert "Read-only" in denied.stderr
    assert exec_in(worker, "id", "-u").stdout.strip() == "1000"
    status = exec_in(worker, "cat", "/proc/1/status").stdout
    assert "CapEff:\t0000000000000000" in status
    assert "NoNewPrivs:\t1" in status
    assert "Seccomp:\t2" in status
