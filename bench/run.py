"""
keel's benchmark: ``make bench`` (``python -m bench.run``, PYTHONPATH=backend:.).

Every server runs at once on its own port, against one PostgreSQL (a throwaway
one unless DB_HOST is set); keel's run from a copy of the project in which
``make app NAME=orders`` made the example app. wrk (-t2) measures each case
in turn: one discarded warm-up run per case, then BENCH_ROUNDS measured rounds
in alternating order (A B C, C B A, A B C, ...), so drift over the run falls on
every case alike. Each case's figures are the medians of its measured runs, with the
spread (lowest and highest); each ratio is the median of the ratios taken
round by round. Beside req/s and latency each case reports the server's CPU
time per request (all its processes), which other load on a shared machine
disturbs much less than throughput. Last comes one run of /api/auth/me/ beside
a flood of failed logins.

The targets are checked at the end and the exit status is 1 when one is
missed. A short run (BENCH_SECONDS under 10, as CI's 3 s) is too noisy for the
ratios' thresholds: it checks only that there are no errors and that keel is
ahead of each peer. Figures go to bench/results.json.

BENCH_SECONDS sets each measured run's length (default 10), BENCH_ROUNDS the
measured rounds (default 4, at least 3), BENCH_CONNECTIONS wrk's connections
(default 64).
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
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bench import startproject
from testing.environment import production_environment
from testing.network import free_port
from testing.postgres import ThrowawayPostgres
from testing.redis import ThrowawayRedis

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
USERNAME = "bench"
# The example app (make app, issue 11), made in a copy of the project.
EXAMPLE_APP = "orders"
EXAMPLE_ROWS = 20
FLOOD_CONNECTIONS = 16


def whole_number(name: str, default: int, minimum: int) -> int:
    """Return the environment variable name as a whole number of at least minimum."""
    raw = os.environ.get(name, str(default))
    if not raw.isdigit() or int(raw) < minimum:
        raise SystemExit(f"bench: {name} must be a whole number of at least {minimum}")
    return int(raw)


# Runs shorter than this check only errors and keel's lead over each peer.
FULL_RUN_SECONDS = 10
SECONDS = whole_number("BENCH_SECONDS", FULL_RUN_SECONDS, 1)
# Four rounds balance linear drift exactly (A B, B A, A B, B A); a short run
# makes three, to stay within CI's few minutes.
ROUNDS = whole_number("BENCH_ROUNDS", 4 if SECONDS >= FULL_RUN_SECONDS else 3, 3)
CONNECTIONS = whole_number("BENCH_CONNECTIONS", 64, 1)
WARMUP_SECONDS = min(SECONDS, 2)
CORES = len(os.sched_getaffinity(0))
GUNICORN_WORKERS = 2 * CORES + 1
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class ServerSpec:
    """How to start one server: its command and its own environment."""

    name: str
    command: list[str]
    env: dict[str, str] = field(default_factory=dict)
    ready_path: str = "/healthz"


@dataclass(frozen=True)
class Case:
    """One measured request: which server, which path, and what it shows."""

    key: str
    server: str
    path: str
    what: str
    authorized: bool = False


def serve(module: str) -> list[str]:
    """Return keel's own server command (bin/serve) for a WSGI module."""
    return ["bin/serve", module]


def gunicorn(module: str) -> list[str]:
    """Return gunicorn as its docs advise: (2 x cores) + 1 sync workers."""
    return [
        str(VENV_BIN / "gunicorn"),
        "--workers",
        str(GUNICORN_WORKERS),
        "--bind",
        "127.0.0.1:{port}",
        module,
    ]


def server_specs(django_peer: Path, backend: Path) -> list[ServerSpec]:
    keel = {"DJANGO_SETTINGS_MODULE": "bench.settings"}
    stock = {"DJANGO_SETTINGS_MODULE": "bench.peer_settings"}
    return [
        ServerSpec("ceiling", serve("bench.hello:application"), ready_path="/"),
        ServerSpec(
            "django",
            serve(f"{startproject.PROJECT}.wsgi:application"),
            {"PYTHONPATH": f"{django_peer}:{backend}:{ROOT}"},
            ready_path="/hello/",
        ),
        ServerSpec("keel", serve("configs.wsgi:application"), keel),
        ServerSpec(
            "keel-1w", serve("configs.wsgi:application"), {**keel, "KEEL_WORKERS": "1"}
        ),
        ServerSpec("keel-stockjwt", serve("configs.wsgi:application"), stock),
        ServerSpec("gunicorn", gunicorn("configs.wsgi:application"), keel),
        ServerSpec("gunicorn-stockjwt", gunicorn("configs.wsgi:application"), stock),
    ]


