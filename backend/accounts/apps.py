"""App configuration for the accounts app."""

from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class AccountsConfig(AppConfig):
    # The accounts app's own config; KeelAdminConfig below is the admin's.
    default = True
    name = "accounts"

    def ready(self) -> None:
        # Registers the OpenAPI description of keel's JWT authentication and
        # the receivers that keep the authentication cache true.
        from accounts import schema, signals  # noqa: F401
        from accounts.authentication import verified_access_token
        from accounts.counts import forget_over_limit
        from accounts.password_checks import reset as reset_password_checks
        from core import state

        state.register("accounts.authentication", verified_access_token.cache_clear)
        state.register("accounts.password_checks", reset_password_checks)
        state.register("accounts.counts", forget_over_limit)


class KeelAdminConfig(admin_apps.AdminConfig):
    """Django's admin, with keel's site (accounts.admin_site) as admin.site."""

    default = False  # named in INSTALLED_APPS, never picked for "accounts"
    default_site = "accounts.admin_site.KeelAdminSite"
