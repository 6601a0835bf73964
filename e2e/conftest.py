"""
make e2e's set-up: Podman, the images, the workspace and the stacks, as
session fixtures, each taken down however the run ends.

The checks themselves are the test modules beside this file. Every stack is
brought up once, by the first test that needs it, and taken down, volumes
included, when the session ends; last of all, nothing_left_behind fails the
run if Podman still holds a container, pod, volume, network or secret that
was not there before.

Environment: KEEL_E2E_KEEP=1 keeps the workspace; PYTHON_IMAGE,
POSTGRES_IMAGE, REDIS_IMAGE, NGINX_IMAGE and DEBIAN_IMAGE pick base images
instead of the real ones or the stand-ins; KEEL_E2E_PULL=0 skips trying to pull
the real ones; DEBIAN_MIRROR is the mirror debootstrap uses.
"""

import os
import secrets
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from e2e import images
from e2e.http import HTTPS, Superuser, admin_login, answers
from e2e.shell import exec_in, exists, podman, run, wait_until
from e2e.stacks import (
    BACKEND_IMAGE,
    DEV_FILES,
    DEV_OWNER,
    PGBOUNCER_IMAGE,
    PODMAN_COMPOSE,
    PROD_FILES,
    PROD_REPLICAS,
    PROD_SECRETS,
    PROD_WORKERS,
    PROXY_IMAGE,
    KubePlay,
    Stack,
    inventory,
    left_behind,
)
from e2e.timings import Timings
from e2e.workspace import make_workspace, remove_workspace
from testing.postgres import free_port

# The order the scenarios run in: the image, then production with the checks
# that stop its containers last, then development, then kube.
SCENARIOS = (
    "test_image",
    "test_production_http",
    "test_production_proxy",
    "test_production_replicas",
    "test_production_container",
    "test_production_users",
    "test_production_workers",
    "test_production_metrics",
    "test_production_backup",
    "test_production_outage",
    "test_production_restart",
    "test_production_roll",
    "test_production_pgbouncer",
    "test_development",
    "test_kube",
    "test_kube_pgbouncer",
)


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(Timings(config), "e2e-timings")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def scenario(item: pytest.Item) -> int:
        name = item.nodeid.split("::")[0].rsplit("/", 1)[-1].removesuffix(".py")
        return SCENARIOS.index(name) if name in SCENARIOS else len(SCENARIOS)

    items.sort(key=scenario)


@pytest.fixture(scope="session")
def timings(pytestconfig: pytest.Config) -> Timings:
    plugin = pytestconfig.pluginmanager.get_plugin("e2e-timings")
    assert isinstance(plugin, Timings)
    return plugin


@pytest.fixture(scope="session", autouse=True)
def nothing_left_behind(timings: Timings) -> Iterator[None]:
    """Fail the run if it leaves anything in Podman; set up first, torn down last."""
    with timings.step("prerequisites: podman, runc, debootstrap, podman-compose"):
        try:
            images.install_prerequisites(timings.note)
        except images.CannotRun as error:
            pytest.exit(str(error), returncode=1)
        timings.note(run(PODMAN_COMPOSE, "--version").stdout.splitlines()[0])
    before = inventory()
    yield
    left = left_behind(before)
    if left:
        pytest.fail(f"e2e left this behind in Podman: {left}", pytrace=False)


@pytest.fixture(scope="session")
def base_images(timings: Timings) -> dict[str, str]:
    """Return PYTHON_IMAGE, POSTGRES_IMAGE, REDIS_IMAGE, NGINX_IMAGE, DEBIAN_IMAGE."""
    with timings.step("base images (real ones, or stand-ins built once)"):
        return images.base_images(timings.note)


@pytest.fixture(scope="session")
def smtp_image(base_images: dict[str, str], timings: Timings) -> str:
    """Return the image of the SMTP server the stacks' workers mail through."""
    with timings.step("the SMTP server's image (aiosmtpd stand-in)"):
        return images.smtp_image(timings.note)


@pytest.fixture(scope="session")
def workspace(timings: Timings) -> Iterator[Path]:
    """Return the root of a throwaway copy of the project, with fresh env files."""
    with timings.step("a throwaway copy of the project"):
        copy = make_workspace()
    timings.note(f"{copy}, env files written")
    try:
        yield copy
    finally:
        if os.environ.get("KEEL_E2E_KEEP") == "1":
            timings.note(f"kept {copy} (KEEL_E2E_KEEP=1)")
        else:
            remove_workspace(copy)


