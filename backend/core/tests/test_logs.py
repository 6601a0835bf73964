"""Request logs: one JSON line per request, request ids, and no credentials."""

import json
import logging

import pytest
import structlog

from django.test import Client

from core.logs import configure_logging


@pytest.fixture
def log_lines(capsys):
    """Return a function giving the JSON lines logged so far, as dicts."""
    capsys.readouterr()
    lines: list[dict[str, object]] = []

    def logged():
        lines.extend(json.loads(line) for line in capsys.readouterr().out.splitlines())
        return lines

    return logged


def request_lines(lines):
    return [line for line in lines if line["event"] == "request"]


def test_each_request_is_logged_once_as_json(client, log_lines):
    response = client.get("/api/x/")
    [line] = request_lines(log_lines())
    assert line["method"] == "GET"
    assert line["path"] == "/api/x/"
    assert line["status"] == 404
    assert isinstance(line["duration_ms"], float)
    assert line["request_id"] == response["X-Request-ID"]
    assert line["level"] == "info"


def test_a_sane_client_request_id_is_kept(client, log_lines):
    response = client.get("/api/x/", HTTP_X_REQUEST_ID="req-42.a:b_c")
    assert response["X-Request-ID"] == "req-42.a:b_c"
    assert request_lines(log_lines())[0]["request_id"] == "req-42.a:b_c"


@pytest.mark.parametrize(
    "offered", ["x" * 129, "has space", "semi;colon", "new\nline", "ünïcode", ""]
)
def test_an_unsafe_client_request_id_is_replaced(client, offered):
    response = client.get("/api/x/", HTTP_X_REQUEST_ID=offered)
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


def test_debug_logs_are_readable_text_not_json(prod_env, capsys):
    from testing.settings import load_settings

    prod_env["DJANGO_DEBUG"] = "1"
    saved = structlog.get_config()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        # Logging as settings configure it with debug on, both routes: keel's
        # own loggers (the request line) and the standard library's (Django's).
        configure_logging(load_settings(prod_env)["LOGGING"])
        capsys.readouterr()
        structlog.get_logger("keel.debug-test").info(
            "request", path="/api/x/", status=404
        )
        logging.getLogger("django.debug-test").warning("from Django")
        out = capsys.readouterr().out
    finally:
        structlog.configure(**saved)
        root.handlers[:] = handlers
        root.setLevel(level)
    [line] = [line for line in out.splitlines() if "path=/api/x/" in line]
    assert "request" in line
    assert "status=404" in line
    assert not line.startswith("{")
    [line] = [line for line in out.splitlines() if "from Django" in line]
    assert not line.startswith("{")
