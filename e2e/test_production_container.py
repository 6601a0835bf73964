"""production: the running container, hardened and bounded."""

import json
from typing import Any

import pytest

from e2e.hardening import HardenedBackend
from e2e.shell import podman
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


def test_database_is_not_published_on_the_host(production: Stack) -> None:
    assert podman("port", production.container("db"), check=False) == ""


class TestProductionBackendIsHardened(HardenedBackend):
    @pytest.fixture
    def backend(self, production: Stack) -> str:
        return production.container("backend")
