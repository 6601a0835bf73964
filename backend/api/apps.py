"""App configuration for api, the URL hub for everything under /api/."""

from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
