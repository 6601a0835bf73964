"""A production deployment is secure by default: deploy checks, headers, CORS, CSRF."""

import re

import pytest

from django.test import Client

from accounts.models import User
from configs.env import ConfigurationError
from testing.settings import load_settings

HTTPS = {"HTTP_X_FORWARDED_PROTO": "https", "HTTP_HOST": "api.example.com"}
APP_ORIGIN = "https://app.example.com"


@pytest.fixture
def production(settings):
    """The suite's production settings, with the HTTPS redirect on as by default."""
    settings.ALLOWED_HOSTS = ["api.example.com"]
    settings.SECURE_SSL_REDIRECT = True
    settings.CORS_ALLOWED_ORIGINS = [APP_ORIGIN]
    settings.CSRF_TRUSTED_ORIGINS = [APP_ORIGIN]


def test_production_environment_passes_deploy_checks_at_warning_level(
    manage, prod_env, record_property
):
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=prod_env)
    assert result.returncode == 0, result.stdout + result.stderr
    # "System check identified no issues (1 silenced)." names what was silenced.
    record_property("summary", result.stdout.strip().splitlines()[-1])


def test_hsts_preload_is_an_opt_in(prod_env):
    default = load_settings(prod_env)
    assert default["SECURE_HSTS_PRELOAD"] is False
    # Off, the deploy check's warning about it (security.W021) is silenced...
    assert default["SILENCED_SYSTEM_CHECKS"] == ["security.W021"]
    prod_env["DJANGO_HSTS_PRELOAD"] = "1"
    preloaded = load_settings(prod_env)
    assert preloaded["SECURE_HSTS_PRELOAD"] is True
    # ...and on, nothing is: the check has nothing to warn of.
    assert "SILENCED_SYSTEM_CHECKS" not in preloaded


@pytest.mark.parametrize("name", ["DJANGO_SECRET_KEY", "JWT_SIGNING_KEY"])
@pytest.mark.parametrize(
    "key",
    [
        "short-but-random-Zq8",
        "django-insecure-" + "k3y" * 20,
        "a" * 60,
    ],
)
def test_weak_secret_key_is_refused_with_debug_off(prod_env, name, key):
    prod_env[name] = key
    with pytest.raises(ConfigurationError) as error:
        load_settings(prod_env)
    reported = error.value.problems
    assert reported[0].startswith(f"{name} is too weak for production")
    assert not [problem for problem in reported if key in problem]


def test_weak_secret_key_is_tolerated_with_debug_on(prod_env):
    prod_env.update(DJANGO_DEBUG="1", DJANGO_SECRET_KEY="dev-key-Zq8")
    assert load_settings(prod_env)["SECRET_KEY"] == "dev-key-Zq8"


def test_responses_behind_the_proxy_carry_the_security_headers(
    client, production, record_property
):
    response = client.get("/admin/login/", **HTTPS)
    record_property("hsts", response["Strict-Transport-Security"])
    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == (
        "max-age=31536000; includeSubDomains"
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"


def test_plain_http_is_redirected_to_https(client, production):
    response = client.get("/admin/login/", HTTP_HOST="api.example.com")
    assert response.status_code == 301
    assert response["Location"] == "https://api.example.com/admin/login/"


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_are_not_redirected(client, production, path):
    assert client.get(path, HTTP_HOST="api.example.com").status_code == 200


def test_unknown_host_is_400(client, production):
    response = client.get("/admin/login/", HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 400
    response = client.get(
        "/api/", HTTP_X_FORWARDED_PROTO="https", HTTP_HOST="evil.example.net"
    )
    assert response.status_code == 400


def preflight(client, origin):
    return client.options(
        "/api/auth/me/",
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization",
        **HTTPS,
    )


def test_preflight_from_allowlisted_origin_is_answered_with_that_origin(
    client, production
):
    response = preflight(client, APP_ORIGIN)
    assert response["Access-Control-Allow-Origin"] == APP_ORIGIN
    assert "authorization" in response["Access-Control-Allow-Headers"]


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example.com",
        "null",
        "http://app.example.com",
        "https://app.example.com.evil.com",
        "https://evilapp.example.com",
        "https://app.example.com:8443",
    ],
)
def test_preflight_from_any_other_origin_gets_no_allow_origin(
    client, production, origin
):
    response = preflight(client, origin)
    assert "Access-Control-Allow-Origin" not in response


def test_wildcard_origin_is_never_sent(client, production):
    # Through the API (the probes answer before CORS and prove nothing), a
    # plain request and a preflight, from the app and from anywhere else.
    for origin in (APP_ORIGIN, "https://evil.example.com"):
        response = client.get("/api/auth/me/", HTTP_ORIGIN=origin, **HTTPS)
        assert response.status_code == 401
        assert response.get("Access-Control-Allow-Origin") in (origin, None)
        assert response.get("Access-Control-Allow-Origin") != "*"
        response = preflight(client, origin)
        assert response.get("Access-Control-Allow-Origin") in (origin, None)
    assert (
        client.get("/api/auth/me/", HTTP_ORIGIN=APP_ORIGIN, **HTTPS)[
            "Access-Control-Allow-Origin"
        ]
        == APP_ORIGIN
    )


@pytest.fixture
def csrf_client():
    """Return a client that enforces CSRF like a browser (the default skips it)."""
    return Client(enforce_csrf_checks=True)


@pytest.fixture
def admin_user(db):
    return User.objects.create_superuser(
        "root", "root@example.com", "a-long-admin-pw-1"
    )


def login_form(client):
    page = client.get("/admin/login/", **HTTPS)
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.content)
    assert token
    return {
        "csrfmiddlewaretoken": token.group(1).decode(),
        "username": "root",
        "password": "a-long-admin-pw-1",
        "next": "/admin/",
    }


def post_login(client, origin):
    """Post the admin's login form over HTTPS as a browser on origin would."""
    return client.post(
        "/admin/login/",
        login_form(client),
        HTTP_ORIGIN=origin,
        HTTP_REFERER=f"{origin}/admin/login/",
        **HTTPS,
    )


def test_admin_login_works_over_https_behind_the_proxy(
    csrf_client, production, admin_user
):
    response = post_login(csrf_client, origin="https://api.example.com")
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert response.cookies["sessionid"]["secure"]
    assert response.cookies["sessionid"]["httponly"]
    assert response.cookies["sessionid"]["samesite"] == "Lax"


def test_admin_login_from_a_foreign_origin_is_403(csrf_client, production, admin_user):
    response = post_login(csrf_client, origin="https://evil.example.com")
    assert response.status_code == 403
