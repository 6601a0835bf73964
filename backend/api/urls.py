"""
URLs under /api/, one include per domain app.

/api/ itself has no view, so ``GET /api/`` is 404.
"""

from django.urls import URLPattern, URLResolver, include, path

urlpatterns: list[URLPattern | URLResolver] = [
    path("auth/", include("accounts.urls")),
]
