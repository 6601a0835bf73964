"""keel's image: unprivileged, exec-form, no secrets and no build tools."""

import json
from typing import Any

import pytest

from e2e.shell import podman, run


@pytest.fixture(scope="module")
def config(backend_image: str) -> dict[str, Any]:
    inspected = json.loads(podman("image", "inspect", backend_image))
    return dict(inspected[0]["Config"])


def test_image_runs_as_uid_1000_not_root(config: dict[str, Any]) -> None:
    assert config.get("User") == "1000:1000"


def test_entrypoint_is_exec_form(config: dict[str, Any]) -> None:
    assert config.get("Entrypoint") == ["/app/bin/entrypoint"]


def test_image_env_holds_no_secret_like_variable(config: dict[str, Any]) -> None:
    names = [item.split("=", 1)[0] for item in config.get("Env", [])]
    words = ("SECRET", "PASSWORD", "TOKEN", "KEY")
    assert [name for name in names if any(word in name for word in words)] == []


def test_history_never_mentions_a_key(backend_image: str) -> None:
    history = podman(
        "history", "--no-trunc", "--format", "{{.CreatedBy}}", backend_image
    )
    assert "SECRET_KEY" not in history
    assert "SIGNING_KEY" not in history


def test_runtime_image_has_no_compiler_make_or_uv(backend_image: str) -> None:
    found = run(
        "podman", "run", "--rm", "--entrypoint", "sh", backend_image, "-c",
        "command -v gcc cc make apt-get uv pip 2>/dev/null || true",
    ).stdout.split()  # fmt: skip
    # apt-get and pip come with the base image; keel adds none of the others.
    assert [tool for tool in found if not tool.endswith(("apt-get", "/pip"))] == []
