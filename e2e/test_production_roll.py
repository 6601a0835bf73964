"""production: a rolling deploy and a database restart, under a steady client stream.

Two clients run throughout, through the proxy: GET /api/auth/me/ in a loop,
and a chain of refresh-token rotations, each refresh sending the token the
previous one returned (paced under the refresh throttle's 30 a minute). During
the roll (scripts/roll.py, make roll's logic) every request must get its 200 at
the first attempt. During the database restart requests cannot all succeed;
the client retries a 503 after its Retry-After, as keel's API asks, and every
operation must end in a 200 without the chain breaking, no replica restarting.
"""

import http.client
import json
import math
import secrets
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest

from e2e.http import HTTPS, Endpoint, Response, request
from e2e.shell import exec_in, inspect, podman, run, wait_until
from e2e.stacks import PODMAN_COMPOSE, PROD_REPLICAS, Stack
from e2e.timings import Timings

GET_CLIENTS = 2
# The refresh throttle allows 30 a minute per user: 24 leave room.
REFRESH_EVERY = 2.5
QUIET_SECONDS = 6.0
# The statuses keel answers "try again later" with, each with Retry-After.
RETRY_LATER = (429, 503)
# How long a retrying client keeps at one operation before it gives up.
GIVE_UP_AFTER = 90.0
ROLL_IMAGE = "localhost/keel-backend:e2e-roll"


@dataclass(frozen=True)
class Operation:
    """One GET or refresh as the client saw it: its last status, and how long."""

    kind: str
    began: float
    seconds: float
    status: int | str
    attempts: int
    statuses: tuple[int | str, ...]


@dataclass
class Stream:
    """The clients: GET_CLIENTS loops of GET me/, and one refresh chain.

    With retry, an answer in RETRY_LATER is tried again after its Retry-After
    (as one operation); anything else that is not 200 ends the operation.
    """

    endpoint: Endpoint
    refresh: str
    access: str
    retry: bool = False
    operations: list[Operation] = field(default_factory=list)
    chain_broken: str = ""
    stopping: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, method: str, path: str, body: dict[str, str] | None) -> Response:
        headers = {**HTTPS, "Authorization": f"Bearer {self.access}"}
        if body is not None:
            headers = {**HTTPS, "Content-Type": "application/json"}
        return request(
            self.endpoint, method, path, headers=headers,
            body=None if body is None else json.dumps(body).encode(),
        )  # fmt: skip

    def operation(
        self, kind: str, method: str, path: str, body: dict[str, str] | None = None
    ) -> Response | None:
        """Return the operation's last response (None if none), recording it."""
        began = time.monotonic()
        statuses: list[int | str] = []
        response = None
        while True:
            try:
                response = self.send(method, path, body)
                statuses.append(response.status)
            except (OSError, http.client.HTTPException) as error:
                response = None
                statuses.append(f"no answer: {error!r}")
            retry_after = response and response.headers.get("Retry-After")
            if not (
                self.retry
                and response is not None
                and response.status in RETRY_LATER
                and retry_after
                and time.monotonic() - began < GIVE_UP_AFTER
            ):
                break
            time.sleep(float(retry_after))
        with self.lock:
            self.operations.append(
                Operation(
                    kind, began, time.monotonic() - began, statuses[-1],
                    len(statuses), tuple(statuses),
                )
            )  # fmt: skip
        return response

    def get_loop(self) -> None:
        while not self.stopping.is_set():
            self.operation("me", "GET", "/api/auth/me/")

    def refresh_loop(self) -> None:
        while not self.stopping.wait(REFRESH_EVERY) and not self.chain_broken:
            response = self.refresh_once()
            if response is None or response.status != 200:
                status = response.status if response else "no answer"
                self.chain_broken = f"a refresh answered {status}"

    def refresh_once(self) -> Response | None:
        """Spend the chain's refresh token for the next; return the response."""
        body = {"refresh": self.refresh}
        response = self.operation("refresh", "POST", "/api/auth/token/refresh/", body)
        if response is not None and response.status == 200:
            tokens = response.json()
            self.refresh, self.access = str(tokens["refresh"]), str(tokens["access"])
        return response

    @classmethod
    @contextmanager
    def running(cls, production: Stack, retry: bool) -> "Iterator[Stream]":
        """Yield a stream for a user of its own, its clients running meanwhile."""
        username, password = (
            f"e2e-stream-{secrets.token_hex(4)}",
            secrets.token_urlsafe(),
        )
        exec_in(
            production.container("backend"),
            "python", "manage.py", "createsuperuser", "--noinput",
            env={
                "DJANGO_SUPERUSER_USERNAME": username,
                "DJANGO_SUPERUSER_PASSWORD": password,
                "DJANGO_SUPERUSER_EMAIL": f"{username}@example.com",
            },
        )  # fmt: skip
        login = request(
            production.endpoint, "POST", "/api/auth/token/",
            body=json.dumps({"username": username, "password": password}).encode(),
            headers={**HTTPS, "Content-Type": "application/json"},
        )  # fmt: skip
        assert login.status == 200, f"the stream's login answered {login.status}"
        tokens = login.json()
        stream = cls(
            production.endpoint, str(tokens["refresh"]), str(tokens["access"]), retry
        )
        threads = [
            *(threading.Thread(target=stream.get_loop) for _ in range(GET_CLIENTS)),
            threading.Thread(target=stream.refresh_loop),
        ]
        for thread in threads:
            thread.start()
        try:
            yield stream
        finally:
            stream.stopping.set()
            for thread in threads:
                thread.join()

    def between(self, start: float, end: float) -> list[Operation]:
        return [op for op in self.operations if start <= op.began < end]


