"""keel's worker (bin/worker) as a child process, for the tests and scripts."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

from testing.environment import BACKEND


def database_environment(database: dict[str, Any]) -> dict[str, str]:
    """Return the DB_* variables for one of Django's DATABASES entries."""
    return {
        "DB_NAME": str(database["NAME"]),
        "DB_USER": str(database["USER"]),
        "DB_PASSWORD": str(database["PASSWORD"] or ""),
        "DB_HOST": str(database["HOST"]),
        "DB_PORT": str(database["PORT"] or 5432),
    }


class Worker:
    """bin/worker running with env, its output in a file; stop() ends it."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        # bin/worker runs the `python` on PATH: this interpreter's, first.
        path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
        self.env = {"PATH": path, **env}
        self.log_path = log
        self._log: IO[bytes] | None = None
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> "Worker":
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [str(BACKEND / "bin" / "worker")],
            cwd=BACKEND,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        return self

    def _running(self) -> "subprocess.Popen[bytes]":
        if self.process is None:
            raise RuntimeError("the worker was not started")
        return self.process

    def signal(self, number: signal.Signals) -> None:
        self._running().send_signal(number)

    def wait(self, timeout: float) -> int:
        return self._running().wait(timeout=timeout)

    def stop(self, timeout: float = 30) -> int | None:
        """SIGTERM the worker and wait; SIGKILL it if it outstays timeout."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._log is not None:
            self._log.close()
        return self.process.returncode

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")


def wait_until(condition: Any, timeout: float, interval: float = 0.05) -> bool:
    """Return True once condition() is true, False after timeout seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return bool(condition())
