"""
How many password checks one worker process runs at once, in what order, and
on what threads.

A password check costs about 0.2 s of CPU by design (PBKDF2, 1,000,000
iterations), so a burst of logins could take every request thread and every
core from the rest of the API. One setting, ``KEEL["PASSWORD_CHECKS_PER_WORKER"]``
(KEEL_PASSWORD_CHECKS_PER_WORKER), bounds both:

- admission: a login or password change runs its check once one of that many
  slots is free, waiting for one at most ``KEEL["PASSWORD_CHECK_WAIT"]``
  seconds (KEEL_PASSWORD_CHECK_WAIT) in a queue that is fair across client
  addresses (PasswordCheckQueue); one refused is answered 503 with
  Retry-After (PasswordChecksBusy), and counted as a failed guess of its
  address, so a flood of them is soon throttled (429) like wrong passwords;
- hashing threads: every PBKDF2 hash in the process (accounts.hashers: logins,
  password changes, sign-ups, the admin) runs on a pool of that many threads,
  so that all of them together never hash on more.

The hashing runs at the threads' normal priority. At a lowered one (nice +10)
a flood's refusals took the cores and a check took 2.2 s instead of 0.3 s
(p50, up to 6 s), longer than the wait it made the next client spend, so a
legitimate login behind it was refused 503; at normal priority it took 0.75 to
0.93 s (up to 2.2 s), and /me beside the flood was no slower within the
spread (docs/security.md).

Both are made on first use (so after a server forks its workers) and made
anew when a setting changes; core.state's reset drops them.
"""

import contextlib
import itertools
import math
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TypeVar

from django.conf import settings
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from accounts.guesses import refund_refused_guess
from core import metrics

# What one client address may hold of a worker at once: a check running and
# one waiting. A worker serves on few threads (bin/serve: 4), so a flood from
# one address keeps at most two of them and the rest serve everyone else.
RUNNING_PER_CLIENT = 1
WAITING_PER_CLIENT = 1

T = TypeVar("T")


class PasswordChecksBusy(exceptions.APIException):
    status_code = 503
    default_detail = "Too many sign-ins at once; try again in a moment."
    default_code = "password_checks_busy"

    def __init__(self, wait: float) -> None:
        super().__init__()
        self.wait = wait  # seconds, sent as Retry-After


def password_checks_per_worker() -> int:
    return int(settings.KEEL["PASSWORD_CHECKS_PER_WORKER"])


def password_check_wait() -> float:
    return float(settings.KEEL["PASSWORD_CHECK_WAIT"])


@dataclass(eq=False)
class _Waiter:
    client: str
    arrived: int
    admitted: threading.Event = field(default_factory=threading.Event)