def project(kind: str) -> str:
    """Return a compose project name of this run's, apart from any user's."""
    return f"keele2e{os.getpid()}{kind}"


def build(
    workspace: Path,
    base_images: dict[str, str],
    service: str,
    image: tuple[str, str],
    timings: Timings,
    label: str,
    profiles: tuple[str, ...] = (),
) -> None:
    """Build the production stack's service as image (its variable, its name)."""
    variable, name = image
    builder = Stack(
        workspace, project("prod"), PROD_FILES, {**base_images, variable: name},
        profiles=profiles,
    )  # fmt: skip
    with timings.step(f"{label} (podman-compose build {service})"):
        builder.compose("build", service, timeout=1200)


@pytest.fixture(scope="session")
def backend_image(
    workspace: Path, base_images: dict[str, str], timings: Timings
) -> str:
    """Return keel's image, built from backend/Containerfile by podman-compose."""
    image = ("BACKEND_IMAGE", BACKEND_IMAGE)
    build(workspace, base_images, "backend", image, timings, "keel's image")
    size, base = (
        int(podman("image", "inspect", "--format", "{{.Size}}", image))
        for image in (BACKEND_IMAGE, base_images["PYTHON_IMAGE"])
    )
    timings.figure(
        "keel's layers on top of the base image: "
        f"{(size - base) / 1e6:.1f} MB ({(size - base) / 2**20:.1f} MiB)"
    )
    return BACKEND_IMAGE


@pytest.fixture(scope="session")
def proxy_image(workspace: Path, base_images: dict[str, str], timings: Timings) -> str:
    """Return keel's proxy image, built from deploy/proxy/ by podman-compose."""
    image = ("PROXY_IMAGE", PROXY_IMAGE)
    build(workspace, base_images, "proxy", image, timings, "keel's proxy image")
    return PROXY_IMAGE


@pytest.fixture(scope="session")
def pgbouncer_image(
    workspace: Path, base_images: dict[str, str], timings: Timings
) -> str:
    """Return keel's PgBouncer image, built from deploy/pgbouncer/ by podman-compose."""
    image = ("PGBOUNCER_IMAGE", PGBOUNCER_IMAGE)
    build(
        workspace, base_images, "pgbouncer", image, timings, "keel's PgBouncer image",
        profiles=("pgbouncer",),
    )  # fmt: skip
    return PGBOUNCER_IMAGE


@contextmanager
def taken_down(
    stack: Stack | KubePlay,
    label: str,
    request: pytest.FixtureRequest,
    timings: Timings,
    after: Callable[[], object] = lambda: None,
) -> Iterator[None]:
    """Take stack down however the block ends, then run after; show its logs
    if anything failed."""
    try:
        yield
    except BaseException:
        timings.say(stack.logs())
        raise
    else:
        if request.session.testsfailed:
            timings.say(stack.logs())
    finally:
        with timings.step(f"{label}: down, volumes included"):
            stack.down()
            after()


@pytest.fixture(scope="session")
def production(
    request: pytest.FixtureRequest,
    workspace: Path,
    base_images: dict[str, str],
    backend_image: str,
    proxy_image: str,
    smtp_image: str,
    timings: Timings,
) -> Iterator[Stack]:
    """Return the production stack (Redis, 3 replicas, 2 workers), via its proxy."""
    https_port, http_port = free_port(), free_port()
    env = {
        **base_images,
        "BACKEND_IMAGE": backend_image,
        "PROXY_IMAGE": proxy_image,
        "SMTP_IMAGE": smtp_image,
        "PROXY_HTTPS_PORT": f"{https_port}",
        "PROXY_HTTP_PORT": f"{http_port}",
        "KEEL_REPLICAS": f"{PROD_REPLICAS}",
        "KEEL_WORKER_REPLICAS": f"{PROD_WORKERS}",
    }
    stack = Stack(
        workspace, project("prod"), PROD_FILES, env, profiles=("redis",),
        port=https_port, http_port=http_port, tls=True,
    )  # fmt: skip
    # The stack's Podman secrets have fixed names: a user's make prod has them.
    taken = [
        name
        for name in PROD_SECRETS
        # Podman 4.3 has no `secret exists`.
        if run("podman", "secret", "inspect", name, check=False).returncode == 0
    ]
    if taken:
        pytest.fail(
            f"Podman secrets {taken} exist already (make prod?); "
            "stop it with make down",
            pytrace=False,
        )
    secrets_script = (sys.executable, "scripts/podman_secrets.py")
    run(*secrets_script, "create", cwd=workspace)
    with taken_down(stack, "production", request, timings, after=(
        lambda: run(*secrets_script, "rm", cwd=workspace)
    )):  # fmt: skip
        with timings.step("production: up to first answer"):
            stack.compose("up", "-d")
            seconds = wait_until(
                "the production backend through its proxy",
                answers(stack.endpoint),
                timeout=180,
            )
            # The first answer is one replica's; the checks reach each one.
            for replica in stack.replicas("backend"):
                wait_until(
                    replica,
                    answers(8000, host=stack.address(replica)),
                    timeout=180,
                )
        timings.figure(
            f"production stack up to first answer: {seconds:.1f} s "
            "(database created, all migrations applied)"
        )
        yield stack


