"""
Liveness and readiness checks, shared by /readyz and ``manage.py wait_for_db``.

Each check returns None when healthy, else a short reason that never holds a
secret (no connection string, no password).

/readyz answers anyone, so its result is reused for READINESS_CACHE_SECONDS
within a process: a flood of probes costs each worker at most one query per
period, and a failure (or a recovery) shows within that period.
"""

import threading
from collections.abc import Callable
from time import monotonic

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor

# Once every migration is applied it stays so for the life of the process
# (reset by core.state's reset, which the tests call).
_migrations_applied = False

# No knob: it is shorter than any orchestrator's probe period (Podman's and
# Kubernetes' are 1 s at the least), so no probe sees an older answer than
# without it; only a flood from elsewhere is spared the queries.
READINESS_CACHE_SECONDS = 1.0
# The last readiness result and when its check finished, and the lock that
# lets one thread at a time check: the others wait for its answer and share it.
_last_readiness: tuple[float, dict[str, str]] | None = None
_readiness_lock = threading.Lock()


def reset() -> None:
    """Forget that the migrations were found applied, and the last readiness."""
    global _migrations_applied, _last_readiness
    _migrations_applied = False
    _last_readiness = None


def database_error(detail: bool = False) -> str | None:
    """
    Return why PostgreSQL does not answer a query, or None when it does.

    With detail, the reason adds the driver's first line, which may name the
    host, port or role but never the password (masked if it appears): for
    operators' logs, such as ``manage.py wait_for_db``'s, not for /readyz,
    which anyone can read.
    """
    connection = connections[DEFAULT_DB_ALIAS]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        # A broken connection must not be reused by the next check.
        connection.close()
        if not detail:
            return f"database unavailable ({type(error).__name__})"
        lines = str(error).strip().splitlines() or [""]
        password = connection.settings_dict.get("PASSWORD") or ""
        first = lines[0].replace(password, "***") if password else lines[0]
        return f"database unavailable ({type(error).__name__}: {first[:200]})"
    return None


def migrations_error() -> str | None:
    """Return how many migrations are unapplied, or None when none is."""
    global _migrations_applied
    if _migrations_applied:
        return None
    connection = connections[DEFAULT_DB_ALIAS]
    try:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError as error:
        connection.close()
        return f"migrations unknown ({type(error).__name__})"
    if plan:
        return f"{len(plan)} unapplied migration(s)"
    _migrations_applied = True
    return None


def cache_error() -> str | None:
    """Return why the shared cache (Redis) does not answer, or None."""
    try:
        cache.get("keel:readiness")
    except Exception as error:  # any client error (connection, timeout) means not ready
        return f"cache unavailable ({type(error).__name__})"
    return None


def readiness() -> dict[str, str]:
    """
    Return each check's name with "ok" or its failure reason, as checked at
    most READINESS_CACHE_SECONDS ago by this process.
    """
    global _last_readiness
    with _readiness_lock:
        last = _last_readiness
        if last is not None and monotonic() - last[0] < READINESS_CACHE_SECONDS:
            return dict(last[1])
        results = check_readiness()
        _last_readiness = (monotonic(), results)
        return dict(results)


def check_readiness() -> dict[str, str]:
    """Return each check's name with "ok" or its failure reason, checked now."""
    checks: dict[str, Callable[[], str | None]] = {"database": database_error}
    if settings.REDIS_URL:
        checks["cache"] = cache_error
    results = {name: check() or "ok" for name, check in checks.items()}
    if results["database"] == "ok":
        results["migrations"] = migrations_error() or "ok"
    return results