ME = "/api/auth/me/"
CASES = [
    Case("ceiling", "ceiling", "/", "raw WSGI app, keel's server: the ceiling"),
    Case("django", "django", "/hello/", "startproject JSON view, keel's server"),
    Case("drf", "django", "/drf/", "startproject bare DRF APIView (AllowAny)"),
    Case("keel-drf", "keel", "/api/bench/drf/", "the same APIView in keel's stack"),
    Case("healthz", "keel", "/healthz", "keel /healthz"),
    Case("me", "keel", ME, "keel /api/auth/me/, keel's auth", authorized=True),
    Case("orm", "keel", "/bench/db/", "keel, a Django view with one ORM query"),
    Case(
        "list",
        "keel",
        f"/api/{EXAMPLE_APP}/?page_size={EXAMPLE_ROWS}",
        f"keel, make app's list, {EXAMPLE_ROWS} rows a page",
        authorized=True,
    ),
    Case(
        "me-stockjwt",
        "keel-stockjwt",
        ME,
        "keel's server, stock Simple JWT",
        authorized=True,
    ),
    Case(
        "me-gunicorn",
        "gunicorn",
        ME,
        f"gunicorn {GUNICORN_WORKERS} sync, keel's auth",
        authorized=True,
    ),
    Case(
        "me-gunicorn-stockjwt",
        "gunicorn-stockjwt",
        ME,
        f"gunicorn {GUNICORN_WORKERS} sync, stock Simple JWT",
        authorized=True,
    ),
    Case("me-1w", "keel-1w", ME, "keel /api/auth/me/ with 1 worker", authorized=True),
]


