"""Every error under /api/ is JSON in one shape, and bad input never reaches a 500."""

from typing import Any

import pytest

from django.core.cache import cache
from django.test import Client

pytestmark = pytest.mark.urls("core.tests.urls")

ECHO = "/api/test/echo/"


@pytest.fixture(autouse=True)
def _clear_throttles():
    cache.clear()


def assert_json_error(response, status):
    """Assert keel's one error shape: detail and code, nothing else."""
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    assert set(response.json()) == {"detail", "code"}


@pytest.mark.parametrize("debug", [False, True])
def test_unknown_api_path_is_json_404_even_with_debug(client, settings, debug):
    settings.DEBUG = debug
    assert_json_error(client.get("/api/no/such/thing/"), 404)
    assert_json_error(client.get("/api/"), 404)


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_unknown_api_path_is_json_404_for_a_write_without_a_csrf_token(method):
    # Django's CSRF check runs before a plain view and answers with an HTML 403.
    client = Client(enforce_csrf_checks=True)
    assert_json_error(getattr(client, method)("/api/no/such/thing/"), 404)


def test_malformed_json_is_400(client):
    response = client.post(ECHO, "{not json", content_type="application/json")
    assert_json_error(response, 400)


def test_field_errors_name_the_field(client):
    response = client.post(ECHO, {"name": "x" * 51}, content_type="application/json")
    assert response.status_code == 400
    assert list(response.json()) == ["name"]


def test_wrong_content_type_is_415(client):
    response = client.post(ECHO, "name=a", content_type="text/plain")
    assert_json_error(response, 415)


@pytest.mark.parametrize(
    "content_type", ["application/x-www-form-urlencoded", "multipart/form-data"]
)
def test_form_body_is_415_bodies_are_json_only(client, content_type):
    # An empty form field would read as "absent", and a form posts cross-site
    # without a CORS preflight: the API takes JSON only.
    response = client.post(ECHO, "name=a", content_type=content_type)
    assert_json_error(response, 415)


@pytest.mark.parametrize("name", [5, 1.5, True, ["a"], {"a": "b"}])
def test_a_non_string_where_a_string_is_expected_is_400(client, name):
    response = client.post(ECHO, {"name": name}, content_type="application/json")
    assert response.status_code == 400
    assert list(response.json()) == ["name"]


def test_max_length_counts_the_whitespace_that_is_trimmed(client):
    # The schema's maxLength is of the value sent, so the limit is checked first.
    response = client.post(
        ECHO, {"name": " " + "x" * 50}, content_type="application/json"
    )
    assert response.status_code == 400
    assert list(response.json()) == ["name"]
    response = client.post(
        ECHO, {"name": " " + "x" * 49}, content_type="application/json"
    )
    assert response.json() == {"name": "x" * 49}


