"""App configuration for the api app."""

from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"

    def ready(self) -> None:
        # The project-wide checks live with the project wiring; this is the
        # project's own app, so it registers them.
        from configs import checks  # noqa: F401
