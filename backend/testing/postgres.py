"""
PostgreSQL servers that keel starts itself, from the binaries on this machine.

Two kinds share one executor (pytest-postgresql's, around pg_ctl):

- ``ThrowawayPostgres``, for the test suite and the benchmark: a temporary
  folder, a free port, no durability, and nothing left behind when removed.
- ``KeptPostgres``, for ``make dev``: a folder that persists (``.keel/`` in the
  checkout), durable writes, and the data kept when it stops.

PostgreSQL refuses to run as root, so as root both run the server as
``postgres`` (or ``nobody``) through a small pg_ctl wrapper.
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


# Where Debian and Ubuntu put the server binaries, off PATH.
DEBIAN_PG_CTL = "/usr/lib/postgresql/*/bin/pg_ctl"


def find_pg_ctl(
    path: str | None = None, debian_glob: str = DEBIAN_PG_CTL
) -> str | None:
    """
    Return the pg_ctl on PATH, via pg_config, or the newest under /usr/lib.

    ``path`` and ``debian_glob`` replace where it looks (the preflight's tests
    use them to simulate a machine without PostgreSQL).
    """
    on_path = shutil.which("pg_ctl", path=path)
    if on_path:
        return on_path
    pg_config = shutil.which("pg_config", path=path)
    if pg_config:
        bindir = subprocess.run(
            [pg_config, "--bindir"], capture_output=True, text=True, check=False
        ).stdout.strip()
        if os.access(Path(bindir, "pg_ctl"), os.X_OK):
            return str(Path(bindir, "pg_ctl"))
    candidates = glob.glob(debian_glob)
    candidates.sort(key=lambda path: int(Path(path).parent.parent.name.split(".")[0]))
    return candidates[-1] if candidates else None


def wait_until_ready(host: str, port: int, user: str, *, timeout: float = 60) -> None:
    """
    Return once a real query succeeds as user, or raise TimeoutError.

    An open port is not enough: a server that is still starting, or
    recovering after a stop, accepts connections and refuses them with
    "the database system is starting up".
    """
    import psycopg

    deadline = time.monotonic() + timeout
    while True:
        try:
            with psycopg.connect(
                host=host, port=port, user=user, dbname="postgres", connect_timeout=1
            ) as connection:
                connection.execute("SELECT 1").fetchone()
            return
        except psycopg.OperationalError as error:
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"PostgreSQL did not answer a query within {timeout:g} s: {error}"
                ) from error
            time.sleep(0.05)


def server_user() -> str | None:
    """Return the user to run PostgreSQL as when this process is root, else None."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return "nobody"
    return "postgres"


def pg_ctl_for_this_user(pg_ctl: str, workdir: Path) -> str:
    """Return a pg_ctl that runs as a non-root user: PostgreSQL refuses root."""
    user = server_user()
    if user is None:
        return pg_ctl
    wrapper = workdir / "pg_ctl"
    wrapper.write_text(
        f'#!/bin/sh\ncd "{workdir}" && exec runuser -u {user} -- "{pg_ctl}" "$@"\n'
    )
    wrapper.chmod(0o755)
    workdir.chmod(0o755)
    shutil.chown(workdir, user=user)
    return str(wrapper)


def executor(
    pg_ctl: str,
    workdir: Path,
    port: int,
    *,
    dbname: str,
    user: str = "postgres",
    postgres_options: str = "",
    executor_class: type[PostgreSQLExecutor] = PostgreSQLExecutor,
) -> PostgreSQLExecutor:
    """Return an executor for a server whose data, socket and log are in workdir."""
    return executor_class(
        executable=pg_ctl_for_this_user(pg_ctl, workdir),
        host="127.0.0.1",
        port=port,
        datadir=str(workdir / "data"),
        unixsocketdir=str(workdir),
        logfile=str(workdir / "postgresql.log"),
        startparams="-w",
        dbname=dbname,
        user=user,
        postgres_options=postgres_options,
    )


