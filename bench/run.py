"""
keel's benchmark: ``make bench``.

Starts PostgreSQL if DB_HOST is not set, then keel's production server
(backend/bin/serve) and a peer baseline (the same app the way its peers ship
it: gunicorn with 2 sync workers and Simple JWT's stock JWTAuthentication),
and runs wrk against each in turn, A B A B. It prints a table, writes
bench/results.json, and ends with one summary line.

Absolute figures on a shared machine drift from run to run, so the targets are
ratios measured in the same run. BENCH_SECONDS sets each run's length
(default 10), BENCH_CONNECTIONS its connections (default 64).
"""

import contextlib
import json
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BACKEND = ROOT / "backend"
VENV_BIN = Path(sys.executable).parent
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "64"))
FLOOD_CONNECTIONS = 16
USERNAME = "bench"
PASSWORD = secrets.token_urlsafe(16)

sys.path[:0] = [str(BACKEND), str(ROOT)]

from testing.postgres import ThrowawayPostgres, free_port  # noqa: E402 - the path above


def base_environment(database: dict[str, str]) -> dict[str, str]:
    """Return a production environment (debug off) for the servers."""
    return {
        "PATH": f"{VENV_BIN}:{os.environ['PATH']}",
        "PYTHONPATH": f"{BACKEND}:{ROOT}",
        "KEEL_ENV_FILE": "",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "JWT_SIGNING_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "CORS_ALLOWED_ORIGINS": "https://app.example.com",
        "CSRF_TRUSTED_ORIGINS": "https://app.example.com",
        # wrk speaks plain HTTP, as a TLS-terminating proxy in front would.
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        **({"REDIS_URL": os.environ["REDIS_URL"]} if "REDIS_URL" in os.environ else {}),
        **database,
    }


@contextlib.contextmanager
def database() -> Iterator[dict[str, str]]:
    """Yield the DB_* variables of the server to use, starting one if needed."""
    if os.environ.get("DB_HOST"):
        yield {k: v for k, v in os.environ.items() if k.startswith("DB_")}
        return
    server = ThrowawayPostgres(max_connections=200).start()
    server.create_database()
    try:
        yield server.environment()
    finally:
        server.remove()


def prepare(env: dict[str, str]) -> None:
    """Migrate and create the benchmark's user."""
    manage = [sys.executable, "manage.py"]
    run_env = {**env, "DJANGO_SETTINGS_MODULE": "bench.settings"}
    for args in (["migrate", "--noinput", "-v0"],):
        subprocess.run([*manage, *args], cwd=BACKEND, env=run_env, check=True)
    code = (
        "from accounts.models import User; "
        f"User.objects.filter(username={USERNAME!r}).delete(); "
        f"User.objects.create_user({USERNAME!r}, 'bench@example.com', {PASSWORD!r})"
    )
    subprocess.run(
        [*manage, "shell", "--no-imports", "-c", code],
        cwd=BACKEND,
        env=run_env,
        check=True,
    )


