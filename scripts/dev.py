"""
keel on the host: ``make dev`` and ``make serve``, and the everyday commands.

With no DB_HOST (in the environment or backend/.env), keel starts PostgreSQL
itself from the server binaries on this machine, the way the test suite does
(backend/testing/postgres.py), but with its data kept in ``.keel/pgdata`` in the
checkout (ignored by git), so that it survives restarts. With DB_HOST set it
uses that server and starts nothing.

    python scripts/dev.py run [--server runserver|serve] [--noreload]   migrate, serve
    python scripts/dev.py manage ARGS...    manage.py against the same database
    python scripts/dev.py psql              psql to it
    python scripts/dev.py exec COMMAND...   COMMAND with that database's DB_* set
    python scripts/dev.py logs              follow the server's and PostgreSQL's log
    python scripts/dev.py stop-db           stop PostgreSQL left running by `manage`
    python scripts/dev.py wait URL LOGS     wait for the stack's server, print URLs

``run`` supervises its child processes (the web server, and any other process
keel adds beside it) and the database: Ctrl-C or SIGTERM stops them all, and
the command returns only once none is left.
"""

import argparse
import contextlib
import os
import signal
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, NoReturn

ROOT = Path(__file__).resolve().parent.parent
BACKEND = ROOT / "backend"
sys.path[:0] = [str(BACKEND)]

from configs.env import read_environment  # noqa: E402 - the path above
from testing.postgres import (  # noqa: E402
    NO_POSTGRES,
    KeptPostgres,
    PostgresNotFound,
    find_pg_ctl,
    free_port,
)

STATE = ROOT / ".keel"
# A fixed port, remembered in the data folder once chosen: tools such as psql
# and a GUI client find the database in the same place every time, and it
# stays clear of a PostgreSQL already on 5432 (DB_PUBLISH_PORT, or the host's).
DEFAULT_DB_PORT = 54329
STOP_SECONDS = 10


class Stop(Exception):
    """SIGINT or SIGTERM arrived: stop everything, then exit."""


def _raise_stop(signum: int, frame: object) -> NoReturn:
    raise Stop(signal.Signals(signum).name)


def fail(message: str) -> NoReturn:
    print(f"keel: {message}", file=sys.stderr)
    sys.exit(1)


def settings_values() -> dict[str, str]:
    """Return what settings will read: backend/.env overlaid with the environment."""
    name = os.environ.get("KEEL_ENV_FILE", str(BACKEND / ".env"))
    return read_environment(os.environ, Path(name) if name else None)


@dataclass
class Database:
    """Where keel's database is, and the embedded server when keel runs one."""

    environment: dict[str, str]
    server: KeptPostgres | None = None
    started_here: bool = False

    def stop(self) -> None:
        if self.server is not None and self.started_here:
            self.server.stop()
            self.started_here = False


def db_port(state: Path, requested: int | None) -> int:
    """Return the embedded server's port: asked for, remembered, or chosen now."""
    remembered = state / "port"
    if requested is not None:
        port = requested
    elif remembered.is_file():
        port = int(remembered.read_text())
    else:
        port = DEFAULT_DB_PORT if port_is_free(DEFAULT_DB_PORT) else free_port()
    state.mkdir(parents=True, exist_ok=True)
    remembered.write_text(f"{port}\n")
    return port


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    import socket

    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def database(state: Path, requested_port: int | None, *, start: bool) -> Database:
    """
    Return the database keel uses here, starting the embedded one if needed.

    With DB_HOST set the environment already says where it is. Otherwise the
    embedded server, reached over its Unix socket (which needs no password),
    holds DB_NAME, owned by the superuser DB_USER (default keel).
    """
    values = settings_values()
    if values.get("DB_HOST", "").strip():
        return Database(environment={})
    user = values.get("DB_USER", "").strip() or "keel"
    name = values.get("DB_NAME", "").strip() or "keel"
    try:
        server = KeptPostgres(
            state / "pgdata",
            db_port(state, requested_port),
            user=user,
            password=values.get("DB_PASSWORD", "").strip(),
        )
    except PostgresNotFound:
        fail(f"{NO_POSTGRES} Or set DB_HOST in backend/.env to use a server of yours.")
    result = Database(
        environment={
            "DB_HOST": str(server.workdir),
            "DB_PORT": str(server.port),
            "DB_USER": user,
            "DB_NAME": name,
        },
        server=server,
    )
    if start and not server.running():
        if not port_is_free(server.port):
            fail(
                f"port {server.port}, the embedded PostgreSQL's, is taken. Fix: "
                f"`rm {state / 'port'}` and keel picks a free one next time."
            )
        doing = "starting" if server.initialised else "creating"
        print(
            f"keel: {doing} the embedded PostgreSQL in {server.workdir} "
            f"(127.0.0.1:{server.port})",
            flush=True,
        )
        try:
            server.start()
        except subprocess.CalledProcessError as error:
            output = (error.output or b"").decode(errors="replace").strip()
            fail(f"PostgreSQL's initdb failed ({error.returncode}): {output}")
        result.started_here = True
        try:
            server.ensure_database(name)
        except BaseException:
            result.stop()
            raise
    return result