def p99(operations: list[Operation]) -> float:
    """Return the 99th percentile of the operations' times, in milliseconds."""
    times = sorted(op.seconds for op in operations)
    return 1000 * times[max(0, math.ceil(0.99 * len(times)) - 1)] if times else 0.0


def proxy_errors(production: Stack) -> list[str]:
    """Return what the proxy has logged at error level (nginx's stderr)."""
    logs = run("podman", "logs", production.container("proxy"))
    return [line for line in logs.stderr.splitlines() if "[error]" in line]


def replica_states(production: Stack) -> dict[str, str]:
    return {
        name: inspect(name, "{{.Id}} {{.Image}} {{.State.StartedAt}} {{.RestartCount}}")
        for name in production.replicas("backend")
    }


def every_replica_ready(production: Stack) -> bool:
    for name in production.replicas("backend"):
        try:
            answer = request(
                8000, "GET", "/readyz", headers=HTTPS, host=production.address(name)
            )
        except OSError:
            return False
        if answer.status != 200:
            return False
    return True


@dataclass(frozen=True)
class Roll:
    before: dict[str, str]
    after: dict[str, str]
    new_image: str
    quiet: list[Operation]
    during: list[Operation]
    chain_broken: str
    refresh_after: int
    ready_after: bool
    seconds: float
    output: str
    proxy_errors: list[str]


@pytest.fixture(scope="module")
def roll(production: Stack, timings: Timings) -> Roll:
    """Roll every replica onto a new image under the stream; return what was seen."""
    # The new image: the running one plus a label, so its id differs. From
    # the running image's id, which another run may have re-tagged since.
    running_image = inspect(production.container("backend"), "{{.Image}}")
    context = production.workspace / "e2e-roll"
    context.mkdir(exist_ok=True)
    (context / "Containerfile").write_text(
        f"FROM {running_image}\nLABEL org.keel.e2e.roll=1\n"
    )
    podman("build", "--quiet", "-t", ROLL_IMAGE, str(context))
    new_image = podman("image", "inspect", "--format", "{{.Id}}", ROLL_IMAGE)
    before = replica_states(production)
    profiles = [arg for name in production.profiles for arg in ("--profile", name)]
    compose = [PODMAN_COMPOSE, *profiles, "-p", production.project, *production.files]
    for_roll = {**production.env, "BACKEND_IMAGE": ROLL_IMAGE}
    logged_before = len(proxy_errors(production))
    with Stream.running(production, retry=False) as stream:
        time.sleep(QUIET_SECONDS)
        began = time.monotonic()
        with timings.step("roll: scripts/roll.py, 3 replicas and the worker"):
            rolled = run(
                sys.executable, "scripts/roll.py", "--project", production.project,
                "--no-build", *compose,
                cwd=production.workspace, env=for_roll, check=False,
            )  # fmt: skip
        ended = time.monotonic()
    for line in rolled.stdout.splitlines():
        timings.note(line)
    assert rolled.returncode == 0, rolled.stdout + rolled.stderr
    # The chain's next link, once the clients have stopped.
    refresh_after = stream.refresh_once()
    return Roll(
        before=before,
        after=replica_states(production),
        new_image=new_image,
        quiet=stream.between(0, began),
        during=stream.between(began, ended),
        chain_broken=stream.chain_broken,
        refresh_after=refresh_after.status if refresh_after else 0,
        ready_after=every_replica_ready(production),
        seconds=ended - began,
        output=rolled.stdout,
        proxy_errors=proxy_errors(production)[logged_before:],
    )


def failures(operations: list[Operation]) -> list[Operation]:
    return [op for op in operations if op.status != 200]


