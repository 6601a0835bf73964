"""Run commands (podman, podman-compose, the project's scripts) and wait on them."""

import os
import subprocess
import time
from collections.abc import Callable


class CommandFailed(Exception):
    """A command exited non-zero; the message holds the command and its output."""


class TimedOut(Exception):
    """A condition did not hold in time; the message says which."""


def run(
    *command: str,
    cwd: str | os.PathLike[str] | None = None,
    env: dict[str, str] | None = None,
    check: bool = True,
    timeout: float = 600,
) -> subprocess.CompletedProcess[str]:
    """Return the finished command, output captured; raise if check and it failed."""
    completed = subprocess.run(
        command,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and completed.returncode != 0:
        output = (completed.stdout + completed.stderr).strip()[-3000:]
        raise CommandFailed(
            f"`{' '.join(command)}` exited {completed.returncode}:\n{output}"
        )
    return completed


def podman(*args: str, check: bool = True, timeout: float = 600) -> str:
    """Return what a podman command printed, stripped."""
    return run("podman", *args, check=check, timeout=timeout).stdout.strip()


def exists(kind: str, name: str) -> bool:
    """Return whether Podman holds the object, e.g. exists("image", name)."""
    return run("podman", kind, "exists", name, check=False).returncode == 0


def exec_in(
    container: str,
    *command: str,
    env: dict[str, str] | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Return command as run inside container by podman exec."""
    env_args = [
        arg for name, value in (env or {}).items() for arg in ("-e", f"{name}={value}")
    ]
    return run("podman", "exec", *env_args, container, *command, check=check)


def inspect(container: str, template: str) -> str:
    """Return a Go template of podman container inspect, e.g. {{.State.StartedAt}}."""
    return podman("container", "inspect", "--format", template, container)


def wait_until(what: str, condition: Callable[[], bool], timeout: float) -> float:
    """Return the seconds condition took to hold; raise TimedOut after timeout."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise TimedOut(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.2)
    return time.monotonic() - started