def manage(args: list[str], environment: Mapping[str, str]) -> int:
    """Run manage.py with args against the database environment names."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BACKEND,
        env={**os.environ, **environment},
        check=False,
    ).returncode


@dataclass
class Child:
    """A process ``run`` supervises, in a process group of its own."""

    name: str
    argv: list[str]
    process: "subprocess.Popen[bytes] | None" = None
    tee: threading.Thread | None = field(default=None, repr=False)

    def start(self, environment: Mapping[str, str], log: IO[bytes]) -> None:
        # A session of its own, so that a server's children (runserver's
        # autoreloader, granian's workers) are stopped with it, and the
        # terminal's Ctrl-C reaches only this supervisor, which stops them
        # in order.
        self.process = subprocess.Popen(
            self.argv,
            cwd=BACKEND,
            # Unbuffered, so that its lines reach the terminal as they are written.
            env={**os.environ, **environment, "PYTHONUNBUFFERED": "1"},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.tee = threading.Thread(
            target=_tee, args=(self.process.stdout, log), daemon=True
        )
        self.tee.start()

    def stop(self) -> None:
        if self.process is None:
            return
        for sig, seconds in ((signal.SIGTERM, STOP_SECONDS), (signal.SIGKILL, 5)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)
            try:
                self.process.wait(seconds)
                break
            except subprocess.TimeoutExpired:
                continue
        # The group may outlive its leader for a moment; none of it may stay.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        if self.tee is not None:
            self.tee.join(5)


def _tee(source: IO[bytes], log: IO[bytes]) -> None:
    for line in iter(source.readline, b""):
        sys.stdout.buffer.write(line)
        sys.stdout.flush()
        log.write(line)
        log.flush()


def children(server: str, host: str, port: int, *, reload: bool = True) -> list[Child]:
    """
    Return the processes ``run`` starts beside the database.

    A process that belongs to keel's development run (a task-queue worker)
    is one more Child here; the supervisor starts, watches and stops it.
    """
    # bin/serve and bin/worker run the `python` on PATH: this one's, first.
    path = f"PATH={Path(sys.executable).parent}:{os.environ.get('PATH', '')}"
    if server == "serve":
        web = Child(
            "web",
            [
                "/usr/bin/env",
                path,
                f"KEEL_HOST={host}",
                f"KEEL_PORT={port}",
                str(BACKEND / "bin" / "serve"),
            ],
        )
    else:
        runserver = [sys.executable, "manage.py", "runserver", f"{host}:{port}"]
        web = Child("web", runserver if reload else [*runserver, "--noreload"])
    # The task-queue worker (mail, periodic jobs), on the same database; its
    # in-flight jobs get less than STOP_SECONDS to finish on SIGTERM.
    worker = Child(
        "worker",
        [
            "/usr/bin/env",
            path,
            f"KEEL_SHUTDOWN_TIMEOUT={STOP_SECONDS - 2}",
            str(BACKEND / "bin" / "worker"),
        ],
    )
    return [web, worker]


def wait_until_up(
    url: str,
    processes: list[Child],
    timeout: float = 60,
    context: ssl.SSLContext | None = None,
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for child in processes:
            if child.process is not None and child.process.poll() is not None:
                raise SystemExit(
                    f"keel: {child.name} exited with {child.process.returncode} "
                    "while starting (its output is above)."
                )
        try:
            with urllib.request.urlopen(  # noqa: S310
                url, timeout=2, context=context
            ) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    raise SystemExit(f"keel: no answer from {url} after {timeout:.0f} s.")


def prepare(server: str, environment: Mapping[str, str]) -> None:
    """Migrate, create the env's superuser, and (production server) collect static."""
    steps = [["migrate_locked"]]
    if server == "serve":
        # Debug off: the production server serves the static files only from
        # the collected, hashed copies, as the image does.
        steps.append(["collectstatic", "--noinput", "--verbosity", "0"])
    for step in steps:
        if manage(step, environment) != 0:
            raise SystemExit(f"keel: manage.py {' '.join(step)} failed (see above).")


