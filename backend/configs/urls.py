"""
Root URLs: Django's admin at /admin/ and the API under /api/.

The root URL has no view on purpose, so ``GET /`` is 404. /healthz and /readyz
are answered by configs.middleware.ProbeMiddleware before URL resolution. The
error handlers answer in JSON under /api/ and with Django's pages elsewhere.
"""

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from django.views import defaults

from api.apis import not_found
from api.exceptions import json_error


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return json_error("Bad request.", "bad_request", 400)
    return defaults.bad_request(request, exception)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return not_found(request)
    return defaults.page_not_found(request, exception)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return json_error("Permission denied.", "permission_denied", 403)
    return defaults.permission_denied(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return json_error("Internal server error.", "server_error", 500)
    return defaults.server_error(request)


handler400 = bad_request
handler403 = permission_denied
handler404 = page_not_found
handler500 = server_error

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("api.urls")),
]
