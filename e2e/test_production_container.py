"""production: the running container, hardened and bounded."""

import hashlib
import json
from typing import Any

import pytest
from scripts import podman_secrets

from e2e.hardening import HardenedBackend
from e2e.shell import exec_in, podman
from e2e.stacks import Stack
from e2e.workspace import env_value


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


@pytest.mark.parametrize("service", ["backend", "worker"])
def test_secrets_are_files_not_in_the_environment(
    production: Stack, service: str
) -> None:
    container = production.container(service)
    inspected = podman("container", "inspect", container)
    for variable in podman_secrets.VARIABLES:
        value = env_value(production.workspace / "backend" / ".env", variable)
        secret = f"/run/secrets/{podman_secrets.secret_name(variable)}"
        # Booleans and digests only, so that a failure never prints the secret.
        leaked = value in inspected
        assert not leaked, f"{variable} shows in podman inspect {container}"
        mounted = exec_in(container, "sha256sum", secret).stdout.split()[0]
        assert mounted == hashlib.sha256(value.encode()).hexdigest(), secret
        # Set, but blank: the value is only in the file.
        shown = exec_in(container, "printenv", variable, check=False).stdout
        assert not shown.strip(), f"{variable} has a value in {container}'s env"


def test_database_is_not_published_on_the_host(production: Stack) -> None:
    assert podman("port", production.container("db"), check=False) == ""


class TestProductionBackendIsHardened(HardenedBackend):
    @pytest.fixture
    def backend(self, production: Stack) -> str:
        return production.container("backend")