def run(arguments: argparse.Namespace) -> int:
    host = arguments.host or os.environ.get("KEEL_HOST") or "127.0.0.1"
    port = arguments.port or int(os.environ.get("KEEL_PORT") or 8000)
    state: Path = arguments.state
    signal.signal(signal.SIGINT, _raise_stop)
    signal.signal(signal.SIGTERM, _raise_stop)
    db: Database | None = None
    processes = children(arguments.server, host, port, reload=not arguments.noreload)
    started = time.monotonic()
    stack = contextlib.ExitStack()
    try:
        if not port_is_free(port, host):
            fail(
                f"port {port} is taken. Fix: `KEEL_PORT={free_port()} make "
                f"{'serve' if arguments.server == 'serve' else 'dev'}`."
            )
        db = database(state, arguments.db_port, start=True)
        # A server found running was left by a run that was killed: this run
        # owns it now, and stops it too.
        db.started_here = db.server is not None
        prepare(arguments.server, db.environment)
        state.mkdir(parents=True, exist_ok=True)
        # Closed only once every child (and its output) has stopped.
        log = stack.enter_context((state / "server.log").open("ab"))
        for child in processes:
            child.start(db.environment, log)
        base = f"http://{host}:{port}"
        wait_until_up(f"{base}/healthz", processes)
        print(
            f"keel is up in {time.monotonic() - started:.1f} s: {urls(base)}. "
            "Ctrl-C stops it.",
            flush=True,
        )
        while True:
            for child in processes:
                code = child.process.poll() if child.process else None
                if code is not None:
                    print(f"keel: {child.name} exited with {code}.", flush=True)
                    return code or 1
            time.sleep(0.2)
    except Stop:
        print("keel: stopping.", flush=True)
        return 0
    finally:
        # Signals from here on would only interrupt the clean-up.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for child in reversed(processes):
            child.stop()
        if db is not None:
            db.stop()
        stack.close()


@contextlib.contextmanager
def database_for_command(arguments: argparse.Namespace) -> Iterator[Database]:
    """Yield the database, running the embedded one only as long as needed."""
    signal.signal(signal.SIGTERM, _raise_stop)
    db = database(arguments.state, arguments.db_port, start=True)
    try:
        yield db
    finally:
        db.stop()


def manage_command(arguments: argparse.Namespace) -> int:
    with database_for_command(arguments) as db:
        # The terminal's Ctrl-C belongs to the command (a shell, a prompt).
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        return manage(arguments.args, db.environment)


def exec_command(arguments: argparse.Namespace) -> int:
    """Run a command (make backup's) with the database's DB_* in its environment."""
    if not arguments.args:
        fail("exec needs a command to run.")
    with database_for_command(arguments) as db:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        return subprocess.run(
            arguments.args, env={**os.environ, **db.environment}, check=False
        ).returncode


