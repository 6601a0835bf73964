"""
A throwaway Redis server for the test suite.

It runs the ``redis-server`` on PATH (Debian's and Ubuntu's package
``redis-server``) on a free port, in a temporary folder, with no persistence,
and leaves nothing behind when stopped.
"""

import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import IO

from testing.network import free_port

NO_REDIS = (
    "keel's Redis tests need redis-server on PATH, as its PostgreSQL tests need "
    "PostgreSQL: `apt-get install redis-server` on Debian and Ubuntu, "
    "`dnf install redis` on Fedora, `brew install redis` on macOS."
)


class RedisNotFound(RuntimeError):
    """No redis-server on PATH."""


class ThrowawayRedis:
    """A Redis server in a temporary folder; ``remove()`` stops it and deletes that."""

    def __init__(self) -> None:
        executable = shutil.which("redis-server")
        if executable is None:
            raise RedisNotFound(NO_REDIS)
        self.executable = executable
        self.workdir = Path(tempfile.mkdtemp(prefix="keel-redis-"))
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None
        self.log = self.workdir / "redis.log"

    def start(self, timeout: float = 15) -> "ThrowawayRedis":
        """Start the server and return once it answers PING."""
        import redis

        with self.log.open("wb") as log:
            self._spawn(log)
        client = redis.Redis.from_url(self.url, socket_connect_timeout=1)
        deadline = time.monotonic() + timeout
        while True:
            if self.process is None or self.process.poll() is not None:
                raise RuntimeError(
                    "redis-server exited: " + self.log.read_text(errors="replace")
                )
            try:
                client.ping()
                break
            except redis.RedisError:
                if time.monotonic() > deadline:
                    self.remove()
                    raise TimeoutError(
                        f"redis-server did not answer within {timeout:g} s"
                    ) from None
                time.sleep(0.02)
            finally:
                client.close()
        return self

    def _spawn(self, log: IO[bytes]) -> None:
        self.process = subprocess.Popen(
            [
                self.executable,
                "--bind", "127.0.0.1",
                "--port", str(self.port),
                "--dir", str(self.workdir),
                # No persistence: nothing is written, nothing is loaded.
                "--save", "",
                "--appendonly", "no",
                "--daemonize", "no",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip

    def remove(self) -> None:
        """Stop the server if running and delete its folder."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.workdir, ignore_errors=True)