class Server:
    """One server process, listening on its own port."""

    def __init__(self, name: str, command: list[str], env: dict[str, str]) -> None:
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**env, "KEEL_HOST": "127.0.0.1", "KEEL_PORT": str(self.port)}
        command = [part.replace("{port}", str(self.port)) for part in command]
        self.log = open(ROOT / "bench" / f".{name}.log", "w")  # noqa: SIM115
        self.process = subprocess.Popen(
            command,
            cwd=BACKEND,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, path: str = "/healthz", timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(
                    f"bench: {self.name} exited; see bench/.{self.name}.log"
                )
            try:
                with urllib.request.urlopen(self.url + path, timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)
        raise SystemExit(f"bench: {self.name} did not answer {path} in {timeout} s")

    def token(self) -> str:
        request = urllib.request.Request(
            self.url + "/api/auth/token/",
            data=json.dumps({"username": USERNAME, "password": PASSWORD}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return str(json.load(response)["access"])

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.log.close()


def wrk(
    url: str,
    *,
    connections: int = CONNECTIONS,
    seconds: int = SECONDS,
    authorization: str | None = None,
    body: str | None = None,
) -> subprocess.Popen[str]:
    env = {**os.environ}
    if authorization:
        env["BENCH_AUTHORIZATION"] = authorization
    if body:
        env["BENCH_BODY"] = body
    return subprocess.Popen(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "-s",
            str(ROOT / "bench" / "report.lua"),
            url,
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def figures(process: subprocess.Popen[str]) -> dict[str, float]:
    output, _ = process.communicate()
    line = next(line for line in output.splitlines() if line.startswith("{"))
    raw = json.loads(line)
    errors = (
        raw["connect"] + raw["read"] + raw["write"] + raw["status"] + raw["timeout"]
    )
    return {
        "rps": raw["requests"] / (raw["duration_us"] / 1e6),
        "p50_ms": raw["p50_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "errors": errors,
        "requests": raw["requests"],
    }


def median_run(runs: list[dict[str, float]]) -> dict[str, float]:
    return {
        "rps": statistics.median(run["rps"] for run in runs),
        "p50_ms": statistics.median(run["p50_ms"] for run in runs),
        "p99_ms": statistics.median(run["p99_ms"] for run in runs),
        "errors": sum(run["errors"] for run in runs),
        "runs": len(runs),
    }


def main() -> int:
    if shutil.which("wrk") is None:
        print("bench: wrk is missing; on Debian: apt-get install wrk", file=sys.stderr)
        return 2
    started = time.monotonic()
    with database() as db:
        env = base_environment(db)
        prepare(env)
        keel_env = {**env, "DJANGO_SETTINGS_MODULE": "bench.settings"}
        peer_env = {**env, "DJANGO_SETTINGS_MODULE": "bench.peer_settings"}
        servers = {
            "ceiling": Server("ceiling", ["bin/serve", "bench.hello:application"], env),
            "keel": Server("keel", ["bin/serve", "bench.wsgi:application"], keel_env),
            "peer": Server(
                "peer",
                [
                    str(VENV_BIN / "gunicorn"),
                    "--workers",
                    "2",
                    "--bind",
                    "127.0.0.1:{port}",
                    "bench.wsgi:application",
                ],
                peer_env,
            ),
        }
        try:
            servers["ceiling"].wait_ready("/")
            servers["keel"].wait_ready()
            servers["peer"].wait_ready()
            results = measure(servers)
        finally:
            for server in servers.values():
                server.stop()
    return report(results, time.monotonic() - started)


# (row name, server, path, needs a token); A B A B over the servers of each row.
CASES = [
    ("raw WSGI hello (ceiling)", ["ceiling"], "/", False),
    ("bare Django view", ["keel", "peer"], "/bench/bare/", False),
    ("/healthz", ["keel", "peer"], "/healthz", False),
    ("/api/auth/me/", ["keel", "peer"], "/api/auth/me/", True),
    ("one ORM query", ["keel", "peer"], "/bench/db/", False),
]


def measure(servers: dict[str, Server]) -> dict[str, dict[str, dict[str, float]]]:
    results: dict[str, dict[str, dict[str, float]]] = {}
    for row, names, path, needs_token in CASES:
        runs: dict[str, list[dict[str, float]]] = {name: [] for name in names}
        for _ in range(2):
            for name in names:
                server = servers[name]
                auth = f"Bearer {server.token()}" if needs_token else None
                runs[name].append(figures(wrk(server.url + path, authorization=auth)))
        results[row] = {name: median_run(r) for name, r in runs.items()}
    keel = servers["keel"]
    me = wrk(keel.url + "/api/auth/me/", authorization=f"Bearer {keel.token()}")
    flood = wrk(
        keel.url + "/api/auth/token/",
        connections=FLOOD_CONNECTIONS,
        body=json.dumps({"username": USERNAME, "password": "wrong-" + PASSWORD}),
    )
    results["/api/auth/me/ beside a login flood"] = {
        "keel": median_run([figures(me)]),
        "flood": median_run([figures(flood)]),
    }
    return results


def report(results: dict[str, dict[str, dict[str, float]]], elapsed: float) -> int:
    print(f"\nbench: {SECONDS} s per run, {CONNECTIONS} connections, wrk -t2")
    header = (
        f"{'case':40} {'server':8} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8}"
        f" {'errors':>7}"
    )
    print(header)
    print("-" * len(header))
    for row, by_server in results.items():
        for name, fig in by_server.items():
            print(
                f"{row:40} {name:8} {fig['rps']:9.0f} {fig['p50_ms']:8.2f}"
                f" {fig['p99_ms']:8.2f} {fig['errors']:7.0f}"
            )
    me = results["/api/auth/me/"]
    bare = results["bare Django view"]["keel"]["rps"]
    ratios = {
        "me/peer": me["keel"]["rps"] / me["peer"]["rps"],
        "me/bare": me["keel"]["rps"] / bare,
        "healthz/bare": results["/healthz"]["keel"]["rps"] / bare,
    }
    flood_p99 = results["/api/auth/me/ beside a login flood"]["keel"]["p99_ms"]
    errors = int(
        me["keel"]["errors"]
        + results["/api/auth/me/ beside a login flood"]["keel"]["errors"]
    )
    summary = {
        **ratios,
        "me_p99_ms": me["keel"]["p99_ms"],
        "me_p99_ms_beside_login_flood": flood_p99,
        "errors": errors,
        "seconds_per_run": SECONDS,
        "connections": CONNECTIONS,
        "elapsed_s": round(elapsed, 1),
    }
    (ROOT / "bench" / "results.json").write_text(
        json.dumps({"summary": summary, "results": results}, indent=2) + "\n"
    )
    print(f"\nme p99 beside a {FLOOD_CONNECTIONS}-connection login flood: ", end="")
    print(f"{flood_p99:.1f} ms")
    print(f"figures written to bench/results.json ({elapsed:.0f} s in all)")
    print(
        f"bench: me/peer={ratios['me/peer']:.2f} me/bare={ratios['me/bare']:.2f}"
        f" healthz/bare={ratios['healthz/bare']:.2f}"
        f" me_p99_ms={me['keel']['p99_ms']:.0f} errors={errors}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
