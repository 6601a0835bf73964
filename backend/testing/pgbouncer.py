"""
A throwaway PgBouncer (Debian's /usr/sbin/pgbouncer) in transaction pooling,
on a free port in front of a PostgreSQL, for the tests that need a real one.

As root it runs as PostgreSQL's own user (PgBouncer refuses root). Its admin
console (database ``pgbouncer``) answers the same user: ``servers()`` reads
the server connections it holds, so a test can tell them from direct ones.
"""

import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from testing.network import free_port, listening
from testing.postgres import server_user

PGBOUNCER = "/usr/sbin/pgbouncer"


class PgBouncerNotFound(RuntimeError):
    """No pgbouncer binary on this machine."""


class PgBouncer:
    """PgBouncer pooling database for user, in front of host:port."""

    def __init__(self, *, host: str, port: int, database: str, user: str) -> None:
        self.upstream = (host, port)
        self.database = database
        self.user = user
        self.port = free_port()
        self.workdir = Path(tempfile.mkdtemp(prefix="keel-pgbouncer-"))
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 10) -> "PgBouncer":
        binary = shutil.which("pgbouncer") or PGBOUNCER
        if not Path(binary).is_file():
            raise PgBouncerNotFound(
                "pgbouncer is not installed (apt-get install pgbouncer)"
            )
        host, port = self.upstream
        (self.workdir / "userlist.txt").write_text(f'"{self.user}" ""\n')
        (self.workdir / "pgbouncer.ini").write_text(
            "[databases]\n"
            f"{self.database} = host={host} port={port} dbname={self.database}\n"
            "[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {self.port}\n"
            "unix_socket_dir =\nauth_type = trust\n"
            f"auth_file = {self.workdir}/userlist.txt\n"
            f"admin_users = {self.user}\npool_mode = transaction\n"
            "default_pool_size = 4\n"
        )
        command = [binary, str(self.workdir / "pgbouncer.ini")]
        user = server_user()
        if user is not None:
            shutil.chown(self.workdir, user=user)
            # setpriv execs pgbouncer itself: runuser would stay as its parent
            # and, sent SIGTERM, wait 2 s before it killed it.
            group = pwd.getpwnam(user).pw_gid
            command = [
                "setpriv", f"--reuid={user}", f"--regid={group}", "--init-groups",
                *command,
            ]  # fmt: skip
        log = (self.workdir / "pgbouncer.log").open("wb")
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while not listening(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"pgbouncer did not start: {self.log()}")
            time.sleep(0.02)
        return self

    def log(self) -> str:
        path = self.workdir / "pgbouncer.log"
        return path.read_text() if path.exists() else ""

    def servers(self) -> list[dict[str, object]]:
        """Return SHOW SERVERS: the server connections PgBouncer holds."""
        import psycopg
        from psycopg.rows import dict_row

        with psycopg.connect(
            host="127.0.0.1", port=self.port, user=self.user, dbname="pgbouncer",
            autocommit=True, prepare_threshold=None, row_factory=dict_row,
        ) as admin:  # fmt: skip
            return list(admin.execute("SHOW SERVERS").fetchall())

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        shutil.rmtree(self.workdir, ignore_errors=True)
