"""
`make dev`'s embedded default, end to end: scripts/dev.py in a subprocess.

One test drives two runs on one data folder: the first creates PostgreSQL's
cluster and the env's superuser, the second finds them again. Each run is
stopped the way a user stops it (SIGTERM, then Ctrl-C's SIGINT), and after
each nothing it started may be left running.
"""

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from testing.environment import BACKEND
from testing.http import LiveClient
from testing.postgres import free_port

DEV = BACKEND.parent / "scripts" / "dev.py"
START_TIMEOUT = 120


def processes_naming(marker):
    """Return the processes whose command line mentions marker (a unique path)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = (
                Path("/proc", pid, "cmdline").read_bytes().decode(errors="replace")
            )
        except OSError:  # it ended meanwhile
            continue
        if marker in cmdline:
            found.append(cmdline.replace("\0", " "))
    return found


def start(state, db_port, port, env, *options):
    runner = subprocess.Popen(
        [
            sys.executable,
            str(DEV),
            "--state",
            str(state),
            "--db-port",
            str(db_port),
            "run",
            "--port",
            str(port),
            *options,
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = []
    deadline = time.monotonic() + START_TIMEOUT
    assert runner.stdout is not None
    for line in runner.stdout:
        output.append(line)
        if line.startswith("keel is up"):
            return runner, output
        assert time.monotonic() < deadline, "".join(output)
    runner.wait()
    raise AssertionError(f"dev.py exited {runner.returncode}:\n{''.join(output)}")


def stop(runner, sig, state, port):
    runner.send_signal(sig)
    remaining, _ = runner.communicate(timeout=60)
    assert runner.returncode == 0, remaining
    assert "keel: stopping." in remaining
    left = processes_naming(str(state)) + processes_naming(f"127.0.0.1:{port}")
    assert left == []


def token_for(client, username, password):
    status, _, body = client.request(
        "POST",
        "/api/auth/token/",
        json.dumps({"username": username, "password": password}),
        {"Content-Type": "application/json"},
    )
    assert status == 200, body
    return json.loads(body)["access"]


def test_dev_runs_keel_on_its_own_postgres_and_keeps_the_data():
    # Not under pytest's tmp_path, whose parent (mode 700) the server's user
    # could not enter when the suite runs as root.
    state = Path(tempfile.mkdtemp(prefix="keel-dev-"))
    state.chmod(0o755)
    try:
        run_twice(state)
    finally:
        shutil.rmtree(state, ignore_errors=True)


def run_twice(state):
    db_port, port = free_port(), free_port()
    password = secrets.token_urlsafe(16)
    env = {
        "PATH": os.environ["PATH"],
        "KEEL_ENV_FILE": "",
        "DJANGO_DEBUG": "1",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "JWT_SIGNING_KEY": secrets.token_urlsafe(50),
        "DJANGO_SUPERUSER_USERNAME": "first-admin",
        "DJANGO_SUPERUSER_EMAIL": "admin@example.com",
        "DJANGO_SUPERUSER_PASSWORD": password,
    }
    client = LiveClient(f"http://127.0.0.1:{port}")

    runner, output = start(state, db_port, port, env)
    assert "created the superuser first-admin" in "".join(output)
    assert client.request("GET", "/healthz")[0] == 200
    token = token_for(client, "first-admin", password)
    status, _, body = client.request(
        "GET", "/api/auth/me/", headers={"Authorization": f"Bearer {token}"}
    )
    assert status == 200, body
    assert json.loads(body)["username"] == "first-admin"
    stop(runner, signal.SIGTERM, state, port)

    # The second run finds the cluster and the user; a changed password in
    # the environment does not touch an existing user. Without the
    # autoreloader (the first run had it): one Django process fewer to start.
    env["DJANGO_SUPERUSER_PASSWORD"] = secrets.token_urlsafe(16)
    runner, output = start(state, db_port, port, env, "--noreload")
    assert "first-admin exists, left as it is" in "".join(output)
    assert token_for(client, "first-admin", password)
    stop(runner, signal.SIGINT, state, port)


def load_dev():
    import importlib.util

    spec = importlib.util.spec_from_file_location("dev", DEV)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("where", ["environment", "env file"])
def test_with_db_host_set_dev_uses_that_server_and_starts_nothing(
    monkeypatch, tmp_path, where
):
    env_file = tmp_path / ".env"
    if where == "environment":
        monkeypatch.setenv("DB_HOST", "postgres.example.com")
        env_file.write_text("DB_NAME=keel\n")
    else:
        monkeypatch.delenv("DB_HOST", raising=False)
        env_file.write_text("DB_HOST=postgres.example.com\n")
    monkeypatch.setenv("KEEL_ENV_FILE", str(env_file))
    state = tmp_path / "state"
    db = load_dev().database(state, None, start=True)
    assert db.server is None
    assert db.environment == {}
    assert not state.exists()
