"""
Health checks shared by the container's entrypoint, its probes and /readyz.

Each check returns None when healthy, else a short reason that is safe to log
or to show a client: it says what failed and never contains a credential.
"""

import copy

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.utils import Error, load_backend

# libpq treats any connect_timeout below 2 seconds as 2.
MINIMUM_CONNECT_TIMEOUT = 2
MAXIMUM_REASON_LENGTH = 200


def database_error(alias: str = DEFAULT_DB_ALIAS, timeout: int = 2) -> str | None:
    """
    Return None when the database answers ``SELECT 1``, else a short reason.

    The query runs on a connection of its own, opened with connect_timeout
    capped at timeout seconds and closed afterwards, so that an unreachable
    server is reported within that time whatever DB_CONNECT_TIMEOUT says, and
    a request's connection or a connection pool is never disturbed.
    """
    settings_dict = copy.deepcopy(connections[alias].settings_dict)
    options = settings_dict.setdefault("OPTIONS", {})
    # A pool would hand out an existing connection; the check wants a fresh one.
    options.pop("pool", None)
    limit = max(timeout, MINIMUM_CONNECT_TIMEOUT)
    options["connect_timeout"] = min(int(options.get("connect_timeout", limit)), limit)
    connection = load_backend(settings_dict["ENGINE"]).DatabaseWrapper(
        settings_dict, alias
    )
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Error as error:
        return _reason(error, secret=settings_dict.get("PASSWORD") or "")
    finally:
        connection.close()
    return None


def _reason(error: Exception, secret: str) -> str:
    """Return the error's class and first line, with any secret masked."""
    message = str(error).strip().splitlines()[0] if str(error).strip() else ""
    if secret:
        message = message.replace(secret, "***")
    reason = f"{type(error).__name__}: {message}" if message else type(error).__name__
    return reason[:MAXIMUM_REASON_LENGTH]
