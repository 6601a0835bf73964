"""
Test set-up shared by the whole suite: the environment and a real PostgreSQL.

pytest-django is configured here, in pytest_configure, rather than from the
ini file, because settings require the database's address when they load:
with DB_HOST in the environment the suite uses that server; otherwise it
starts a throwaway PostgreSQL from the binaries on this machine and stops it
when the session ends.
"""

import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest
from pytest_postgresql.executors import PostgreSQLExecutor

NO_POSTGRES = (
    "keel's tests need PostgreSQL. Either point them at a server "
    "(DB_HOST, DB_PORT, DB_USER, DB_PASSWORD, DB_NAME in the environment) or "
    "install the PostgreSQL server binaries, e.g. `apt-get install postgresql` "
    "on Debian and Ubuntu, `dnf install postgresql-server` on Fedora, "
    "`brew install postgresql` on macOS."
)

_server: PostgreSQLExecutor | None = None
_workdir: str | None = None


def find_pg_ctl() -> str | None:
    """Return the newest pg_ctl found on PATH, via pg_config, or under /usr/lib."""
    on_path = shutil.which("pg_ctl")
    if on_path:
        return on_path
    pg_config = shutil.which("pg_config")
    if pg_config:
        bindir = subprocess.run(
            [pg_config, "--bindir"], capture_output=True, text=True, check=False
        ).stdout.strip()
        if os.access(Path(bindir, "pg_ctl"), os.X_OK):
            return str(Path(bindir, "pg_ctl"))
    candidates = glob.glob("/usr/lib/postgresql/*/bin/pg_ctl")
    candidates.sort(key=lambda path: int(Path(path).parent.parent.name.split(".")[0]))
    return candidates[-1] if candidates else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pg_ctl_for_this_user(pg_ctl: str, workdir: Path) -> str:
    """Return a pg_ctl that runs as a non-root user: PostgreSQL refuses root."""
    if os.geteuid() != 0:
        return pg_ctl
    user = "postgres"
    try:
        pwd.getpwnam(user)
    except KeyError:
        user = "nobody"
    wrapper = workdir / "pg_ctl"
    wrapper.write_text(
        f'#!/bin/sh\ncd "{workdir}" && exec runuser -u {user} -- "{pg_ctl}" "$@"\n'
    )
    wrapper.chmod(0o755)
    workdir.chmod(0o755)
    shutil.chown(workdir, user=user)
    return str(wrapper)


def start_postgres() -> dict[str, str]:
    """Start a throwaway PostgreSQL and return the DB_* variables to reach it."""
    global _server, _workdir
    pg_ctl = find_pg_ctl()
    if pg_ctl is None:
        pytest.exit(NO_POSTGRES, returncode=2)
    _workdir = tempfile.mkdtemp(prefix="keel-test-pg-")
    workdir = Path(_workdir)
    port = free_port()
    _server = PostgreSQLExecutor(
        executable=pg_ctl_for_this_user(pg_ctl, workdir),
        host="127.0.0.1",
        port=port,
        datadir=str(workdir / "data"),
        unixsocketdir=str(workdir),
        logfile=str(workdir / "postgresql.log"),
        startparams="-w",
        dbname="keel",
        user="postgres",
        # Durability is irrelevant for a throwaway server; skipping fsync is faster.
        postgres_options=(
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        ),
    )
    _server.start()
    return {
        "DB_HOST": "127.0.0.1",
        "DB_PORT": str(port),
        "DB_USER": "postgres",
        "DB_PASSWORD": "",
        "DB_NAME": "keel",
    }


def suite_environment() -> dict[str, str]:
    """Return the environment the suite runs in: production-like, debug off."""
    return {
        "DJANGO_ENV_FILE": "",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "testserver,localhost,127.0.0.1",
        "CORS_ALLOWED_ORIGINS": "https://app.example.com",
        "CSRF_TRUSTED_ORIGINS": "https://app.example.com",
        # Tests speak plain HTTP to the app; the redirect has tests of its own.
        "DJANGO_SECURE_SSL_REDIRECT": "0",
    }


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("help") or config.getoption("version"):
        return
    for name, value in suite_environment().items():
        os.environ.setdefault(name, value)
    if not os.environ.get("DB_HOST"):
        os.environ.update(start_postgres())
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "configs.settings")
    from django.conf import settings

    # Loading settings here lets pytest-django finish setting Django up.
    settings.DATABASES  # noqa: B018


def pytest_unconfigure(config: pytest.Config) -> None:
    if _server is not None:
        _server.stop()
    if _workdir is not None:
        shutil.rmtree(_workdir, ignore_errors=True)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Hash passwords cheaply: the real hasher's cost is the point, not the test."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _static_files_without_collectstatic(settings):
    """Serve static files from the apps: the suite never runs collectstatic."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        },
    }
