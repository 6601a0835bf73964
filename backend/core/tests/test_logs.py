"""Request logs: one JSON line per request, request ids, and no credentials."""

import io
import json
import logging

import pytest
import structlog

from django.test import Client


@pytest.fixture
def log_lines():
    """Return a function giving the JSON lines logged so far, as dicts."""
    root = logging.getLogger()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(root.handlers[0].formatter)
    root.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)


def request_lines(lines):
    return [line for line in lines if line["event"] == "request"]


def test_each_request_is_logged_once_as_json(client, log_lines):
    response = client.get("/healthz")
    [line] = request_lines(log_lines())
    assert line["method"] == "GET"
    assert line["path"] == "/healthz"
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float)
    assert line["request_id"] == response["X-Request-ID"]
    assert line["level"] == "info"


def test_a_sane_client_request_id_is_kept(client, log_lines):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="req-42.a:b_c")
    assert response["X-Request-ID"] == "req-42.a:b_c"
    assert request_lines(log_lines())[0]["request_id"] == "req-42.a:b_c"


@pytest.mark.parametrize(
    "offered", ["x" * 129, "has space", "semi;colon", "new\nline", "ünïcode", ""]
)
def test_an_unsafe_client_request_id_is_replaced(client, offered):
    response = client.get("/healthz", HTTP_X_REQUEST_ID=offered)
    assert response["X-Request-ID"] != offered
    assert len(response["X-Request-ID"]) == 32


def test_every_line_of_a_request_carries_its_request_id(client, log_lines, settings):
    settings.ALLOWED_HOSTS = ["api.example.com"]
    client.get("/api/x/", HTTP_HOST="evil.example.net", HTTP_X_REQUEST_ID="trace-1")
    lines = log_lines()
    assert len(lines) >= 2  # Django's DisallowedHost warning, then the request.
    assert {line["request_id"] for line in lines} == {"trace-1"}


@pytest.mark.urls("core.tests.urls")
def test_errors_are_logged_with_their_exception(log_lines):
    client = Client(raise_request_exception=False)
    response = client.get("/api/test/broken/", HTTP_X_REQUEST_ID="trace-2")
    assert response.status_code == 500
    [error] = [line for line in log_lines() if "exception" in line]
    assert error["level"] == "error"
    assert "RuntimeError: boom" in error["exception"]
    assert error["request_id"] == "trace-2"


@pytest.mark.django_db
def test_credentials_never_appear_in_logs(client, log_lines):
    password = "correct-horse-battery-staple-9"
    token = "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXRva2Vu.c2lnbmF0dXJl"
    client.post(
        "/api/auth/token/?token=" + token,
        {"username": "alice", "password": password},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
        HTTP_COOKIE=f"sessionid={token}",
    )
    client.get("/api/x/", HTTP_AUTHORIZATION=f"Basic {token}")
    structlog.get_logger("keel.test").warning(
        "login failed", password=password, Authorization=token, refresh=token
    )
    output = json.dumps(log_lines())
    assert password not in output
    assert token not in output
    assert "[masked]" in output


def test_debug_logs_are_readable_text_not_json(client, prod_env):
    import logging.config

    from testing.settings import load_settings

    prod_env["DJANGO_DEBUG"] = "1"
    logging_settings = load_settings(prod_env)["LOGGING"]
    # The formatter settings configure with debug on, on a handler of our own.
    configurator = logging.config.DictConfigurator(logging_settings)
    formatter = configurator.configure_formatter(
        logging_settings["formatters"]["structlog"]
    )
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        assert client.get("/healthz").status_code == 200
    finally:
        root.removeHandler(handler)
    [line] = [line for line in stream.getvalue().splitlines() if "/healthz" in line]
    assert "request" in line
    assert "path=/healthz" in line
    assert "status=200" in line
    assert not line.startswith("{")
