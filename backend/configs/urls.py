"""
Root URLs: Django's admin at /admin/ and the API under /api/.

The root URL has no view on purpose, so ``GET /`` is 404. /healthz and /readyz
are answered by core.middleware.ProbeMiddleware before URL resolution. The
error handlers answer in JSON under /api/ and with Django's pages elsewhere.
"""

from django.contrib import admin
from django.urls import include, path

handler400 = "core.views.bad_request"
handler403 = "core.views.permission_denied"
handler404 = "core.views.page_not_found"
handler500 = "core.views.server_error"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("api.urls")),
]