class PasswordCheckQueue:
    """
    Admit at most ``slots`` password checks at once, fairly across clients.

    A client (an address) runs at most RUNNING_PER_CLIENT checks and has at
    most WAITING_PER_CLIENT more waiting; one more is refused at once. A
    waiter is refused when ``wait`` seconds pass before it is admitted. A
    freed slot goes to the waiting client admitted least recently (one never
    admitted, or with nothing left running or waiting, first), and within one
    client to its earliest waiter: round-robin across clients, so a flood from
    some of them delays each other client by about one check per slot.
    """

    def __init__(self, *, slots: int, wait: float) -> None:
        self.slots = slots
        self.wait = wait
        self._lock = threading.Lock()
        self._running: Counter[str] = Counter()
        self._waiting: list[_Waiter] = []
        # When each client with a check running or waiting was last admitted;
        # kept for no other client, so its size is bounded by the threads.
        self._admitted_at: dict[str, int] = {}
        self._ticks = itertools.count()

    def enter(self, client: str) -> bool:
        """Wait for a slot for client; return whether it got one (then leave())."""
        with self._lock:
            if self._may_run(client):
                self._admit(client)
                return True
            waiting = sum(waiter.client == client for waiter in self._waiting)
            if waiting >= WAITING_PER_CLIENT or self.wait <= 0:
                return False
            waiter = _Waiter(client, next(self._ticks))
            self._waiting.append(waiter)
        admitted = waiter.admitted.wait(self.wait)
        if admitted:
            return True
        with self._lock:
            if waiter.admitted.is_set():  # admitted as the wait ran out
                return True
            self._waiting.remove(waiter)
            self._forget_if_idle(client)
            return False

    def leave(self, client: str) -> None:
        """Give back the slot client's check held; hand it to the next waiter."""
        with self._lock:
            self._running[client] -= 1
            if self._running[client] <= 0:
                del self._running[client]
            while self._waiting and self._running.total() < self.slots:
                ready = [w for w in self._waiting if w.client not in self._running]
                if not ready:
                    break
                waiter = min(
                    ready,
                    key=lambda w: (self._admitted_at.get(w.client, -1), w.arrived),
                )
                self._waiting.remove(waiter)
                self._admit(waiter.client)
                waiter.admitted.set()
            self._forget_if_idle(client)

    def waiting(self) -> list[str]:
        """Return the clients of the waiting checks, earliest first."""
        with self._lock:
            return [waiter.client for waiter in self._waiting]

    def _may_run(self, client: str) -> bool:
        # Waiters are only ever clients that may not run yet (leave() admits
        # any other at once), so a newcomer that may run jumps no one.
        return (
            self._running.total() < self.slots
            and self._running[client] < RUNNING_PER_CLIENT
        )

    def _admit(self, client: str) -> None:
        self._running[client] += 1
        self._admitted_at[client] = next(self._ticks)

    def _forget_if_idle(self, client: str) -> None:
        if client not in self._running and all(
            waiter.client != client for waiter in self._waiting
        ):
            self._admitted_at.pop(client, None)


_lock = threading.Lock()
_queue: tuple[tuple[int, float], PasswordCheckQueue] | None = None
_pool: tuple[int, ThreadPoolExecutor] | None = None


def password_check_queue() -> PasswordCheckQueue:
    """Return this process's admission queue, made anew if a setting changed."""
    global _queue
    shape = (password_checks_per_worker(), password_check_wait())
    with _lock:
        if _queue is None or _queue[0] != shape:
            _queue = (shape, PasswordCheckQueue(slots=shape[0], wait=shape[1]))
        return _queue[1]


@contextlib.contextmanager
def password_check_slot(request: Request) -> Iterator[None]:
    """
    Hold one of this worker process's password-check slots, or answer 503.

    Capping how many checks run at once in a worker keeps its other threads
    serving the rest of the API during a burst of logins. A refused login
    stays counted against its address, where the throttles already counted it
    (accounts.throttles), so that refusals cannot be had for free, and is
    refunded against the username, so that a flood of them from elsewhere
    cannot lock its owner out.
    """
    queue = password_check_queue()
    # The throttles' own client address, so DJANGO_NUM_PROXIES applies alike.
    client = str(BaseThrottle().get_ident(request))
    if not queue.enter(client):
        metrics.password_check_refused()
        refund_refused_guess(request)
        raise PasswordChecksBusy(wait=max(math.ceil(queue.wait), 1))
    try:
        with metrics.password_check_in_flight():
            yield
    finally:
        queue.leave(client)


def hashing_pool() -> ThreadPoolExecutor:
    """Return this process's hashing threads, made anew if the setting changed."""
    global _pool
    size = password_checks_per_worker()
    with _lock:
        if _pool is None or _pool[0] != size:
            if _pool is not None:
                # Hashes already submitted finish; new ones go to the new pool.
                _pool[1].shutdown(wait=False)
            _pool = (
                size,
                ThreadPoolExecutor(
                    max_workers=size,
                    thread_name_prefix="password-hashing",
                ),
            )
        return _pool[1]


def run_on_hashing_threads(function: Callable[..., T], *args: object) -> T:
    """Return function(*args), computed on one of the hashing threads."""
    return hashing_pool().submit(function, *args).result()


def reset() -> None:
    """Forget the admission queue and the hashing threads (core.state's reset)."""
    global _queue, _pool
    with _lock:
        if _pool is not None:
            _pool[1].shutdown(wait=False)
        _queue = _pool = None
