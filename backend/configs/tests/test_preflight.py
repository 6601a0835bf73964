"""
scripts/preflight.py: each missing need is named with the one command that fixes it.

Missing tools and a missing registry are simulated through the arguments the
checks take (a PATH, a fake podman), never by changing the machine.
"""

import importlib.util
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from testing.environment import BACKEND

SCRIPT = BACKEND.parent / "scripts" / "preflight.py"


@pytest.fixture(scope="module")
def preflight():
    spec = importlib.util.spec_from_file_location("preflight", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def taken_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def fake_podman(folder: Path, script: str) -> str:
    podman = folder / "podman"
    podman.write_text(f"#!/bin/sh\n{script}\n")
    podman.chmod(0o755)
    return str(podman)


def test_old_python_names_the_version_and_the_fix(preflight):
    (problem,) = preflight.check_python((3, 9, 18))
    assert "Python 3.9.18 is too old" in problem
    assert "`make PYTHON=python3.11 <target>`" in problem
    assert preflight.check_python((3, 11, 0)) == []


def test_taken_port_names_the_variable_and_a_free_alternative(preflight, taken_port):
    (problem,) = preflight.check_port(
        taken_port, "DB_PUBLISH_PORT", f"DB_PUBLISH_PORT={taken_port + 1} make up"
    )
    assert f"port {taken_port} (DB_PUBLISH_PORT) is taken" in problem
    assert f"`DB_PUBLISH_PORT={taken_port + 1} make up`" in problem


def test_free_port_passes(preflight):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert preflight.check_port(port, "KEEL_PORT", "unused") == []


def test_no_postgres_binaries_says_how_to_install_them(preflight, tmp_path):
    (problem,) = preflight.check_postgres_binaries(
        path=str(tmp_path), debian_glob=str(tmp_path / "*" / "pg_ctl")
    )
    assert "no PostgreSQL server binaries" in problem
    assert "`apt-get install postgresql`" in problem
    assert "DB_HOST" in problem


def test_postgres_binaries_found_where_debian_puts_them(preflight, tmp_path):
    bindir = tmp_path / "15" / "bin"
    bindir.mkdir(parents=True)
    fake_podman(bindir, "exit 0")  # any executable file will do
    (bindir / "podman").rename(bindir / "pg_ctl")
    assert (
        preflight.check_postgres_binaries(
            path=str(tmp_path), debian_glob=str(tmp_path / "*" / "bin" / "pg_ctl")
        )
        == []
    )


def test_no_podman_points_at_make_dev(preflight, tmp_path):
    podman, problems = preflight.check_podman(path=str(tmp_path))
    assert podman is None
    (problem,) = problems
    assert "`apt-get install podman`" in problem
    assert "`make dev`" in problem


def test_unpullable_image_says_make_dev_runs_without_containers(preflight, tmp_path):
    # Neither present nor pullable, as on a machine cut off from the registry.
    podman = fake_podman(tmp_path, "exit 125")
    (problem,) = preflight.check_images(podman, ["docker.io/library/postgres:16"])
    assert "cannot pull docker.io/library/postgres:16" in problem
    assert "no registry? `make dev` runs keel without containers" in problem


def test_present_image_is_not_pulled(preflight, tmp_path):
    log = tmp_path / "calls"
    podman = fake_podman(tmp_path, f'echo "$@" >> {log}; [ "$1" = image ]')
    assert preflight.check_images(podman, ["localhost/present:1"]) == []
    assert log.read_text().splitlines() == ["image exists localhost/present:1"]


def test_make_dev_preflight_exits_1_on_a_machine_without_postgres(tmp_path, taken_port):
    """The script as make runs it: a PATH without pg_ctl and a taken port."""
    env = {
        "PATH": str(tmp_path),
        "KEEL_ENV_FILE": "",
        "KEEL_PORT": str(taken_port),
        "KEEL_PREFLIGHT_DEBIAN_GLOB": str(tmp_path / "none" / "pg_ctl"),
    }
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "dev"],
        env={**env, "PYTHONPATH": os.pathsep.join(sys.path)},
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert any(f"port {taken_port} (KEEL_PORT) is taken" in line for line in lines)
    assert any("no PostgreSQL server binaries" in line for line in lines)
    assert all(line.startswith("make dev: ") for line in lines)