def test_no_request_failed_during_the_roll(roll: Roll, timings: Timings) -> None:
    # The stream does not retry here: every request's one answer counts.
    assert failures(roll.quiet + roll.during) == []
    for label, ops in (("quiet", roll.quiet), ("during the roll", roll.during)):
        gets = [op for op in ops if op.kind == "me"]
        refreshes = [op for op in ops if op.kind == "refresh"]
        timings.figure(
            f"stream {label}: {len(gets)} GET me/ p99 {p99(gets):.0f} ms, "
            f"max {1000 * max(op.seconds for op in gets):.0f} ms; "
            f"{len(refreshes)} refreshes p99 {p99(refreshes):.0f} ms"
        )
    per_replica = [
        line.split(" replaced in ")[1] for line in roll.output.splitlines()
        if " replaced in " in line
    ]  # fmt: skip
    timings.figure(
        f"roll of {PROD_REPLICAS} replicas and the worker: {roll.seconds:.1f} s "
        f"(per replica: {', '.join(per_replica)})"
    )


def test_no_refresh_token_was_lost_during_the_roll(roll: Roll) -> None:
    refreshes = [op for op in roll.during if op.kind == "refresh"]
    # Enough links to mean something: one per REFRESH_EVERY.
    assert len(refreshes) >= 5
    assert roll.chain_broken == ""
    assert roll.refresh_after == 200


def test_the_proxy_retried_only_connections_that_were_refused(roll: Roll) -> None:
    # A refused connection carried nothing, so its retry is safe for any
    # method; a timeout (an address gone) or a reset after the request was
    # sent would mean a replica left or was cut while nginx still used it.
    refused = "(111: Connection refused) while connecting to upstream"
    assert [line for line in roll.proxy_errors if refused not in line] == []


def test_every_replica_runs_the_new_image(roll: Roll) -> None:
    assert set(roll.after) == set(roll.before)
    for name, state in roll.after.items():
        container, image = state.split()[:2]
        assert container != roll.before[name].split()[0], f"{name} not replaced"
        assert image == roll.new_image, f"{name} runs {image}"
    assert roll.ready_after


@dataclass(frozen=True)
class DatabaseRestart:
    before: dict[str, str]
    after: dict[str, str]
    db_restarted: bool
    operations: list[Operation]
    chain_broken: str
    refresh_after: int
    recovered_after: float
    outage_seconds: float


@pytest.fixture(scope="module")
def db_restart(production: Stack, roll: Roll) -> DatabaseRestart:
    """Restart PostgreSQL under the retrying stream; return what was seen."""
    db = production.container("db")
    db_started = inspect(db, "{{.State.StartedAt}}")
    before = replica_states(production)
    with Stream.running(production, retry=True) as stream:
        time.sleep(3)
        stopped = time.monotonic()
        production.compose("stop", "db")
        production.compose("start", "db")
        outage_seconds = time.monotonic() - stopped
        recovered_after = wait_until(
            "every replica ready after the database restart",
            lambda: every_replica_ready(production),
            timeout=90,
        )
        time.sleep(3)
    refresh_after = stream.refresh_once()
    return DatabaseRestart(
        before=before,
        after=replica_states(production),
        db_restarted=inspect(db, "{{.State.StartedAt}}") != db_started,
        operations=stream.operations,
        chain_broken=stream.chain_broken,
        refresh_after=refresh_after.status if refresh_after else 0,
        recovered_after=recovered_after,
        outage_seconds=outage_seconds,
    )


def test_database_restart_fails_no_operation_that_retries(
    db_restart: DatabaseRestart, timings: Timings
) -> None:
    assert db_restart.db_restarted
    assert failures(db_restart.operations) == []
    retried = [op for op in db_restart.operations if op.attempts > 1]
    seen = sorted({s for op in db_restart.operations for s in op.statuses}, key=str)
    timings.figure(
        f"database restart under {PROD_REPLICAS} replicas: stop and start "
        f"{db_restart.outage_seconds:.1f} s, "
        f"every replica ready {db_restart.recovered_after:.1f} s later; "
        f"{len(db_restart.operations)} operations, {len(retried)} retried after a "
        f"503 (statuses seen: {seen}), longest "
        f"{max(op.seconds for op in db_restart.operations):.1f} s"
    )


def test_database_restart_loses_no_refresh_token(db_restart: DatabaseRestart) -> None:
    assert db_restart.chain_broken == ""
    assert db_restart.refresh_after == 200


def test_database_restart_restarts_no_replica(db_restart: DatabaseRestart) -> None:
    assert db_restart.after == db_restart.before
