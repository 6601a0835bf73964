"""
keel's one error shape for the API.

Every error body under /api/ is one of two shapes, whatever raised it:

- Validation errors (400): DRF's field errors, an object whose keys are field
  names and whose values are lists of messages (an object, for a nested
  serializer), with errors of no one field under ``non_field_errors``:
  ``{"email": ["Enter a valid email address."]}``,
  ``{"non_field_errors": ["Nope."]}``. DRF's ValidationError and Django's
  (raised by services and models) give this shape alike, whether built from a
  message, a list or a dict.
- Everything else: ``{"detail": "message", "code": "machine_readable_code"}``,
  two strings. DRF's own errors (401, 403, 404, 405, 415, 429, a malformed
  body's 400), Simple JWT's, an oversized body (413), an APIException built
  with a list or a dict (its messages are joined into one detail), PostgreSQL
  or Redis unavailable, a query past DB_STATEMENT_TIMEOUT or the password
  checks busy (503, with Retry-After),
  and anything unexpected (500, which tells nothing).

A client tells them apart by the values: field errors are lists (or objects),
``detail`` and ``code`` are strings. No API error is HTML.
"""

from collections.abc import Iterator
from typing import Any

import structlog
from psycopg.errors import QueryCanceled
from redis.exceptions import RedisError

from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.http import JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler

from core import metrics

logger = structlog.get_logger("keel.api")


def json_error(detail: str, code: str, status: int) -> JsonResponse:
    """Return keel's error shape outside DRF (Django's own 400/403/404/500)."""
    return JsonResponse({"detail": detail, "code": code}, status=status)


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "Request body is too large."
    default_code = "request_too_large"


class ServiceUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "Service temporarily unavailable, try again shortly."
    default_code = "service_unavailable"


class DatabaseTimeout(ServiceUnavailable):
    default_detail = "The database took too long to answer, try again shortly."
    default_code = "database_timeout"


def _messages(detail: Any) -> Iterator[Any]:
    """Yield every message in detail (a message, or lists and dicts of them)."""
    if isinstance(detail, dict):
        for value in detail.values():
            yield from _messages(value)
    elif isinstance(detail, list | tuple):
        for value in detail:
            yield from _messages(value)
    else:
        yield detail


def detail_and_code(data: Any) -> dict[str, str]:
    """Return an error's data as ``{"detail", "code"}``, both strings."""
    if isinstance(data, dict) and "detail" in data:
        # DRF's own {"detail": ...}, or Simple JWT's, which adds "code" and a
        # list of "messages".
        detail = data["detail"]
        code = data.get("code") or getattr(detail, "code", None)
        return {"detail": str(detail), "code": str(code or "error")}
    messages = list(_messages(data))
    code = getattr(messages[0], "code", None) if messages else None
    return {
        "detail": " ".join(str(message) for message in messages) or "Error.",
        "code": str(code or "error"),
    }


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """Return a response in keel's error shape for any exception in an API view."""
    if isinstance(exc, DjangoValidationError | exceptions.ValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, RequestDataTooBig):
        exc = RequestTooLarge()
    elif isinstance(exc, OperationalError) and isinstance(exc.__cause__, QueryCanceled):
        # DB_STATEMENT_TIMEOUT ran out: PostgreSQL cancelled the statement.
        logger.warning("database statement cancelled", error="QueryCanceled")
        metrics.count_backing_service_error(exc)
        exc = DatabaseTimeout()
    elif isinstance(exc, OperationalError | InterfaceError | RedisError):
        logger.warning("backing service unavailable", error=type(exc).__name__)
        metrics.count_backing_service_error(exc)
        exc = ServiceUnavailable()
    response = drf_exception_handler(exc, context)
    if response is None:
        # What Django sends for a view's unhandled exception, so that an error
        # tracker listening for it (Sentry's Django integration) reports this
        # one too, with its request, though DRF turned it into a response.
        request = context.get("request")
        got_request_exception.send(
            sender=None, request=getattr(request, "_request", request)
        )
        logger.exception("unhandled exception in API view", exc_info=exc)
        response = Response(
            {"detail": "Internal server error.", "code": "server_error"},
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    elif not isinstance(exc, exceptions.ValidationError):
        response.data = detail_and_code(response.data)
    if response.status_code == status.HTTP_503_SERVICE_UNAVAILABLE:
        # DRF sent an exception's own wait (PasswordChecksBusy's), if it had one.
        response.setdefault("Retry-After", "5")
    return response
