"""
Django's PBKDF2 password hasher, run at a low CPU priority.

A login costs about 0.2 s of CPU by design (PBKDF2, 1,000,000 iterations), so
a burst of logins could take every core from the rest of the API. Hashing
runs on a small pool of threads whose scheduling priority is lowered
(nice +10 on Linux): it gets the CPU the API leaves idle and only a tenth of a
busy one. The algorithm, its parameters and the stored hashes are Django's
own, so switching this hasher off again needs no migration.
"""

import contextlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor

from django.contrib.auth import hashers

# A thread's "nice" value: 0 is normal, 19 the lowest priority.
HASHING_NICENESS = 10
HASHING_THREADS = 2

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _lower_this_threads_priority() -> None:
    # On Linux each thread has its own niceness, which PRIO_PROCESS with the
    # thread's id sets; elsewhere the hashing simply runs at normal priority.
    if hasattr(os, "setpriority"):
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASHING_NICENESS)


def hashing_pool() -> ThreadPoolExecutor:
    """Return this process's pool, created on first use (so after any fork)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(
                max_workers=HASHING_THREADS,
                thread_name_prefix="password-hashing",
                initializer=_lower_this_threads_priority,
            )
        return _pool


class PBKDF2PasswordHasher(hashers.PBKDF2PasswordHasher):
    def encode(self, password: str, salt: str, iterations: int | None = None) -> str:
        return (
            hashing_pool().submit(super().encode, password, salt, iterations).result()
        )
