"""App configuration for core, keel's infrastructure shared by every app."""

from django.apps import AppConfig
from django.db.backends.signals import connection_created


class CoreConfig(AppConfig):
    name = "core"

    def ready(self) -> None:
        # Registers keel's system checks (the env-sync check).
        from core import (
            checks,  # noqa: F401
            health,
            state,
        )
        from core.connections import remember_connection
        from core.sentry import init_sentry

        # The readiness check's memory of applied migrations (core.state).
        state.register("core.health", health.reset)
        # Here rather than in settings, so that reading settings (mypy's plugin,
        # a test) starts no transport; ready() still runs in every process that
        # serves or runs a command, before the first request.
        init_sentry()
        # A thread's database connection is closed when the thread ends.
        connection_created.connect(remember_connection)
