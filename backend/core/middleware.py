"""
Middleware on keel's request path: probes, request ids and the request log,
and the browser-only middleware that an API request skips.

A liveness probe is answered in front of Django itself (core.wsgi) and again
by ProbeMiddleware for the other ways in (ASGI, the test client), first in
MIDDLEWARE: probes skip host validation, the HTTPS redirect
and the request log, which would otherwise get a line every few seconds from
each probe. RequestLogMiddleware comes next so that it sees every other
response.
"""

import base64
import functools
import hashlib
import os
import re
import time
from collections.abc import Callable
from typing import Any

import structlog

from django.conf import settings
from django.contrib.auth import middleware as auth
from django.contrib.messages import middleware as messages
from django.contrib.sessions import middleware as sessions
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.deprecation import MiddlewareMixin
from django.utils.html import escape

from core.health import readiness
from core.wsgi import LIVENESS_BODY

logger = structlog.get_logger("keel.request")

# A client's X-Request-ID is kept only if it is a short, plain token.
REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


# The HTML keel serves (the admin, the API docs, the browsable API) loads its
# scripts, styles, images and fonts from keel itself, and runs no inline
# script: none of those pages needs more. Swagger UI's icons are data: URIs.
CONTENT_SECURITY_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
# No page of keel's uses any of these browser features; nor may a page that
# someone manages to frame or inject into it.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "encrypted-media",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "publickey-credentials-get",
        "screen-wake-lock",
        "usb",
        "xr-spatial-tracking",
    )
)


@functools.cache
def content_security_policy() -> str:
    """Return the Content-Security-Policy header of keel's HTML pages."""
    directives = {
        name: list(sources) for name, sources in CONTENT_SECURITY_POLICY.items()
    }
    # The browsable API inlines Pygments' CSS when Pygments is installed (a
    # development machine): that one stylesheet, by its hash, and no other.
    from rest_framework.compat import pygments_css
    from rest_framework.renderers import BrowsableAPIRenderer

    code_style = pygments_css(BrowsableAPIRenderer.code_style)
    if code_style:
        digest = hashlib.sha256(escape(code_style).encode()).digest()
        directives["style-src"].append(f"'sha256-{base64.b64encode(digest).decode()}'")
    return "; ".join(
        f"{name} {' '.join(sources)}" for name, sources in directives.items()
    )


class SecurityPolicyMiddleware:
    """
    Send Permissions-Policy on every response, and Content-Security-Policy on
    every HTML one (JSON needs none; a browser applies it to documents).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        if response.get("Content-Type", "").startswith("text/html"):
            response.headers.setdefault(
                "Content-Security-Policy", content_security_policy()
            )
        return response


class ProbeMiddleware:
    """
    Answer /healthz and /readyz directly.

    Probes come from the container runtime over plain HTTP with whatever Host
    it uses, so they skip host validation, the HTTPS redirect and the rest of
    the stack; /healthz touches nothing at all. They are not logged as
    requests; a failed readiness check is logged as a warning.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path == "/healthz":
            return HttpResponse(LIVENESS_BODY, content_type="application/json")
        if request.path == "/readyz":
            checks = readiness()
            ready = all(result == "ok" for result in checks.values())
            if not ready:
                logger.warning("not ready", checks=checks)
            return JsonResponse(
                {"status": "ok" if ready else "unavailable", "checks": checks},
                status=200 if ready else 503,
            )
        return self.get_response(request)


class RequestLogMiddleware:
    """Give each request an id, return it in X-Request-ID and log the request once."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        offered = request.META.get("HTTP_X_REQUEST_ID", "")
        # 128 random bits as 32 hex digits: a uuid4's strength without the object.
        request_id = offered if REQUEST_ID.fullmatch(offered) else os.urandom(16).hex()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request_id
            # The path only: a query string may carry a token.
            logger.info(
                "request",
                method=request.method,
                path=request.path,
                status=response.status_code,
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
            )
        finally:
            structlog.contextvars.clear_contextvars()
        return response


def is_sessionless_api_request(request: HttpRequest) -> bool:
    """Return whether request is under /api/ and carries no session cookie."""
    return (
        request.path.startswith("/api/")
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
    )


class BrowserOnlyMixin(MiddlewareMixin):
    """
    Skip this middleware for an API request without a session cookie.

    Sessions, the session's user and messages serve the admin and the
    browsable API; a client with a bearer token has no session to load, and
    DRF authenticates it itself. A request that carries a session cookie gets
    the whole stack, so signing in to the admin still opens the browsable API.
    """

    def __call__(self, request: HttpRequest) -> Any:
        if is_sessionless_api_request(request):
            return self.get_response(request)
        return super().__call__(request)


class SessionMiddleware(BrowserOnlyMixin, sessions.SessionMiddleware):
    pass


class AuthenticationMiddleware(BrowserOnlyMixin, auth.AuthenticationMiddleware):
    pass


class MessageMiddleware(BrowserOnlyMixin, messages.MessageMiddleware):
    pass
