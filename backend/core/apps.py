"""App configuration for core, keel's infrastructure shared by every app."""

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"

    def ready(self) -> None:
        # Registers keel's system checks (the env-sync check).
        from core import (
            checks,  # noqa: F401
            health,
            state,
        )

        # The readiness check's memory of applied migrations (core.state).
        state.register("core.health", health.reset)