@pytest.fixture(scope="session")
def superuser(production: Stack) -> Superuser:
    """Return a superuser made in production by createsuperuser --noinput."""
    user = Superuser("e2e-admin", secrets.token_urlsafe(18))
    exec_in(
        production.container("backend"),
        "python", "manage.py", "createsuperuser", "--noinput",
        env={
            "DJANGO_SUPERUSER_USERNAME": user.username,
            "DJANGO_SUPERUSER_PASSWORD": user.password,
            "DJANGO_SUPERUSER_EMAIL": "e2e@example.com",
        },
    )  # fmt: skip
    return user


@pytest.fixture(scope="session")
def signed_in(production: Stack, superuser: Superuser) -> dict[str, str]:
    """Return the headers of a request in the superuser's admin session."""
    login = admin_login(production.endpoint, superuser.username, superuser.password)
    session = login.cookies().get("sessionid")
    assert session, f"the admin login set no session (status {login.status})"
    return {**HTTPS, "Cookie": f"sessionid={session}"}


@pytest.fixture(scope="session")
def development(
    request: pytest.FixtureRequest,
    workspace: Path,
    base_images: dict[str, str],
    backend_image: str,
    smtp_image: str,
    timings: Timings,
) -> Iterator[Stack]:
    """Return the development stack, runserver answering on the bind mount."""
    port, db_port = free_port(), free_port()
    uid, gid = DEV_OWNER
    for path in [workspace / "backend", *(workspace / "backend").rglob("*")]:
        os.chown(path, uid, gid, follow_symlinks=False)
    env = {
        **base_images,
        "BACKEND_IMAGE": backend_image,
        "SMTP_IMAGE": smtp_image,
        "BACKEND_PUBLISH_PORT": f"{port}",
        # Port 5432 may be taken on the host (a PostgreSQL of its own).
        "DB_PUBLISH_PORT": f"{db_port}",
        # What `make up` passes: the owner of the checkout's backend/.
        "KEEL_DEV_USER": f"{uid}:{gid}",
    }
    # backend/.env's REDIS_URL names the redis service (e2e/workspace.py): the
    # throttles of the reset endpoint need it here too.
    stack = Stack(
        workspace, project("dev"), DEV_FILES, env, profiles=("redis",), port=port
    )
    with taken_down(stack, "development", request, timings):
        with timings.step("development: up to first answer"):
            stack.compose("up", "-d")
            wait_until("runserver", answers(port), timeout=180)
        yield stack


@pytest.fixture(scope="session")
def kube(
    request: pytest.FixtureRequest,
    workspace: Path,
    base_images: dict[str, str],
    backend_image: str,
    smtp_image: str,
    timings: Timings,
) -> Iterator[KubePlay]:
    """Return deploy/kube.yaml played by Podman, the backend answering."""
    if exists("pod", "keel-db"):
        pytest.fail(
            "a pod keel-db exists already (make kube?); stop it with make kube-down",
            pytrace=False,
        )
    play = KubePlay(
        workspace, base_images["POSTGRES_IMAGE"], base_images["REDIS_IMAGE"],
        backend_image, project("kube"), smtp_image,
    )  # fmt: skip
    play.render()
    with taken_down(play, "kube", request, timings):
        with timings.step("kube: podman kube play to every replica's first answer"):
            play.up()
            for backend in play.backends():
                wait_until(
                    backend, answers(8000, host=play.address(backend)), timeout=180
                )
        yield play
