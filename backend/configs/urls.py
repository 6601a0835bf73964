"""
Root URLs: Django's admin at /admin/ and the API under /api/.

The root URL has no view on purpose, so ``GET /`` is 404.
"""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("api.urls")),
]
