"""bin/serve and bin/entrypoint: the commands the production container runs."""

import contextlib
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from django.db import connection

from testing.environment import BACKEND
from testing.http import LiveClient
from testing.network import free_port, listening, wait_until

BIN = BACKEND / "bin"

# A WSGI app whose request lasts until the test says so, to be in flight at
# the moment the server gets SIGTERM.
SLOW_APP = """
import os
import time
from pathlib import Path


def app(environ, start_response):
    Path(os.environ["KEEL_TEST_STARTED"]).write_text(str(os.getpid()))
    release = Path(os.environ["KEEL_TEST_RELEASE"])
    deadline = time.monotonic() + 10
    while not release.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"finished" if release.exists() else b"never released"]
"""


def script_env(**overrides):
    """Return the suite's environment with this virtualenv's tools first on PATH."""
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    return {**os.environ, "PATH": path, **overrides}


def wait_for(condition, what, timeout=15.0):
    try:
        wait_until(condition, what, timeout)
    except TimeoutError as error:
        pytest.fail(str(error))


def start_server(tmp_path, *args, **env):
    port = free_port()
    log = tmp_path / "server.log"
    server = subprocess.Popen(
        [str(BIN / "serve"), *args],
        env=script_env(KEEL_HOST="127.0.0.1", KEEL_PORT=str(port), **env),
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )

    def up():
        if server.poll() is not None:
            pytest.fail(f"the server exited: {log.read_text()}")
        return listening(port)

    try:
        wait_for(up, "the server to listen")
    except BaseException:
        # A server slow to start must not outlive the test that gave up on it.
        stop(server)
        raise
    return server, port, log


def start_production_server(tmp_path, settings, users, **env):
    """
    Start bin/serve as in production, two workers of four threads on the test
    database (warnings only, real PBKDF2), once users ({username: password})
    exist; return the process, its port and its log. env adds or overrides.
    """
    from django.db import connection

    from accounts.tests.factories import make_user
    from configs import settings as project_settings

    # The server hashes as in production, so the users' hashes must be its kind.
    settings.PASSWORD_HASHERS = project_settings.PASSWORD_HASHERS
    for username, password in users.items():
        make_user(username=username, password=password)
    production = {
        "DB_NAME": connection.settings_dict["NAME"],
        "DJANGO_LOG_LEVEL": "WARNING",
        "KEEL_WORKERS": "2",
        "KEEL_THREADS": "4",
    }
    return start_server(tmp_path, **{**production, **env})


def stop(server):
    """Stop the server and every worker it started, whatever state it is in."""
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    # A worker outlives a killed main process; the session holds them all.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGKILL)


def get(port, path):
    status, _, body = LiveClient.on_port(port, timeout=15).request("GET", path)
    return status, body


def test_serve_runs_keel_as_its_own_process(tmp_path):
    server, port, log = start_server(tmp_path, KEEL_WORKERS="1")
    try:
        assert get(port, "/api/")[0] == 404
        # exec, not a child: the server is the process the container signals.
        assert f"main PID: {server.pid}" in log.read_text()
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=15) == 0
    finally:
        stop(server)


def start_slow_server(tmp_path, workers):
    """Start bin/serve on SLOW_APP; return it with the started and release files."""
    (tmp_path / "slowapp.py").write_text(SLOW_APP)
    started, release = tmp_path / "started", tmp_path / "release"
    server, port, log = start_server(
        tmp_path,
        "slowapp:app",
        PYTHONPATH=str(tmp_path),
        KEEL_WORKERS=str(workers),
        KEEL_TEST_STARTED=str(started),
        KEEL_TEST_RELEASE=str(release),
    )
    return server, port, log, started, release


def test_sigterm_lets_an_in_flight_request_finish(tmp_path, record_property):
    server, port, log, started, release = start_slow_server(tmp_path, workers=1)
    result = {}

    def request():
        result["response"] = get(port, "/")

    client = threading.Thread(target=request)
    try:
        client.start()
        wait_for(started.exists, "the request to reach the app")
        signalled = time.monotonic()
        server.send_signal(signal.SIGTERM)
        wait_for(lambda: "Shutting down" in log.read_text(), "the server to stop")
        release.touch()
        client.join(timeout=15)
        assert result["response"] == (200, b"finished")
        # Well inside KEEL_SHUTDOWN_TIMEOUT (25 s), the graceful limit.
        assert server.wait(timeout=15) == 0
        record_property("exit_seconds", round(time.monotonic() - signalled, 3))
    finally:
        release.touch()
        stop(server)


