"""
Replace the production stack's backend replicas with a new image, one at a time.

    roll.py [--project NAME] [--no-build] COMPOSE...

COMPOSE is the podman-compose command line of the stack, files included
(`make roll` passes ``podman-compose -f podman-compose.yml -f
podman-compose.prod.yml``); the project is COMPOSE_PROJECT_NAME, else keel.
The image is built first (``COMPOSE build backend``) unless --no-build. Then,
for each running replica in turn:

1. Its successor is created by podman-compose under the same name, from the
   new image, with the same settings; the old container is renamed aside
   (``<name>-old``) and keeps serving.
2. The old one refuses new connections: a firewall rule in its network
   namespace answers a new connection to port 8000 with a reset, which the
   proxy retries on another replica whatever the method, since nothing was
   sent. A second later every request it had accepted is in flight.
3. SIGTERM (``podman stop``): granian finishes those in-flight requests, up
   to KEEL_SHUTDOWN_TIMEOUT, and exits.
4. The successor takes the old one's address, MAC address and network
   aliases, so the proxy's cached answer for the name ``backend`` stays true,
   and starts (the stopped old one is removed at the end). It listens only
   once it is ready to answer (the entrypoint waits for the database and
   migrates, then granian's workers load the app and bind), so until then it
   too refuses, and the proxy retries elsewhere.
5. The roll waits for its healthcheck (``/readyz``), and until the proxy has
   looked the name up again since the swap (PROXY_RESOLVER_VALID), then moves
   on. The worker is recreated last, from the same image.

A replica that is not ready within READY_TIMEOUT stops the roll with an error;
the ones not yet replaced keep the old image. Step 2 runs iptables in the
replica's network namespace from the host (nsenter), so it needs root, or
rootless Podman's ``podman unshare``. Standard library only.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass

SERVICE = "backend"
PORT = 8000
# Seconds the old replica is given, refusing new connections, before SIGTERM:
# what nginx wrote on a connection it had opened is read by then.
SETTLE_AFTER_BLOCK = 1.0
READY_TIMEOUT = 120.0
# deploy/proxy/nginx.conf's `resolver ... valid=10s`, plus a second.
PROXY_RESOLVER_VALID = 11.0
# Settings the stack takes from the environment of `make prod`, which the
# roll must be given alike (PGBOUNCER=1 sets DB_POOLER_HOST).
CALLER_SETTINGS = ("DB_POOLER_HOST",)


class RollError(Exception):
    """The roll cannot start or go on; the message says why and what to do."""


@dataclass(frozen=True)
class Attachment:
    """A container's place on one network: what its successor must take over."""

    network: str
    ip: str
    mac: str
    aliases: tuple[str, ...]


