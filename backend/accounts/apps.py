"""App configuration for the accounts app."""

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self) -> None:
        # Registers the OpenAPI description of keel's JWT authentication and
        # the receivers that keep the authentication cache true.
        from accounts import schema, signals  # noqa: F401
