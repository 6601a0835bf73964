"""
How many password checks one worker process runs at once, and on what threads.

A password check costs about 0.2 s of CPU by design (PBKDF2, 1,000,000
iterations), so a burst of logins could take every request thread and every
core from the rest of the API. One setting, ``KEEL["PASSWORD_CHECKS_PER_WORKER"]``
(KEEL_PASSWORD_CHECKS_PER_WORKER), bounds both:

- slots: a login or password change holds one while it checks; one that finds
  none free is refunded its guess and answered 503 at once (PasswordChecksBusy);
- hashing threads: every PBKDF2 hash in the process (accounts.hashers: logins,
  password changes, sign-ups, the admin) runs on a pool of that many threads
  whose scheduling priority is lowered (nice +10 on Linux), so hashing gets
  the CPU the API leaves idle and only a tenth of a busy one.

Both are made on first use (so after a server forks its workers) and made
anew when the setting changes; core.state's reset drops them.
"""

import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from django.conf import settings
from rest_framework import exceptions
from rest_framework.request import Request

from accounts.guesses import refund_password_guess
from core import metrics

# A thread's "nice" value: 0 is normal, 19 the lowest priority.
HASHING_NICENESS = 10

T = TypeVar("T")


class PasswordChecksBusy(exceptions.APIException):
    status_code = 503
    default_detail = "Too many sign-ins at once; try again in a moment."
    default_code = "password_checks_busy"


def password_checks_per_worker() -> int:
    return int(settings.KEEL["PASSWORD_CHECKS_PER_WORKER"])


_lock = threading.Lock()
_slots: tuple[int, threading.BoundedSemaphore] | None = None
_pool: tuple[int, ThreadPoolExecutor] | None = None


def password_check_slots() -> threading.BoundedSemaphore:
    """Return this process's slots, made anew if the setting changed."""
    global _slots
    size = password_checks_per_worker()
    with _lock:
        if _slots is None or _slots[0] != size:
            _slots = (size, threading.BoundedSemaphore(size))
        return _slots[1]


@contextlib.contextmanager
def password_check_slot(request: Request) -> Iterator[None]:
    """
    Hold one of this worker process's password-check slots, or answer 503.

    Capping how many checks run at once in a worker keeps its other threads
    serving the rest of the API during a burst of logins; a login that finds
    no free slot is refunded its guess and told to retry.
    """
    slots = password_check_slots()
    if not slots.acquire(blocking=False):
        metrics.password_check_refused()
        refund_password_guess(request)
        raise PasswordChecksBusy()
    try:
        with metrics.password_check_in_flight():
            yield
    finally:
        slots.release()


def _lower_this_threads_priority() -> None:
    # On Linux each thread has its own niceness, which PRIO_PROCESS with the
    # thread's id sets; elsewhere the hashing simply runs at normal priority.
    if hasattr(os, "setpriority"):
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASHING_NICENESS)


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
                    initializer=_lower_this_threads_priority,
                ),
            )
        return _pool[1]


def run_at_low_priority(function: Callable[..., T], *args: object) -> T:
    """Return function(*args), computed on one of the hashing threads."""
    return hashing_pool().submit(function, *args).result()


def reset() -> None:
    """Forget the slots and the hashing threads (core.state's reset)."""
    global _slots, _pool
    with _lock:
        if _pool is not None:
            _pool[1].shutdown(wait=False)
        _slots = _pool = None