def run(*command: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Return the finished command, output captured; raise RollError if it failed."""
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if check and completed.returncode != 0:
        output = (completed.stdout + completed.stderr).strip()[-2000:]
        raise RollError(
            f"`{' '.join(command)}` exited {completed.returncode}:\n{output}"
        )
    return completed


def podman(*args: str) -> str:
    return run("podman", *args).stdout.strip()


def replicas(project: str, service: str = SERVICE) -> list[str]:
    """Return the names of the project's running containers of service, in order."""
    names = podman(
        "ps", "--format", "{{.Names}}",
        "--filter", f"label=io.podman.compose.project={project}",
        "--filter", f"label=com.docker.compose.service={service}",
    ).split()  # fmt: skip
    return sorted(names, key=replica_number)


def replica_number(name: str) -> int:
    """Return the replica's number: podman-compose names it <project>_<service>_<n>."""
    suffix = name.rsplit("_", 1)[-1]
    if not suffix.isdigit():
        raise RollError(f"{name} is not named <project>_{SERVICE}_<n>; not rolled")
    return int(suffix)


def attachments(container: str) -> list[Attachment]:
    """Return the container's networks with its address, MAC and aliases on each."""
    info = json.loads(podman("container", "inspect", container))[0]
    short_id = info["Id"][:12]
    return [
        Attachment(
            network=network,
            ip=settings["IPAddress"],
            mac=settings["MacAddress"],
            # Podman adds the short id itself, the new container's own.
            aliases=tuple(a for a in settings.get("Aliases") or () if a != short_id),
        )
        for network, settings in info["NetworkSettings"]["Networks"].items()
    ]


def environment(container: str, name: str) -> str:
    """Return the value of the container's environment variable name, or ""."""
    env = json.loads(
        podman("container", "inspect", "--format", "{{json .Config.Env}}", container)
    )
    values = [line.split("=", 1)[1] for line in env if line.startswith(f"{name}=")]
    return values[-1] if values else ""


def refuse_new_connections(container: str) -> None:
    """Reset every new connection to the container's port; the open ones go on."""
    pid = podman("container", "inspect", "--format", "{{.State.Pid}}", container)
    rule = (
        "iptables", "-I", "INPUT", "-p", "tcp", "--dport", f"{PORT}", "--syn",
        "-j", "REJECT", "--reject-with", "tcp-reset",
    )  # fmt: skip
    # Rootless Podman's network namespaces belong to the user's namespace.
    rootless = podman("info", "--format", "{{.Host.Security.Rootless}}") == "true"
    prefix = ("podman", "unshare") if rootless else ()
    run(*prefix, "nsenter", "-t", pid, "-n", *rule)


def wait_ready(container: str, timeout: float = READY_TIMEOUT) -> float:
    """Return the seconds until the container's healthcheck passed; raise if never."""
    started = time.monotonic()
    while True:
        check = run("podman", "healthcheck", "run", container, check=False)
        if check.returncode == 0:
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            answer = (check.stdout + check.stderr).strip()[-500:]
            raise RollError(
                f"{container} was not ready within {timeout:.0f} s (last answer: "
                f"{answer}); the roll stopped, the replicas after it keep the old "
                f"image. See: podman logs {container}"
            )
        time.sleep(0.5)


def replace(name: str, compose: list[str]) -> str:
    """Replace one replica by a container of the new image, as the module says.

    Return the old container's name: stopped, it is removed once the worker,
    which podman-compose made to require it, has been recreated.
    """
    places = attachments(name)
    old = f"{name}-old"
    podman("rename", name, old)
    try:
        # Only the missing container is created: the others exist.
        run(*compose, "up", "-d", "--no-start", "--no-deps", "--no-recreate", SERVICE)
        if run("podman", "container", "exists", name, check=False).returncode != 0:
            raise RollError(
                f"podman-compose did not create {name}: is KEEL_REPLICAS the "
                "count the stack was started with?"
            )
        for setting in CALLER_SETTINGS:
            was, now = (environment(container, setting) for container in (old, name))
            if was != now:
                raise RollError(
                    f"{name} would have {setting}={now!r}, the running one "
                    f"{was!r}: run make roll as the stack was started (PGBOUNCER)"
                )
        for place in places:
            podman("network", "disconnect", place.network, name)
        refuse_new_connections(old)
    except BaseException:
        run("podman", "rm", "-f", name, check=False)
        podman("rename", old, name)
        raise
    time.sleep(SETTLE_AFTER_BLOCK)
    stopping = time.monotonic()
    podman("stop", old)
    say(f"{old} drained and stopped in {time.monotonic() - stopping:.1f} s")
    for place in places:
        aliases = [arg for alias in place.aliases for arg in ("--alias", alias)]
        podman(
            "network", "connect", "--ip", place.ip, "--mac-address", place.mac,
            *aliases, place.network, name,
        )  # fmt: skip
    podman("start", name)
    started = time.monotonic()
    ready = wait_ready(name)
    say(f"{name} ready {ready:.1f} s after its start")
    time.sleep(max(0.0, started + PROXY_RESOLVER_VALID - time.monotonic()))
    return old


def say(text: str) -> None:
    print(f"roll: {text}", flush=True)


def roll(project: str, compose: list[str], build: bool) -> None:
    """Rebuild the image unless told not to, then replace each replica in turn."""
    names = replicas(project)
    if not names:
        raise RollError(
            f"no running {SERVICE} container in the compose project {project}: "
            "start the production stack first (make prod)"
        )
    if not replicas(project, "proxy"):
        raise RollError(
            f"the project {project} runs no proxy, so it is not the production "
            "stack (make prod); a roll there would only cut requests"
        )
    missing = [tool for tool in ("nsenter", "iptables") if not shutil.which(tool)]
    if missing:
        raise RollError(
            f"needs {' and '.join(missing)} on the host, to close a replica's port "
            "to new connections before it stops (apt-get install util-linux "
            "iptables)"
        )
    if build:
        say(f"building the {SERVICE} image")
        run(*compose, "build", SERVICE)
    # podman-compose names replicas from KEEL_REPLICAS: the stack's own count.
    os.environ["KEEL_REPLICAS"] = f"{max(map(replica_number, names))}"
    retired = []
    for name in names:
        began = time.monotonic()
        say(f"replacing {name}")
        retired.append(replace(name, compose))
        say(f"{name} replaced in {time.monotonic() - began:.1f} s")
    if replicas(project, "worker"):
        say("recreating the worker (it finishes its jobs on SIGTERM)")
        run(*compose, "up", "-d", "--no-deps", "--force-recreate", "worker")
    podman("rm", *retired)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[1].strip())
    parser.add_argument(
        "--project", default=os.environ.get("COMPOSE_PROJECT_NAME") or "keel"
    )
    parser.add_argument("--no-build", dest="build", action="store_false")
    parser.add_argument("compose", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    if not args.compose:
        parser.error("give the stack's podman-compose command line")
    try:
        roll(args.project, args.compose, args.build)
    except RollError as error:
        print(f"roll: {error}", file=sys.stderr)
        return 1
    say("every replica runs the new image")
    return 0


if __name__ == "__main__":
    sys.exit(main())
