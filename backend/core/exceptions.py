"""
keel's one error shape for the API.

A validation error is 400 with DRF's field errors, ``{"field": ["message"]}``
(``non_field_errors`` for the rest), whether a serializer or a service raised it
(a service raises Django's ValidationError). Every other error is
``{"detail": "message", "code": "machine_readable_code"}``: DRF's own, an
oversized body (413), an unavailable database or Redis (503) and anything unexpected
(500), so no API error is HTML.
"""

from typing import Any

import structlog
from redis.exceptions import RedisError

from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler

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


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """Return a JSON response for any exception raised in an API view."""
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, RequestDataTooBig):
        exc = RequestTooLarge()
    elif isinstance(exc, OperationalError | InterfaceError | RedisError):
        logger.warning("backing service unavailable", error=type(exc).__name__)
        exc = ServiceUnavailable()
    response = drf_exception_handler(exc, context)
    if response is None:
        logger.exception("unhandled exception in API view", exc_info=exc)
        response = Response(
            {"detail": "Internal server error.", "code": "server_error"},
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    elif not isinstance(exc, exceptions.ValidationError) and (
        isinstance(response.data, dict) and "detail" in response.data
    ):
        # Simple JWT's errors add their own "code" and a list of "messages".
        detail = response.data["detail"]
        code = response.data.get("code") or getattr(detail, "code", None)
        response.data = {"detail": str(detail), "code": str(code or "error")}
    if response.status_code == status.HTTP_503_SERVICE_UNAVAILABLE:
        response["Retry-After"] = "5"
    return response