def base_environment(
    database: dict[str, str], backend: Path, redis_url: str
) -> dict[str, str]:
    """Return the tests' production environment (debug off) for the servers."""
    production = production_environment()
    return {
        # The database is the one given: none of the tests' DB_* defaults.
        **{k: v for k, v in production.items() if not k.startswith("DB_")},
        "PATH": f"{VENV_BIN}:{os.environ['PATH']}",
        "PYTHONPATH": f"{backend}:{ROOT}",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        # One token serves the whole run.
        "JWT_ACCESS_TOKEN_LIFETIME": "3600",
        # wrk speaks plain HTTP, as a TLS-terminating proxy in front would.
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        # The shared cache keel's several-worker shapes run (kube, the compose
        # redis profile): login limits, revocation and the user cache across
        # workers. Without it each request reads the user from PostgreSQL.
        "REDIS_URL": redis_url,
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


@contextlib.contextmanager
def shared_cache() -> Iterator[str]:
    """Yield the Redis URL to use: REDIS_URL, or a throwaway redis-server's."""
    if os.environ.get("REDIS_URL"):
        yield os.environ["REDIS_URL"]
        return
    server = ThrowawayRedis().start()
    try:
        yield server.url
    finally:
        server.remove()


def example_project(workdir: Path, env: dict[str, str]) -> Path:
    """
    Return the backend of a copy of the project with the example app made.

    ``make app NAME=orders`` (scripts/new_app.py) runs in the copy, so the
    checkout is never touched; every keel server runs from the copy.
    """
    copy = workdir / "project"
    ignore = shutil.ignore_patterns("__pycache__", "staticfiles", ".env", "db.env")
    for part in ("backend", "templates", "scripts"):
        shutil.copytree(ROOT / part, copy / part, ignore=ignore)
    subprocess.run(
        [sys.executable, "scripts/new_app.py", EXAMPLE_APP, "--root", str(copy)],
        cwd=copy,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return copy / "backend"


def prepare(env: dict[str, str], backend: Path, password: str) -> None:
    """Migrate, create the benchmark's user and its example app's rows."""
    run_env = {**env, "DJANGO_SETTINGS_MODULE": "bench.settings"}
    manage = [sys.executable, "manage.py"]
    subprocess.run(
        [*manage, "migrate", "--noinput", "-v0"], cwd=backend, env=run_env, check=True
    )
    code = (
        "from accounts.models import User; "
        f"from {EXAMPLE_APP}.models import Order; "
        f"User.objects.filter(username={USERNAME!r}).delete(); "
        f"user = User.objects.create_user({USERNAME!r}, 'bench@example.com',"
        f" {password!r}); "
        "Order.objects.bulk_create("
        f"Order(owner=user, name=f'order {{i}}') for i in range({EXAMPLE_ROWS}))"
    )
    subprocess.run(
        [*manage, "shell", "--no-imports", "-c", code],
        cwd=backend,
        env=run_env,
        check=True,
    )


class Server:
    """One server process on its own port; its output goes to a log file."""

    def __init__(
        self, spec: ServerSpec, env: dict[str, str], backend: Path, logs: Path
    ) -> None:
        self.spec = spec
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = logs / f"{spec.name}.log"
        # Marks the server's PostgreSQL connections, to count them.
        self.application_name = f"bench-{spec.name}"
        env = {
            **env,
            **spec.env,
            "KEEL_HOST": "127.0.0.1",
            "KEEL_PORT": str(self.port),
            "PGAPPNAME": self.application_name,
        }
        command = [part.replace("{port}", str(self.port)) for part in spec.command]
        self.log = self.log_path.open("w")
        self.process = subprocess.Popen(
            command,
            cwd=backend,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def cpu_seconds(self) -> float:
        """Return the CPU time its processes (its session's) have used so far."""
        total = 0
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:  # the process has just ended
                continue
            # The fields after the command's closing parenthesis, from the state on.
            fields = stat.rpartition(")")[2].split()
            if int(fields[3]) == self.process.pid:
                total += int(fields[11]) + int(fields[12])
        return total / CLOCK_TICKS

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]

    def wait_ready(self, timeout: float = 90) -> None:
        url = self.url + self.spec.ready_path
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"bench: {self.spec.name} exited:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)
        raise SystemExit(f"bench: {self.spec.name} did not answer {url} in {timeout} s")

    def token(self, password: str) -> str:
        request = urllib.request.Request(
            self.url + "/api/auth/token/",
            data=json.dumps({"username": USERNAME, "password": password}).encode(),
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
    """Start wrk (-t2) on url; figures() waits for it and reads its figures."""
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
    """Wait for a wrk run and return its req/s, p50, p99 and error count."""
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


def connection_counts(db: dict[str, str]) -> dict[str, int]:
    """Return the open PostgreSQL connections of each server, by its name."""
    import psycopg

    with psycopg.connect(
        host=db["DB_HOST"],
        port=db.get("DB_PORT", "5432"),
        user=db["DB_USER"],
        password=db.get("DB_PASSWORD", ""),
        dbname=db["DB_NAME"],
    ) as connection:
        rows = connection.execute(
            "SELECT application_name, count(*) FROM pg_stat_activity"
            " WHERE application_name LIKE 'bench-%%' GROUP BY application_name"
        ).fetchall()
    return {name.removeprefix("bench-"): count for name, count in rows}


def summarize(runs: list[dict[str, float]]) -> dict[str, float]:
    rps = [run["rps"] for run in runs]
    return {
        "rps": statistics.median(rps),
        "rps_low": min(rps),
        "rps_high": max(rps),
        "p50_ms": statistics.median(run["p50_ms"] for run in runs),
        "p99_ms": statistics.median(run["p99_ms"] for run in runs),
        "p99_ms_high": max(run["p99_ms"] for run in runs),
        "cpu_us": statistics.median(run["cpu_us"] for run in runs),
        "errors": sum(run["errors"] for run in runs),
        "runs": len(runs),
    }


@dataclass
class Measurement:
    """Every run of every case, the peak connections, and the login-flood run."""

    runs: dict[str, list[dict[str, float]]]
    connections: dict[str, int]
    beside_flood: dict[str, dict[str, float]]


def measure(servers: dict[str, Server], token: str, db: dict[str, str]) -> Measurement:
    """
    Run every case: a warm-up, then ROUNDS rounds in alternating order.

    Last, one run of /api/auth/me/ beside a flood of failed logins (which
    throttles logins from this address, hence last).
    """
    runs: dict[str, list[dict[str, float]]] = {case.key: [] for case in CASES}
    connections: dict[str, int] = {}

    def run(case: Case, seconds: int) -> dict[str, float]:
        auth = f"Bearer {token}" if case.authorized else None
        server = servers[case.server]
        cpu_before = server.cpu_seconds()
        result = figures(
            wrk(server.url + case.path, seconds=seconds, authorization=auth)
        )
        cpu = server.cpu_seconds() - cpu_before
        result["cpu_us"] = cpu / max(result["requests"], 1) * 1e6
        for name, count in connection_counts(db).items():
            connections[name] = max(connections.get(name, 0), count)
        return result

    for case in CASES:
        run(case, WARMUP_SECONDS)
    for number in range(ROUNDS):
        print(f"bench: round {number + 1} of {ROUNDS}", file=sys.stderr)
        for case in CASES if number % 2 == 0 else reversed(CASES):
            runs[case.key].append(run(case, SECONDS))
    keel = servers["keel"]
    me = wrk(keel.url + ME, authorization=f"Bearer {token}")
    flood = wrk(
        keel.url + "/api/auth/token/",
        connections=FLOOD_CONNECTIONS,
        body=json.dumps({"username": USERNAME, "password": "not the password"}),
    )
    beside_flood = {"me": figures(me), "flood": figures(flood)}
    return Measurement(runs, connections, beside_flood)


def paired_ratio(
    runs: dict[str, list[dict[str, float]]], a: str, b: str, metric: str = "rps"
) -> dict[str, float]:
    """Return the median and spread of a's metric over b's, round by round."""
    ratios = [ra[metric] / rb[metric] for ra, rb in zip(runs[a], runs[b], strict=True)]
    return {
        "median": statistics.median(ratios),
        "low": min(ratios),
        "high": max(ratios),
    }


@dataclass(frozen=True)
class Target:
    """A figure, the bound it must meet, and whether a short run checks it."""

    name: str
    value: float
    bound: float
    higher_is_better: bool = True
    in_short_runs: bool = False

    @property
    def met(self) -> bool:
        if self.higher_is_better:
            return self.value >= self.bound
        return self.value <= self.bound


def targets(
    cases: dict[str, dict[str, float]],
    ratios: dict[str, dict[str, float]],
    me_beside_flood: dict[str, float],
) -> list[Target]:
    """Return issue 14's targets with this run's figures."""
    me = cases["me"]
    errors = sum(case["errors"] for case in cases.values())
    errors += me_beside_flood["errors"]
    return [
        Target(
            "errors, all cases", errors, 0, higher_is_better=False, in_short_runs=True
        ),
        Target("me / startproject view", ratios["me/django"]["median"], 0.50),
        Target("healthz / startproject view", ratios["healthz/django"]["median"], 2.0),
        Target("me / stock Simple JWT", ratios["me/me-stockjwt"]["median"], 2.5),
        Target(
            "me / gunicorn, stock Simple JWT",
            ratios["me/me-gunicorn-stockjwt"]["median"],
            2.5,
        ),
        Target(
            "me p99 ms, at most gunicorn's",
            me["p99_ms"],
            cases["me-gunicorn-stockjwt"]["p99_ms"],
            higher_is_better=False,
        ),
        Target(
            "me p99 / p50", me["p99_ms"] / me["p50_ms"], 3.0, higher_is_better=False
        ),
        Target("me, 2 workers / 1 worker", ratios["me/me-1w"]["median"], 1.70),
        *(
            Target(
                f"me ahead of {peer}",
                ratios[f"me/{peer}"]["median"],
                1.0,
                in_short_runs=True,
            )
            for peer in ("me-stockjwt", "me-gunicorn", "me-gunicorn-stockjwt")
        ),
    ]


RATIOS = [
    ("me", "django"),
    ("healthz", "django"),
    ("keel-drf", "drf"),
    ("drf", "django"),
    ("me", "me-stockjwt"),
    ("me", "me-gunicorn"),
    ("me", "me-gunicorn-stockjwt"),
    ("me", "me-1w"),
]


def load_average() -> str:
    """Return the 1, 5 and 15 minute load averages: how busy the machine was."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def report(measured: Measurement, load: dict[str, str], elapsed: float) -> int:
    """Print the table, ratios and targets, write results.json; return the status."""
    runs, connections = measured.runs, measured.connections
    beside_flood = measured.beside_flood
    cases = {key: summarize(case_runs) for key, case_runs in runs.items()}
    ratios = {f"{a}/{b}": paired_ratio(runs, a, b) for a, b in RATIOS}
    short = SECONDS < FULL_RUN_SECONDS
    all_targets = targets(cases, ratios, beside_flood["me"])
    checked = [t for t in all_targets if t.in_short_runs or not short]

    print(
        f"\nbench: {ROUNDS} rounds of {SECONDS} s (after a {WARMUP_SECONDS} s warm-up),"
        f" wrk -t2 -c{CONNECTIONS}, {CORES} cores; load average {load['before']}"
        f" before, {load['after']} after"
    )
    header = (
        f"{'case':22} {'what it is':44} {'req/s':>8} {'spread':>15}"
        f" {'p50 ms':>7} {'p99 ms':>7} {'errors':>6} {'CPU us/req':>10}"
    )
    print(header)
    print("-" * len(header))
    what = {case.key: case.what for case in CASES}
    for key, fig in cases.items():
        spread = f"{fig['rps_low']:.0f}-{fig['rps_high']:.0f}"
        print(
            f"{key:22} {what[key]:44} {fig['rps']:8.0f} {spread:>15}"
            f" {fig['p50_ms']:7.2f} {fig['p99_ms']:7.2f} {fig['errors']:6.0f}"
            f" {fig['cpu_us']:10.0f}"
        )
    print("\nratios (median of the rounds' ratios, lowest-highest):")
    for name, ratio in ratios.items():
        print(
            f"  {name:28} {ratio['median']:6.2f}"
            f"  {ratio['low']:.2f}-{ratio['high']:.2f}"
        )
    me, flood = beside_flood["me"], beside_flood["flood"]
    print(
        f"\nkeel /api/auth/me/ beside a {FLOOD_CONNECTIONS}-connection flood of failed"
        f" logins: {me['rps']:.0f} req/s, p99 {me['p99_ms']:.1f} ms,"
        f" {me['errors']:.0f} errors (the flood: {flood['rps']:.0f} answers/s)"
    )
    print("\nPostgreSQL connections open per server (peak):")
    for name, count in sorted(connections.items()):
        print(f"  {name:20} {count}")
    kind = "short run: errors and keel ahead of each peer" if short else "full run"
    print(f"\ntargets ({kind}):")
    for target in checked:
        sign = ">=" if target.higher_is_better else "<="
        verdict = "met" if target.met else "MISSED"
        print(
            f"  {target.name:34} {target.value:8.2f} {sign} {target.bound:<8.2f}"
            f" {verdict}"
        )
    missed = [t for t in checked if not t.met]
    (ROOT / "bench" / "results.json").write_text(
        json.dumps(
            {
                "seconds_per_run": SECONDS,
                "rounds": ROUNDS,
                "connections": CONNECTIONS,
                "cores": CORES,
                "load_average": load,
                "elapsed_s": round(elapsed, 1),
                "cases": {
                    key: {"what": what[key], **fig, "runs": runs[key]}
                    for key, fig in cases.items()
                },
                "ratios": ratios,
                "beside_login_flood": beside_flood,
                "postgresql_connections": connections,
                "targets": [
                    {"name": t.name, "value": t.value, "bound": t.bound, "met": t.met}
                    for t in checked
                ],
            },
            indent=2,
        )
        + "\n"
    )
    print(f"figures written to bench/results.json ({elapsed:.0f} s in all)")
    print(
        f"bench: me/django={ratios['me/django']['median']:.2f}"
        f" healthz/django={ratios['healthz/django']['median']:.2f}"
        f" me/stockjwt={ratios['me/me-stockjwt']['median']:.2f}"
        f" me/gunicorn={ratios['me/me-gunicorn-stockjwt']['median']:.2f}"
        f" 2w/1w={ratios['me/me-1w']['median']:.2f}"
        f" me_p99_ms={cases['me']['p99_ms']:.1f}"
        f" errors={sum(c['errors'] for c in cases.values()):.0f}"
        f" targets_missed={len(missed)}"
    )
    return 1 if missed else 0


def main() -> int:
    if shutil.which("wrk") is None:
        print("bench: wrk is missing; on Debian: apt-get install wrk", file=sys.stderr)
        return 2
    started = time.monotonic()
    load = {"before": load_average()}
    password = secrets.token_urlsafe(16)
    with (
        database() as db,
        shared_cache() as redis_url,
        tempfile.TemporaryDirectory(prefix="keel-bench-") as tmp,
    ):
        workdir = Path(tmp)
        backend = example_project(
            workdir, base_environment(db, ROOT / "backend", redis_url)
        )
        env = base_environment(db, backend, redis_url)
        prepare(env, backend, password)
        peer = workdir / "startproject"
        peer.mkdir()
        startproject.generate(VENV_BIN / "django-admin", peer)
        logs = workdir / "logs"
        logs.mkdir()
        servers: dict[str, Server] = {}
        try:
            for spec in server_specs(peer, backend):
                servers[spec.name] = Server(spec, env, backend, logs)
            for server in servers.values():
                server.wait_ready()
            token = servers["keel"].token(password)
            measured = measure(servers, token, db)
        finally:
            for server in servers.values():
                server.stop()
    load["after"] = load_average()
    return report(measured, load, time.monotonic() - started)


if __name__ == "__main__":
    sys.exit(main())
