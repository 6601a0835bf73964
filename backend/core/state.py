"""
Process-global state, and the one way to reset it.

A few things live for the life of a worker process on purpose, because
rebuilding them per request would cost more than the request:

- accounts.authentication: the LRU of verified access tokens;
- core.health: the flag that every migration is applied, and the last
  readiness answer (reused for a second);
- accounts.password_checks: the password-check slots and the hashing threads;
- accounts.counts: the throttle keys found over their limit in the last second.

Each owner registers a function that forgets its state, in its app's
``ready()``; ``reset()`` calls them all. Nothing in production calls it: the
test suite does before every test (backend/conftest.py), so that no test sees
what another left behind. New process-global state registers here too.
"""

from collections.abc import Callable

_resetters: dict[str, Callable[[], None]] = {}


def register(name: str, resetter: Callable[[], None]) -> None:
    """Have reset() call resetter; name says whose state it is (one per name)."""
    _resetters[name] = resetter


def registered() -> list[str]:
    """Return the names of the registered resetters."""
    return sorted(_resetters)


def reset() -> None:
    """Forget every piece of process-global state registered here."""
    for resetter in _resetters.values():
        resetter()
