"""production: the running container, hardened and bounded."""

import hashlib
import json
from typing import Any

import pytest
from dotenv import dotenv_values
from scripts import podman_secrets

from configs.secret_files import SECRETS
from e2e.hardening import HardenedBackend
from e2e.shell import exec_in, podman
from e2e.stacks import Stack


@pytest.fixture(scope="module")
def host_config(production: Stack) -> dict[str, Any]:
    inspected = json.loads(
        podman("container", "inspect", production.container("backend"))
    )
    return dict(inspected[0]["HostConfig"])


def test_root_filesystem_is_read_only(host_config: dict[str, Any]) -> None:
    assert host_config["ReadonlyRootfs"] is True


def test_memory_is_limited_to_1_gib(host_config: dict[str, Any]) -> None:
    assert host_config["Memory"] == 2**30


def test_cpus_are_limited_to_2(host_config: dict[str, Any]) -> None:
    assert host_config["NanoCpus"] == 2 * 10**9


def secret_path(variable: str) -> str:
    return f"/run/secrets/{podman_secrets.secret_name(variable)}"


@pytest.mark.parametrize("service", ["backend", "worker"])
def test_secrets_are_files_not_in_the_environment(
    production: Stack, service: str
) -> None:
    backend = production.workspace / "backend"
    values = {k: v or "" for k, v in dotenv_values(backend / ".env").items()}
    # Every secret settings read, whatever the script makes.
    set_variables = [v for v in SECRETS if values.get(v)]
    # e2e's backend/.env sets the keys, the database's password, the metrics
    # token and REDIS_URL (Redis's password inside); the rest are unset, and
    # must not stop the stack either.
    assert {"DJANGO_SECRET_KEY", "DB_PASSWORD", "KEEL_METRICS_TOKEN", "REDIS_URL"} <= (
        set(set_variables)
    )
    assert len(set_variables) < len(SECRETS)
    redis_password = dotenv_values(backend / "redis.env")["REDIS_PASSWORD"] or ""
    # Booleans and digests only, so that a failure never prints a secret.
    inside = bool(redis_password) and redis_password in values["REDIS_URL"]
    assert inside, "REDIS_URL should carry backend/redis.env's password"
    files = [secret_path(v) for v in set_variables]
    for container in production.replicas(service):
        inspected = podman("container", "inspect", container)
        leaked = redis_password in inspected
        assert not leaked, f"Redis's password shows in podman inspect {container}"
        # Parsed here, never printed: a failure names only the variable.
        environment = dict(
            line.split("=", 1)
            for line in exec_in(container, "env").stdout.splitlines()
            if "=" in line
        )
        summed = exec_in(container, "sha256sum", *files).stdout
        digests = {
            path: digest
            for digest, path in (line.split(None, 1) for line in summed.splitlines())
        }
        for variable in SECRETS:
            secret = secret_path(variable)
            named = environment.get(f"{variable}_FILE", "")
            if variable in set_variables:
                leaked = values[variable] in inspected
                assert not leaked, f"{variable} shows in podman inspect {container}"
                digest = hashlib.sha256(values[variable].encode()).hexdigest()
                assert digests[secret] == digest, secret
                assert named == secret, f"{variable}_FILE in {container}"
            else:
                assert not named, f"{variable}_FILE is set in {container}"
            # Set, but blank: the value is only in the file.
            blank = not environment.get(variable, "").strip()
            assert blank, f"{variable} has a value in {container}'s env"


@pytest.mark.parametrize(
    ("service", "env_file", "variable"),
    [("db", "db.env", "POSTGRES_PASSWORD"), ("redis", "redis.env", "REDIS_PASSWORD")],
)
def test_the_database_and_redis_read_their_passwords_from_secrets(
    production: Stack, service: str, env_file: str, variable: str
) -> None:
    password = dotenv_values(production.workspace / "backend" / env_file)[variable]
    assert password
    container = production.container(service)
    leaked = password in podman("container", "inspect", container)
    assert not leaked, f"{variable} shows in podman inspect {container}"
    environment = dict(
        line.split("=", 1)
        for line in exec_in(container, "env").stdout.splitlines()
        if "=" in line
    )
    assert not environment.get(variable), f"{variable} has a value in {container}"
    secret = environment[f"{variable}_FILE"]
    ((digest, _),) = [exec_in(container, "sha256sum", secret).stdout.split()]
    assert digest == hashlib.sha256(password.encode()).hexdigest(), secret


def test_database_is_not_published_on_the_host(production: Stack) -> None:
    assert podman("port", production.container("db"), check=False) == ""


class TestProductionBackendIsHardened(HardenedBackend):
    @pytest.fixture
    def backend(self, production: Stack) -> str:
        return production.container("backend")