@pytest.mark.parametrize("value", ["four", "0", "00", "-1"])
@pytest.mark.parametrize("name", ["KEEL_PORT", "KEEL_WORKERS", "KEEL_THREADS"])
def test_serve_names_a_variable_that_is_not_a_number(name, value):
    completed = subprocess.run(
        [str(BIN / "serve")],
        env=script_env(**{name: value}),
        capture_output=True,
        text=True,
        timeout=15,
        check=False,
    )
    assert completed.returncode == 2
    assert f"serve: {name} must be a whole number" in completed.stderr


def run_entrypoint(*command, **env):
    # The suite's own database, created for this session by pytest-django.
    database = connection.settings_dict["NAME"]
    return subprocess.run(
        [str(BIN / "entrypoint"), *command],
        env=script_env(DB_NAME=database, **env),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


@pytest.mark.django_db
def test_entrypoint_migrates_then_becomes_the_command():
    # sh -c 'echo $$' prints its own PID: equal to the entrypoint's after exec.
    process = subprocess.Popen(
        [str(BIN / "entrypoint"), "sh", "-c", "echo pid=$$"],
        env=script_env(DB_NAME=connection.settings_dict["NAME"]),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert "No migrations to apply" in stdout
    assert re.search(rf"^pid={process.pid}$", stdout, flags=re.MULTILINE)


@pytest.mark.django_db
def test_entrypoint_skips_migrations_with_keel_migrate_0():
    completed = run_entrypoint("echo", "served", KEEL_MIGRATE="0")
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "served"


@pytest.mark.parametrize(
    ("name", "value"), [("KEEL_MIGRATE", "yes"), ("KEEL_DB_WAIT_TIMEOUT", "1m")]
)
def test_entrypoint_names_a_bad_variable(name, value):
    completed = run_entrypoint("echo", "served", **{name: value})
    assert completed.returncode == 2
    assert f"entrypoint: {name} must be" in completed.stderr
    assert "served" not in completed.stdout


def test_entrypoint_gives_up_when_the_database_never_answers():
    # How long it waits is core/tests/test_commands.py's, on a clock of its
    # own; here, that the entrypoint passes the variable on and stops.
    completed = run_entrypoint(
        "echo",
        "served",
        DB_HOST="127.0.0.1",
        DB_PORT=str(free_port()),
        KEEL_DB_WAIT_TIMEOUT="1",
    )
    assert completed.returncode == 1
    assert "waiting up to 1 s" in completed.stdout
    assert "did not answer within 1 s" in completed.stderr
    assert "OperationalError" in completed.stderr
    assert "refused" in completed.stderr
    assert "KEEL_DB_WAIT_TIMEOUT" in completed.stderr
    assert "Traceback" not in completed.stderr
    assert "served" not in completed.stdout


def test_entrypoint_never_prints_the_database_password():
    password = f"pw{secrets.token_hex(8)}"
    # An unresolvable host whose name holds the password, so that the driver's
    # message would show it if nothing masked it.
    completed = run_entrypoint(
        "echo",
        "served",
        DB_HOST=f"{password}.invalid",
        DB_PASSWORD=password,
        KEEL_DB_WAIT_TIMEOUT="0",
    )
    assert completed.returncode == 1
    assert "***" in completed.stderr
    assert password not in completed.stderr + completed.stdout


def worker_pids(server):
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children")
    return [int(pid) for pid in children.read_text().split()]


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_a_worker_killed_mid_request_does_not_take_the_server_down(
    tmp_path, record_property
):
    server, port, log, started, release = start_slow_server(tmp_path, workers=2)
    outcome = {}

    def doomed_request():
        try:
            outcome["response"] = get(port, "/")
        except OSError as error:
            outcome["error"] = error

    client = threading.Thread(target=doomed_request)
    try:
        wait_for(lambda: len(worker_pids(server)) == 2, "two workers")
        client.start()
        wait_for(lambda: started.exists() and started.read_text(), "a worker")
        victim = int(started.read_text())  # the worker holding the request
        assert victim in worker_pids(server)
        os.kill(victim, signal.SIGKILL)
        killed = time.monotonic()
        client.join(timeout=15)
        assert "response" not in outcome or outcome["response"][0] != 200
        assert server.poll() is None, log.read_text()
        release.touch()
        wait_for(
            lambda: len(worker_pids(server)) == 2 and victim not in worker_pids(server),
            "the killed worker to be replaced",
        )
        record_property("respawn_seconds", round(time.monotonic() - killed, 3))
        statuses = [get(port, "/")[0] for _ in range(10)]
        assert statuses == [200] * 10
    finally:
        release.touch()
        stop(server)