class ThrowawayPostgres:
    """A PostgreSQL server in a temporary folder; ``remove()`` deletes the folder."""

    def __init__(self, max_connections: int = 100) -> None:
        pg_ctl = find_pg_ctl()
        if pg_ctl is None:
            raise PostgresNotFound(NO_POSTGRES)
        self.workdir = Path(tempfile.mkdtemp(prefix="keel-pg-"))
        self.port = free_port()
        self.executor = executor(
            pg_ctl,
            self.workdir,
            self.port,
            dbname="keel",
            # Durability is irrelevant for a throwaway server; skipping it is faster.
            postgres_options=(
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                f"-c max_connections={max_connections}"
            ),
        )

    def start(self, timeout: float = 30) -> "ThrowawayPostgres":
        """Start the server and return once it answers a query."""
        self.executor.start()
        wait_until_ready("127.0.0.1", self.port, "postgres", timeout=timeout)
        return self

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


class _KeptDataExecutor(PostgreSQLExecutor):
    """pytest-postgresql's executor, minus its habit of deleting the data folder."""

    password_file: Path | None = None

    def init_directory(self) -> None:
        """Initialise the cluster once; a folder that holds one is reused as is."""
        if Path(self.datadir, "PG_VERSION").is_file():
            return
        # Sockets (in the folder, mode 700) trust their user; TCP needs the
        # password, which initdb reads from a file the server's user can read.
        options = [
            f"--username={self.user}",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
        ]
        if self.password_file is not None:
            options.append(f"--pwfile={self.password_file}")
        self._run_initdb(self._build_initdb_command(options))

    def clean_directory(self) -> None:
        """Keep the data: this server's whole point is that it persists."""


class KeptPostgres:
    """
    A PostgreSQL server whose data lives in ``workdir`` across restarts.

    Its superuser is ``user`` with ``password`` over TCP on 127.0.0.1; over the
    Unix socket in ``workdir`` (mode 700) its owner needs no password.
    """

    def __init__(self, workdir: Path, port: int, *, user: str, password: str) -> None:
        pg_ctl = find_pg_ctl()
        if pg_ctl is None:
            raise PostgresNotFound(NO_POSTGRES)
        workdir.mkdir(parents=True, exist_ok=True)
        self.workdir = workdir.resolve()
        self.port = port
        self.user = user
        self.executor = executor(
            pg_ctl,
            self.workdir,
            port,
            dbname="postgres",
            user=user,
            # A commit returns before its WAL reaches the disk: a crash of the
            # machine may lose the last moments of work, never the cluster
            # (fsync stays on), and a migration's many commits wait less on it.
            postgres_options="-c synchronous_commit=off",
            executor_class=_KeptDataExecutor,
        )
        self.workdir.chmod(0o700)
        if password:
            password_file = self.workdir / "initdb-password"
            password_file.write_text(password + "\n")
            password_file.chmod(0o600)
            owner = server_user()
            if owner is not None:
                shutil.chown(password_file, user=owner)
            self.executor.password_file = password_file  # type: ignore[attr-defined]

    @property
    def initialised(self) -> bool:
        return Path(self.executor.datadir, "PG_VERSION").is_file()

    def running(self) -> bool:
        return bool(self.executor.running())

    def start(self) -> "KeptPostgres":
        """Start the server, first creating the cluster if the folder has none."""
        try:
            self.executor.start()
        finally:
            Path(self.workdir, "initdb-password").unlink(missing_ok=True)
        return self

    def stop(self) -> None:
        """Stop the server (fast shutdown: sessions end, data is flushed)."""
        if self.running():
            self.executor.stop()

    def ensure_database(self, name: str) -> None:
        """Create database ``name`` unless it exists, once the server takes queries."""
        import psycopg

        wait_until_ready(str(self.workdir), self.port, self.user)
        connection = psycopg.connect(
            host=str(self.workdir), port=self.port, user=self.user, dbname="postgres"
        )
        with connection:
            connection.autocommit = True
            exists = connection.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [name]
            ).fetchone()
            if not exists:
                connection.execute(
                    psycopg.sql.SQL("CREATE DATABASE {}").format(
                        psycopg.sql.Identifier(name)
                    )
                )
