"""
keel's one error shape for the API.

A validation error is 400 with DRF's field errors, ``{"field": ["message"]}``
(``non_field_errors`` for the rest), whether a serializer or a service raised it
(a service raises Django's ValidationError). Every other error is
``{"detail": "message", "code": "machine_readable_code"}``.
"""

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    response = drf_exception_handler(exc, context)
    if response is None or isinstance(exc, exceptions.ValidationError):
        return response
    if isinstance(response.data, dict) and "detail" in response.data:
        # Simple JWT's errors add their own "code" and a list of "messages".
        detail = response.data["detail"]
        code = response.data.get("code") or getattr(detail, "code", None)
        response.data = {"detail": str(detail), "code": str(code or "error")}
    return response