def test_body_over_the_limit_is_413(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    body = '{"name": "' + "x" * 2048 + '"}'
    response = client.post(ECHO, body, content_type="application/json")
    assert_json_error(response, 413)


def test_nul_byte_is_400_not_500(client):
    response = client.post(ECHO, {"name": "a\x00b"}, content_type="application/json")
    assert response.status_code == 400
    assert "name" in response.json()


# Deep enough to pass the interpreter's recursion limit from inside a view
# (about 950 levels), and far beyond it.
NESTING_DEPTHS = [*range(900, 1101, 10), 10_000, 100_000]


def nested(depth: int, kind: str) -> str:
    """Return a JSON body of depth nested arrays or objects."""
    if kind == "array":
        return "[" * depth + "]" * depth
    return '{"name":' * depth + '"x"' + "}" * depth


# db: the login's throttles count in PostgreSQL before its body is parsed.
def test_json_nested_past_the_recursion_limit_is_400_not_500(
    client, db, record_property
):
    statuses: dict[int, int] = {}
    for path in (ECHO, "/api/auth/token/"):
        for kind in ("array", "object"):
            for depth in NESTING_DEPTHS:
                body = nested(depth, kind)
                response = client.post(path, body, content_type="application/json")
                statuses[response.status_code] = (
                    statuses.get(response.status_code, 0) + 1
                )
                # A body shallow enough to parse is the wrong shape (field
                # errors); a deeper one is malformed (detail and code).
                assert response.status_code == 400
                assert response["Content-Type"] == "application/json"
    assert statuses == {400: 4 * len(NESTING_DEPTHS)}
    too_deep = client.post(
        ECHO, nested(100_000, "array"), content_type="application/json"
    )
    assert_json_error(too_deep, 400)
    assert too_deep.json()["code"] == "parse_error"
    record_property("bodies", sum(statuses.values()))
    record_property("deepest", max(NESTING_DEPTHS))


@pytest.mark.django_db(transaction=True)
def test_a_statement_past_the_timeout_is_cancelled_with_a_json_503(
    client, statement_timeout, record_property
):
    statement_timeout(200)
    response = client.get("/api/test/slow-query/")
    assert_json_error(response, 503)
    assert response.json()["code"] == "database_timeout"
    assert response["Retry-After"] == "5"
    # The connection stays usable for the next request.
    assert client.get("/readyz").status_code == 200
    record_property("timeout_ms", 200)


def test_unknown_method_is_json_405(client):
    response = client.generic("BREW", ECHO)
    assert_json_error(response, 405)


def test_throttled_request_is_json_429(client):
    client.get("/api/test/throttled/")
    response = client.get("/api/test/throttled/")
    assert_json_error(response, 429)
    assert "Retry-After" in response


def test_unexpected_error_is_json_500_without_traceback(client):
    client.raise_request_exception = False
    response = client.get("/api/test/broken/")
    assert_json_error(response, 500)
    assert response.json() == {
        "detail": "Internal server error.",
        "code": "server_error",
    }
    assert b"Traceback" not in response.content
    assert b"DJANGO_SECRET_KEY" not in response.content


def test_database_down_is_json_503_with_retry_after(client):
    response = client.get("/api/test/database-down/")
    assert_json_error(response, 503)
    assert response["Retry-After"] == "5"


# What each raiser in core.tests.urls answers: status and exact body.
EXPECTED: dict[str, tuple[int, dict[str, Any]]] = {
    "drf-validation-str": (400, {"non_field_errors": ["Nope."]}),
    "drf-validation-list": (400, {"non_field_errors": ["One.", "Two."]}),
    "drf-validation-dict": (400, {"name": ["Taken."]}),
    "django-validation-message": (400, {"non_field_errors": ["Nope."]}),
    "django-validation-list": (400, {"non_field_errors": ["One.", "Two."]}),
    "django-validation-dict": (400, {"name": ["Taken."]}),
    "api-exception-str": (500, {"detail": "Broken.", "code": "error"}),
    "api-exception-list": (500, {"detail": "One. Two.", "code": "error"}),
    "api-exception-dict": (500, {"detail": "Broken.", "code": "error"}),
    "http404": (404, {"detail": "Not found.", "code": "not_found"}),
    "permission-denied": (
        403,
        {
            "detail": "You do not have permission to perform this action.",
            "code": "permission_denied",
        },
    ),
    "not-authenticated": (
        401,
        {
            "detail": "Authentication credentials were not provided.",
            "code": "not_authenticated",
        },
    ),
    "throttled": (
        429,
        {
            "detail": "Request was throttled. Expected available in 7 seconds.",
            "code": "throttled",
        },
    ),
    "parse-error": (400, {"detail": "Malformed request.", "code": "parse_error"}),
    "database-operational": (
        503,
        {
            "detail": "Service temporarily unavailable, try again shortly.",
            "code": "service_unavailable",
        },
    ),
    "database-interface": (
        503,
        {
            "detail": "Service temporarily unavailable, try again shortly.",
            "code": "service_unavailable",
        },
    ),
    "redis": (
        503,
        {
            "detail": "Service temporarily unavailable, try again shortly.",
            "code": "service_unavailable",
        },
    ),
    "unexpected": (500, {"detail": "Internal server error.", "code": "server_error"}),
}


def test_every_raiser_is_expected():
    from core.tests.urls import RAISERS

    assert set(EXPECTED) == set(RAISERS)


def is_field_errors(body):
    """Return whether body is DRF's field errors: every value a list of strings."""
    return all(
        isinstance(messages, list) and all(isinstance(m, str) for m in messages)
        for messages in body.values()
    )


@pytest.mark.parametrize("name", EXPECTED)
def test_each_raiser_gets_the_one_error_shape(client, name):
    client.raise_request_exception = False
    status, body = EXPECTED[name]
    response = client.get(f"/api/test/raise/{name}/")
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert response.json() == body
    if status == 400 and "detail" not in body:
        assert is_field_errors(response.json())
    else:
        assert set(response.json()) == {"detail", "code"}
        assert all(isinstance(value, str) for value in response.json().values())
    if status in (429, 503):
        assert int(response["Retry-After"]) > 0


def test_disallowed_host_under_api_is_json_400(client):
    response = client.get("/api/anything/", HTTP_HOST="evil.example.net")
    assert_json_error(response, 400)


@pytest.mark.urls("configs.urls")
def test_docs_page_error_is_json_500(settings, tmp_path):
    """Without collected static files the docs page fails; it must fail in JSON."""
    from django.test import Client

    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {
            "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        },
    }
    client = Client(raise_request_exception=False)
    assert_json_error(client.get("/api/docs/"), 500)
