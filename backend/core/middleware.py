"""
Middleware that wraps every request: request ids, the request log and probes.

Both classes sit first in MIDDLEWARE so that they see every response and so
that probes are answered before host validation and the HTTPS redirect.
"""

import re
import time
import uuid
from collections.abc import Callable

import structlog

from django.http import HttpRequest, HttpResponse, JsonResponse

from core.health import readiness

logger = structlog.get_logger("keel.request")

# A client's X-Request-ID is kept only if it is a short, plain token.
REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


class RequestLogMiddleware:
    """Give each request an id, return it in X-Request-ID and log the request once."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        offered = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = offered if REQUEST_ID.fullmatch(offered) else uuid.uuid4().hex
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
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
        structlog.contextvars.clear_contextvars()
        return response


class ProbeMiddleware:
    """
    Answer /healthz and /readyz directly.

    Probes come from the container runtime over plain HTTP with whatever Host
    it uses, so they skip host validation, the HTTPS redirect and the rest of
    the stack; /healthz touches nothing at all.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path == "/healthz":
            return JsonResponse({"status": "ok"})
        if request.path == "/readyz":
            checks = readiness()
            ready = all(result == "ok" for result in checks.values())
            return JsonResponse(
                {"status": "ok" if ready else "unavailable", "checks": checks},
                status=200 if ready else 503,
            )
        return self.get_response(request)
