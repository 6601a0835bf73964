"""
Database connections that end with the thread that opened them.

Django keeps one connection per thread (persistent for DB_CONN_MAX_AGE
seconds), and the production server retires request threads that sit idle
(granian's blocking threads, after 30 s) and starts new ones under the next
burst. A retired thread's connection is only closed when its DatabaseWrapper
is garbage collected, and the wrapper sits in reference cycles that only
Python's rarest, full collection frees: each burst after a quiet spell left
its threads' connections open, and a server's count grew without bound
(8, 14, 20, ... for 2 workers x 4 threads). Closing them when the thread ends
bounds the count at workers x threads.
"""

import contextlib
import threading
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper

_thread = threading.local()


class ThreadConnections:
    """The connections one thread opened, closed when the thread is gone."""

    def __init__(self) -> None:
        self.wrappers: list[BaseDatabaseWrapper] = []

    def add(self, wrapper: BaseDatabaseWrapper) -> None:
        if not any(known is wrapper for known in self.wrappers):
            self.wrappers.append(wrapper)

    def __del__(self) -> None:
        # Runs when the thread's locals are freed, that is when it ends (its
        # wrappers are still alive then: this object holds them). The driver's
        # own close, since Django's refuses to run outside the opening thread.
        for wrapper in self.wrappers:
            with contextlib.suppress(Exception):
                if wrapper.connection is not None:
                    wrapper.connection.close()


def remember_connection(
    sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any
) -> None:
    """Note connection as this thread's (a connection_created receiver)."""
    owned = getattr(_thread, "connections", None)
    if owned is None:
        owned = _thread.connections = ThreadConnections()
    owned.add(connection)
