"""
A throwaway PostgreSQL server for the test suite and the benchmark.

It runs from the server binaries on this machine (PATH, ``pg_config --bindir``
or /usr/lib/postgresql/*/bin) in a temporary folder on a free port, through
pytest-postgresql's executor, and leaves nothing behind when stopped.
"""

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from pytest_postgresql.executors import PostgreSQLExecutor

# Re-exported: the benchmark and e2e import free_port from here.
from testing.network import free_port as free_port

NO_POSTGRES = (
    "keel needs PostgreSQL here. Either point it at a server "
    "(DB_HOST, DB_PORT, DB_USER, DB_PASSWORD, DB_NAME in the environment) or "
    "install the PostgreSQL server binaries, e.g. `apt-get install postgresql` "
    "on Debian and Ubuntu, `dnf install postgresql-server` on Fedora, "
    "`brew install postgresql` on macOS."
)


class PostgresNotFound(RuntimeError):
    """No PostgreSQL server binaries on this machine."""


def find_pg_ctl() -> str | None:
    """Return the pg_ctl found on PATH, via pg_config, or the newest under /usr/lib."""
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


class ThrowawayPostgres:
    """A PostgreSQL server in a temporary folder; ``stop()`` removes the folder."""

    def __init__(self, max_connections: int = 100) -> None:
        pg_ctl = find_pg_ctl()
        if pg_ctl is None:
            raise PostgresNotFound(NO_POSTGRES)
        self.workdir = Path(tempfile.mkdtemp(prefix="keel-pg-"))
        self.port = free_port()
        self.executor = PostgreSQLExecutor(
            executable=pg_ctl_for_this_user(pg_ctl, self.workdir),
            host="127.0.0.1",
            port=self.port,
            datadir=str(self.workdir / "data"),
            unixsocketdir=str(self.workdir),
            logfile=str(self.workdir / "postgresql.log"),
            startparams="-w",
            dbname="keel",
            user="postgres",
            # Durability is irrelevant for a throwaway server; skipping it is faster.
            postgres_options=(
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                f"-c max_connections={max_connections}"
            ),
        )

    def start(self, timeout: float = 30) -> "ThrowawayPostgres":
        """Start the server and return once it answers a query."""
        self.executor.start()
        self.wait_until_ready(timeout)
        return self

    def wait_until_ready(self, timeout: float) -> None:
        """
        Return once a real query succeeds, or raise TimeoutError.

        An open port is not enough: a server that is still starting, or
        recovering after a stop, accepts connections and refuses them with
        "the database system is starting up".
        """
        import psycopg

        deadline = time.monotonic() + timeout
        while True:
            try:
                with psycopg.connect(
                    host="127.0.0.1",
                    port=self.port,
                    user="postgres",
                    dbname="postgres",
                    connect_timeout=1,
                ) as connection:
                    connection.execute("SELECT 1").fetchone()
                return
            except psycopg.OperationalError as error:
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"PostgreSQL did not answer a query within {timeout:g} s: "
                        f"{error}"
                    ) from error
                time.sleep(0.05)

    def stop(self) -> None:
        """Stop the server, keeping its data, so that start() brings it back."""
        self.executor.stop()

    def remove(self) -> None:
        """Stop the server if running and delete its folder."""
        if self.executor.running():
            self.executor.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def create_database(self) -> None:
        """Create the database environment() names (the suite creates its own)."""
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname="postgres"
        ) as connection:
            connection.autocommit = True
            connection.execute("CREATE DATABASE keel")

    def environment(self) -> dict[str, str]:
        """Return the DB_* variables that reach this server."""
        return {
            "DB_HOST": "127.0.0.1",
            "DB_PORT": str(self.port),
            "DB_USER": "postgres",
            "DB_PASSWORD": "",
            "DB_NAME": "keel",
        }