def psql_command(arguments: argparse.Namespace) -> int:
    with database_for_command(arguments) as db:
        values = {**settings_values(), **db.environment}
        psql = "psql"
        pg_ctl = find_pg_ctl()
        if pg_ctl is not None and Path(pg_ctl).with_name("psql").is_file():
            psql = str(Path(pg_ctl).with_name("psql"))
        environment = {
            "PGHOST": values.get("DB_HOST", ""),
            "PGPORT": values.get("DB_PORT", "") or "5432",
            "PGUSER": values.get("DB_USER", ""),
            "PGDATABASE": values.get("DB_NAME", ""),
        }
        if db.server is None and values.get("DB_PASSWORD"):
            environment["PGPASSWORD"] = values["DB_PASSWORD"]
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        return subprocess.run(
            [psql, *arguments.args], env={**os.environ, **environment}, check=False
        ).returncode


def logs_command(arguments: argparse.Namespace) -> int:
    files = [arguments.state / "server.log", arguments.state / "pgdata/postgresql.log"]
    present = [str(path) for path in files if path.is_file()]
    if not present:
        fail("no logs yet: `make dev` writes them to .keel/.")
    with contextlib.suppress(KeyboardInterrupt):
        return subprocess.run(
            ["tail", "-n", "50", "-F", *present], check=False
        ).returncode
    return 0


def stop_db_command(arguments: argparse.Namespace) -> int:
    db = database(arguments.state, arguments.db_port, start=False)
    if db.server is not None and db.server.running():
        db.server.stop()
        print("keel: stopped the embedded PostgreSQL.")
    return 0


def urls(base: str) -> str:
    return f"{base}/api/docs/ (API docs), {base}/admin/ (admin)"


def wait_command(arguments: argparse.Namespace) -> int:
    """Wait for a server started elsewhere (make up, make prod) to answer."""
    base = arguments.url.rstrip("/")
    started = time.monotonic()
    try:
        # The production proxy's self-signed certificate, or a real one for
        # a name other than 127.0.0.1: either way only liveness is asked.
        context = (
            ssl._create_unverified_context()  # noqa: S323
            if arguments.any_certificate
            else None
        )
        wait_until_up(f"{base}/healthz", [], timeout=arguments.timeout, context=context)
    except SystemExit as error:
        print(f"{error} Its logs: {arguments.logs}", file=sys.stderr)
        return 1
    print(
        f"keel is up in {time.monotonic() - started:.1f} s: {urls(base)}. "
        f"Logs: {arguments.logs}"
    )
    return 0


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--state", type=Path, default=STATE, help="the data folder (default .keel/)"
    )
    parser.add_argument(
        "--db-port", type=int, help="the embedded PostgreSQL's port (default 54329)"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run_parser = commands.add_parser("run", help="migrate, then serve until stopped")
    run_parser.add_argument(
        "--server", choices=["runserver", "serve"], default="runserver"
    )
    run_parser.add_argument("--host", help="default KEEL_HOST or 127.0.0.1")
    run_parser.add_argument("--port", type=int, help="default KEEL_PORT or 8000")
    run_parser.add_argument(
        "--noreload",
        action="store_true",
        help="runserver without its autoreloader (one process, no file polling)",
    )
    run_parser.set_defaults(handler=run)
    for name, handler in (
        ("manage", manage_command),
        ("psql", psql_command),
        ("exec", exec_command),
    ):
        sub = commands.add_parser(name)
        sub.add_argument("args", nargs=argparse.REMAINDER)
        sub.set_defaults(handler=handler)
    commands.add_parser("logs").set_defaults(handler=logs_command)
    commands.add_parser("stop-db").set_defaults(handler=stop_db_command)
    wait = commands.add_parser("wait")
    wait.add_argument("url")
    wait.add_argument("logs", help="the command that shows the server's logs")
    wait.add_argument("--timeout", type=float, default=180)
    wait.add_argument(
        "--any-certificate",
        action="store_true",
        help="take the HTTPS certificate unchecked (the proxy's self-signed one)",
    )
    wait.set_defaults(handler=wait_command)
    return parser


def main() -> int:
    arguments = parser().parse_args()
    try:
        return int(arguments.handler(arguments))
    except Stop:
        return 0


if __name__ == "__main__":
    sys.exit(main())
