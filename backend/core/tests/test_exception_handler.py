"""One error shape: field errors for validation, detail and code for the rest."""

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions
from rest_framework_simplejwt.exceptions import InvalidToken

from core.exceptions import exception_handler


def handle(exc):
    response = exception_handler(exc, {})
    assert response is not None
    return response.status_code, response.data


def test_a_services_field_errors_become_a_400_with_drfs_field_errors():
    error = DjangoValidationError({"email": ["Bad."], "username": ["Taken."]})
    assert handle(error) == (400, {"email": ["Bad."], "username": ["Taken."]})


def test_a_services_error_without_a_field_becomes_non_field_errors():
    assert handle(DjangoValidationError("Nope.")) == (
        400,
        {"non_field_errors": ["Nope."]},
    )


def test_other_errors_are_detail_and_code():
    assert handle(exceptions.NotAuthenticated()) == (
        401,
        {
            "detail": "Authentication credentials were not provided.",
            "code": "not_authenticated",
        },
    )
    assert handle(Http404()) == (404, {"detail": "Not found.", "code": "not_found"})
    status, body = handle(PermissionDenied())
    assert (status, body["code"]) == (403, "permission_denied")
    assert handle(exceptions.Throttled(wait=3))[1]["code"] == "throttled"


def test_simple_jwt_errors_lose_their_extra_keys():
    error = InvalidToken({"detail": "Bad token", "messages": [{"token_class": "X"}]})
    assert handle(error) == (401, {"detail": "Bad token", "code": "token_not_valid"})


def test_unexpected_errors_become_a_json_500_that_tells_nothing():
    assert handle(ValueError("boom: a secret")) == (
        500,
        {"detail": "Internal server error.", "code": "server_error"},
    )
