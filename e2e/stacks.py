"""
The stacks under test: podman-compose projects, the kube play, and an
inventory of what Podman holds, to show that nothing is left behind.
"""

import ipaddress
import sys
from dataclasses import dataclass, field
from pathlib import Path

from scripts import podman_secrets

from e2e.http import Endpoint
from e2e.shell import CommandFailed, podman, run

PODMAN_COMPOSE = str(Path(sys.executable).with_name("podman-compose"))
# Each stack also runs e2e's SMTP server, which its worker mails through.
SMTP_FILE = ("-f", "e2e/compose.smtp.yml")
DEV_FILES = ("-f", "podman-compose.yml", *SMTP_FILE)
PROD_FILES = ("-f", "podman-compose.yml", "-f", "podman-compose.prod.yml", *SMTP_FILE)
# The SMTP server's name in compose and under kube play: backend/.env's EMAIL_HOST.
SMTP_HOST = "keel-smtp"
BACKEND_IMAGE = "localhost/keel-backend:e2e"
# The production stack's backend replicas (KEEL_REPLICAS; the default is 2).
PROD_REPLICAS = 3
# Its job workers (KEEL_WORKER_REPLICAS; the default is 1).
PROD_WORKERS = 2
# The Podman secrets it mounts (scripts/podman_secrets.py makes them).
PROD_SECRETS = tuple(podman_secrets.secret_names())
PROXY_IMAGE = "localhost/keel-proxy:e2e"
PGBOUNCER_IMAGE = "localhost/keel-pgbouncer:e2e"
KUBE_LABEL = "app.kubernetes.io/part-of=keel"
# deploy/kube.yaml's replicas of keel-backend: Podman 4.3 names their pods
# keel-backend-pod-0, -1, ... and each one's container <pod>-backend.
KUBE_REPLICAS = 3
KUBE_BACKEND = "^keel-backend-pod-[0-9]+-backend$"
KUBE_WORKER = "^keel-worker-pod-[0-9]+-worker$"
# deploy/kube-pgbouncer.yaml's pool, made small here so that 3 replicas of
# 2 workers x 4 threads (24 connections to it) would exceed it.
KUBE_PGBOUNCER_POOL = 5
# The uid:gid that owns the development stack's bind-mounted backend/, as a
# checkout's owner would: not root, and not the image's own user 1000.
DEV_OWNER = (4242, 4242)


@dataclass
class Stack:
    """One podman-compose project in the workspace.

    port is where it answers on the host: the development backend's, or the
    production proxy's HTTPS port (tls), whose plain HTTP port is http_port.
    """

    workspace: Path
    project: str
    files: tuple[str, ...]
    env: dict[str, str]
    profiles: tuple[str, ...] = ()
    port: int = 0
    http_port: int = 0
    tls: bool = False
    containers: dict[str, str] = field(default_factory=dict)

    @property
    def endpoint(self) -> Endpoint:
        return Endpoint(self.port, tls=self.tls)

    def compose(self, *args: str, timeout: float = 600, check: bool = True) -> str:
        """Return what podman-compose printed for this project's args."""
        profile_args = [arg for name in self.profiles for arg in ("--profile", name)]
        return run(
            PODMAN_COMPOSE, *profile_args, "-p", self.project, *self.files, *args,
            cwd=self.workspace, env=self.env, check=check, timeout=timeout,
        ).stdout  # fmt: skip

    def container(self, service: str) -> str:
        """Return the name of the service's one container, or its first replica's."""
        if service not in self.containers:
            names = self.replicas(service)
            if not names:
                raise CommandFailed(f"no {service} container in {self.project}")
            self.containers[service] = names[0]
        return self.containers[service]

    def replicas(self, service: str) -> list[str]:
        """Return the names of the service's containers, in replica order."""
        names = podman(
            "ps", "-a", "--format", "{{.Names}}",
            "--filter", f"label=io.podman.compose.project={self.project}",
            "--filter", f"label=com.docker.compose.service={service}",
        ).split()  # fmt: skip
        return sorted(names, key=lambda name: int(name.rsplit("_", 1)[1]))

    def address(self, container: str) -> str:
        """Return the container's address on the project's network."""
        network = f"{self.project}_default"
        return podman(
            "inspect", "--format",
            f'{{{{(index .NetworkSettings.Networks "{network}").IPAddress}}}}',
            container,
        ).strip()  # fmt: skip

    def down(self) -> None:
        """Remove the project's containers, network and volumes."""
        self.compose("down", "-v", "-t", "30", check=False)

    def logs(self) -> str:
        return logs(f"label=io.podman.compose.project={self.project}")


