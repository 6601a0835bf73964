"""The request path's shortcuts: probes ahead of Django and the API's lean stack."""

import io
import json

import pytest

from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from core import middleware
from core.wsgi import LivenessProbe


def environ(path):
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "SERVER_NAME": "keel",
        "SERVER_PORT": "80",
        "wsgi.input": io.BytesIO(),
    }


def test_liveness_probe_answers_healthz_without_calling_django():
    def django(environ, start_response):
        raise AssertionError("Django was called for /healthz")

    started = []
    body = LivenessProbe(django)(environ("/healthz"), lambda *a: started.append(a))
    [(status, headers)] = started
    assert status == "200 OK"
    assert json.loads(b"".join(body)) == {"status": "ok"}
    assert ("Content-Type", "application/json") in headers


@pytest.mark.parametrize("path", ["/healthz/", "/readyz", "/api/healthz", "/"])
def test_liveness_probe_passes_every_other_path_to_django(path):
    passed = []

    def django(environ, start_response):
        passed.append(environ["PATH_INFO"])
        return [b"django"]

    assert LivenessProbe(django)(environ(path), lambda *a: None) == [b"django"]
    assert passed == [path]


def test_production_wsgi_application_answers_healthz_ahead_of_django():
    from configs.wsgi import application

    started = []
    body = application(environ("/healthz"), lambda *a: started.append(a))
    assert started[0][0] == "200 OK"
    assert json.loads(b"".join(body)) == {"status": "ok"}


def session_seen(path, **headers):
    """Return whether SessionMiddleware gave a request for path its session."""
    seen = []

    def view(request: HttpRequest) -> HttpResponse:
        seen.append(hasattr(request, "session"))
        return HttpResponse()

    middleware.SessionMiddleware(view)(RequestFactory().get(path, **headers))
    return seen == [True]


def test_api_request_without_a_session_cookie_skips_sessions():
    assert not session_seen("/api/auth/me/")


def test_api_request_with_a_session_cookie_gets_its_session():
    assert session_seen("/api/auth/me/", HTTP_COOKIE="sessionid=abc")


@pytest.mark.parametrize("path", ["/admin/", "/admin/login/", "/apix/"])
def test_requests_outside_the_api_always_get_sessions(path):
    assert session_seen(path)


@pytest.mark.django_db
def test_admin_signed_in_by_session_still_reads_the_api(admin_client, admin_user):
    response = admin_client.get("/api/auth/me/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert response.json()["username"] == admin_user.username
    assert admin_client.get("/admin/").status_code == 200


def test_probes_are_not_logged_as_requests(client, capsys):
    client.get("/healthz")
    assert '"request"' not in capsys.readouterr().out


@pytest.mark.django_db
def test_a_failed_readiness_check_is_logged_as_a_warning(client, capsys, monkeypatch):
    monkeypatch.setattr(
        middleware, "readiness", lambda: {"database": "database unavailable (X)"}
    )
    assert client.get("/readyz").status_code == 503
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    [line] = [line for line in lines if line["event"] == "not ready"]
    assert line["level"] == "warning"
    assert line["checks"] == {"database": "database unavailable (X)"}
