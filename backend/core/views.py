"""
Django's error views, answering in keel's JSON error shape under /api/.

configs.urls installs them as handler400/403/404/500; outside /api/ (the admin)
they fall back to Django's own pages.
"""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt

from core.exceptions import json_error


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


# It changes nothing, so CSRF has nothing to guard; without the exemption a
# POST to an unknown path would get Django's HTML 403 for a missing CSRF cookie
# instead of this 404.
@csrf_exempt
def not_found(request: HttpRequest, path: str = "") -> JsonResponse:
    """Return keel's JSON 404; /api/ and any unknown path below it end here."""
    return json_error("Not found.", "not_found", 404)


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