@dataclass
class KubePlay:
    """deploy/kube.yaml played by Podman on a network of its own.

    The manifest publishes no host port (its replicas would both claim it),
    so the host reaches each replica at its address on the network.
    """

    workspace: Path
    postgres_image: str
    redis_image: str
    backend_image: str
    network: str
    smtp_image: str = ""

    @property
    def manifest(self) -> Path:
        return self.workspace / "deploy" / "kube.e2e.yaml"

    @property
    def pgbouncer_manifest(self) -> Path:
        return self.workspace / "deploy" / "kube-pgbouncer.e2e.yaml"

    @property
    def pooled_manifest(self) -> Path:
        return self.workspace / "deploy" / "kube-pooled.e2e.yaml"

    def render(self) -> None:
        """Write deploy/kube.yaml with the images and the replica count swapped."""
        text = (self.workspace / "deploy" / "kube.yaml").read_text()
        for old, new, times in (
            (
                "image: docker.io/library/postgres:16-alpine",
                f"image: {self.postgres_image}",
                1,
            ),
            (
                "image: docker.io/library/redis:7-alpine",
                f"image: {self.redis_image}",
                1,
            ),
            # The backend's Deployment and the worker's.
            ("image: localhost/keel-backend:latest", f"image: {self.backend_image}", 2),
            # The backend's replicas; the worker's Deployment says 1.
            ("  replicas: 2\n", f"  replicas: {KUBE_REPLICAS}\n", 1),
        ):
            if text.count(old) != times:
                raise ValueError(f"deploy/kube.yaml should hold `{old}` {times}x")
            text = text.replace(old, new)
        self.manifest.write_text(text)

    def pool(self, pgbouncer_image: str) -> None:
        """Play kube-pgbouncer.yaml, then replace the backend and the worker
        with the same Deployments sending requests through it, as make kube
        PGBOUNCER=1 does."""
        text = (self.workspace / "deploy" / "kube-pgbouncer.yaml").read_text()
        for old, new in (
            ("image: localhost/keel-pgbouncer:latest", f"image: {pgbouncer_image}"),
            ('value: "20"', f'value: "{KUBE_PGBOUNCER_POOL}"'),
        ):
            if text.count(old) != 1:
                raise ValueError(f"deploy/kube-pgbouncer.yaml should hold `{old}` 1x")
            text = text.replace(old, new)
        self.pgbouncer_manifest.write_text(text)
        deployments = [
            document
            for document in self.manifest.read_text().split("\n---\n")
            if "kind: Deployment" in document
        ]
        pooled = "\n---\n".join(deployments).replace(
            '- name: DB_POOLER_HOST\n              value: ""',
            "- name: DB_POOLER_HOST\n              value: keel-pgbouncer",
        )
        if pooled.count("value: keel-pgbouncer") != 2:
            raise ValueError("deploy/kube.yaml should set DB_POOLER_HOST twice")
        self.pooled_manifest.write_text(pooled)
        replaced = [
            str(ipaddress.ip_address(self.address(name)))
            for name in [*self.backends(), self.worker()]
        ]
        podman("kube", "play", "--network", self.network, str(self.pgbouncer_manifest))
        podman("kube", "play", "--down", str(self.pooled_manifest))
        # PostgreSQL ends a gone container's sessions only once it notices
        # the peer gone (TCP keepalive, minutes): end them now, so that the
        # counts that follow are of the containers that run.
        # Addresses only, each parsed by ipaddress above.
        addresses = ", ".join(map(repr, replaced))
        self.psql(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "  # noqa: S608
            f"WHERE host(client_addr) IN ({addresses})"
        )
        podman("kube", "play", "--network", self.network, str(self.pooled_manifest))

    def up(self) -> None:
        """Create the secrets and the network, then play the manifest."""
        run(sys.executable, "scripts/kube_secrets.py", "podman", cwd=self.workspace)
        podman("network", "create", self.network)
        # What backend/.env names beside the manifest: e2e's SMTP server, as a
        # container on its network.
        if self.smtp_image:
            podman(
                "run", "-d", "--name", SMTP_HOST, "--network", self.network,
                "--label", KUBE_LABEL, self.smtp_image,
            )  # fmt: skip
        podman("kube", "play", "--network", self.network, str(self.manifest))

    def down(self) -> None:
        """Remove the pods, the volume, the secrets and the network."""
        for manifest in (self.pgbouncer_manifest, self.manifest):
            if manifest.exists():
                run("podman", "kube", "play", "--down", str(manifest), check=False)
        run("podman", "rm", "-f", "-t", "5", SMTP_HOST, check=False)
        run("podman", "volume", "rm", "-f", "keel-pgdata", check=False)
        run("podman", "secret", "rm", "keel-backend", "keel-db", check=False)
        run("podman", "network", "rm", "-f", self.network, check=False)

    def backends(self) -> list[str]:
        """Return the names of the backend replicas' containers, in pod order."""
        names = podman(
            "ps", "--format", "{{.Names}}", "--filter", f"name={KUBE_BACKEND}"
        ).split()  # fmt: skip
        if len(names) != KUBE_REPLICAS:
            raise CommandFailed(
                f"expected {KUBE_REPLICAS} running kube backends, found {names}"
            )
        return sorted(names)

    def backend(self) -> str:
        """Return the name of the first replica's container."""
        return self.backends()[0]

    def worker(self) -> str:
        """Return the name of the worker's one running container."""
        names = podman(
            "ps", "--format", "{{.Names}}", "--filter", f"name={KUBE_WORKER}"
        ).split()  # fmt: skip
        if len(names) != 1:
            raise CommandFailed(f"expected one running kube worker, found {names}")
        return names[0]

    def psql(self, query: str) -> str:
        """Return what psql prints for query, run in the database container."""
        return podman(
            "exec", "keel-db-db", "sh", "-c",
            f'psql -U "$POSTGRES_USER" -d "$POSTGRES_DB" -AtF " " -c "{query}"',
        )  # fmt: skip

    def postgres_connections(self) -> dict[str, int]:
        """Return PostgreSQL's client connections to keel's database, by client
        address (asked over the database container's socket, so the asking
        adds none)."""
        rows = self.psql(
            "SELECT host(client_addr), count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND backend_type = 'client backend' "
            "AND client_addr IS NOT NULL GROUP BY 1"
        )
        return {
            address: int(count)
            for address, count in (line.split() for line in rows.splitlines() if line)
        }

    def address(self, container: str) -> str:
        """Return the container's address on the play's network."""
        return podman(
            "inspect", "--format",
            f'{{{{(index .NetworkSettings.Networks "{self.network}").IPAddress}}}}',
            container,
        ).strip()  # fmt: skip

    def logs(self) -> str:
        # kube play 4.3 labels the pods, not their containers: match by name.
        return logs(f"name=^keel-(db|redis|backend|worker|pgbouncer)-|^{SMTP_HOST}$")


def logs(container_filter: str) -> str:
    """Return the last lines of every container that matches the filter."""
    names = podman("ps", "-a", "--format", "{{.Names}}", "--filter", container_filter)
    parts = []
    for name in names.split():
        tail = run("podman", "logs", "--tail", "40", name, check=False)
        parts.append(f"--- logs of {name}\n{tail.stdout}{tail.stderr}")
    return "\n".join(parts)


def inventory() -> dict[str, set[str]]:
    """Return what Podman holds now: containers, pods, volumes, networks, secrets."""
    return {
        "containers": set(podman("ps", "-a", "-q").split()),
        "pods": set(podman("pod", "ps", "-q").split()),
        "volumes": set(podman("volume", "ls", "-q").split()),
        "networks": set(podman("network", "ls", "-q").split()),
        "secrets": set(podman("secret", "ls", "--format", "{{.Name}}").split()),
    }


def left_behind(before: dict[str, set[str]]) -> dict[str, list[str]]:
    """Return what Podman holds now and did not hold before, by kind."""
    now = inventory()
    left = {kind: sorted(now[kind] - before[kind]) for kind in now}
    return {kind: names for kind, names in left.items() if names}
