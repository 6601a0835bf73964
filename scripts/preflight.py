"""
Check what a make target needs before it starts, and say how to fix what is missing.

    python scripts/preflight.py python    Python 3.11 or newer (before .venv exists)
    python scripts/preflight.py dev       make dev (or serve): the server's port, and
                                          without DB_HOST the PostgreSQL server binaries
    python scripts/preflight.py up        make up (or prod, kube): Podman, its images,
                                          the published ports, the env files in sync

Each failure is one line: what is wrong, then the one command that fixes it.
The exit status is 1 when anything failed. The ``python`` check uses only the
standard library and old syntax, so that an old interpreter can still say it
is too old.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BACKEND = ROOT / "backend"
MINIMUM_PYTHON = (3, 11)
# The compose files' defaults; the same variables override both.
IMAGES = {
    "POSTGRES_IMAGE": "docker.io/library/postgres:16-alpine",
    "PYTHON_IMAGE": "docker.io/library/python:3.12-slim",
}
# The production stack's proxy is built on this one (deploy/proxy/Containerfile).
PROXY_BASE = {"NGINX_IMAGE": "docker.io/library/nginx:1.27-bookworm"}
NO_REGISTRY = "no registry? `make dev` runs keel without containers"


def check_python(version: tuple[int, ...] = sys.version_info[:3]) -> list[str]:
    if tuple(version[:2]) >= MINIMUM_PYTHON:
        return []
    found = ".".join(str(part) for part in version[:3])
    return [
        f"Python {found} is too old; keel needs 3.11 or newer. "
        "Fix: `make PYTHON=python3.11 <target>` (install it with your package "
        "manager, e.g. `apt-get install python3.11-venv`)"
    ]


def check_port(
    port: int, variable: str, fix: str, host: str = "127.0.0.1"
) -> list[str]:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return [f"port {port} ({variable}) is taken. Fix: `{fix}`"]
    return []


def check_postgres_binaries(
    path: str | None = None, debian_glob: str | None = None
) -> list[str]:
    sys.path.insert(0, str(BACKEND))
    from testing.postgres import DEBIAN_PG_CTL, find_pg_ctl

    if find_pg_ctl(path=path, debian_glob=debian_glob or DEBIAN_PG_CTL):
        return []
    return [
        "no PostgreSQL server binaries (pg_ctl) for keel's own database. Fix: "
        "`apt-get install postgresql` (Fedora: `dnf install postgresql-server`, "
        "macOS: `brew install postgresql`), or set DB_HOST in backend/.env to "
        "your own server"
    ]


def check_podman(path: str | None = None) -> tuple[str | None, list[str]]:
    podman = shutil.which("podman", path=path)
    if podman:
        return podman, []
    return None, [
        "Podman is not installed. Fix: `apt-get install podman` "
        "(or `make dev` runs keel without containers)"
    ]


def check_images(
    podman: str, images: list[str], pull_timeout: float = 120
) -> list[str]:
    """Return a problem for each image neither present nor pullable."""
    problems = []
    for image in images:
        present = subprocess.run(
            [podman, "image", "exists", image], capture_output=True, check=False
        )
        if present.returncode == 0:
            continue
        print(f"preflight: pulling {image}", flush=True)
        try:
            pulled = subprocess.run(
                [podman, "pull", "--quiet", image],
                capture_output=True,
                text=True,
                timeout=pull_timeout,
                check=False,
            )
            failed = pulled.returncode != 0
        except subprocess.TimeoutExpired:
            failed = True
        if failed:
            problems.append(f"cannot pull {image} ({NO_REGISTRY})")
    return problems


def check_env_files(env_file: Path, db_env_file: Path) -> list[str]:
    sys.path.insert(0, str(BACKEND))
    from core.checks import env_sync_errors

    return [
        f"{error.msg} Fix: {error.hint}"
        for error in env_sync_errors(env_file, db_env_file)
    ]


def stack_is_running(podman: str) -> bool:
    """Return whether the compose stack's backend runs (its ports are its own)."""
    project = os.environ.get("COMPOSE_PROJECT_NAME") or "keel"
    listed = subprocess.run(
        [
            podman,
            "ps",
            "--quiet",
            "--filter",
            f"label=io.podman.compose.project={project}",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    return bool(listed.stdout.strip())


def dev_problems(target: str) -> list[str]:
    port = int(os.environ.get("KEEL_PORT") or 8000)
    problems = check_port(port, "KEEL_PORT", f"KEEL_PORT={port + 1} make {target}")
    sys.path.insert(0, str(BACKEND))
    from configs.env import read_environment

    env_file = os.environ.get("KEEL_ENV_FILE", str(BACKEND / ".env"))
    values = read_environment(os.environ, Path(env_file) if env_file else None)
    if not values.get("DB_HOST", "").strip():
        # The variable lets the tests simulate a machine without Debian's folder.
        problems += check_postgres_binaries(
            debian_glob=os.environ.get("KEEL_PREFLIGHT_DEBIAN_GLOB")
        )
    return problems


def stack_problems(target: str) -> list[str]:
    podman, problems = check_podman()
    if podman is None:
        return problems
    bases = {**IMAGES, **(PROXY_BASE if target == "prod" else {})}
    images = [os.environ.get(name) or default for name, default in bases.items()]
    problems += check_images(podman, images)
    if target != "kube" and not stack_is_running(podman):
        # What each stack publishes: development the backend and the database,
        # production only the proxy (podman-compose.prod.yml).
        ports = (
            {"DB_PUBLISH_PORT": 5432, "BACKEND_PUBLISH_PORT": 8000}
            if target == "up"
            else {"PROXY_HTTPS_PORT": 8443, "PROXY_HTTP_PORT": 8080}
        )
        for variable, default in ports.items():
            port = int(os.environ.get(variable) or default)
            problems += check_port(
                port, variable, f"{variable}={port + 1} make {target}"
            )
    problems += check_env_files(BACKEND / ".env", BACKEND / "db.env")
    return problems


def main(arguments: list[str]) -> int:
    what = arguments[0] if arguments else ""
    if what == "python":
        problems = check_python()
    elif what in ("dev", "serve"):
        problems = dev_problems(what)
    elif what in ("up", "prod", "kube"):
        problems = stack_problems(what)
    else:
        print(f"usage: {sys.argv[0]} python|dev|serve|up|prod|kube", file=sys.stderr)
        return 2
    for problem in problems:
        print(f"make {what}: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
