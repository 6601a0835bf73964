"""
Mail settings at start-up: read in-process from the environment (testing.settings),
and one refusal through ``manage.py`` in a subprocess, as a user meets it.
"""

import pytest

from configs.env import ConfigurationError
from testing.settings import load_settings

MAIL_SETTINGS = (
    "EMAIL_BACKEND",
    "EMAIL_HOST",
    "EMAIL_PORT",
    "EMAIL_USE_TLS",
    "EMAIL_TIMEOUT",
    "DEFAULT_FROM_EMAIL",
)


def mail_settings(env):
    loaded = load_settings(env)
    return {name: loaded[name] for name in MAIL_SETTINGS}


def problems(env):
    with pytest.raises(ConfigurationError) as error:
        load_settings(env)
    return error.value.problems


def test_debug_off_without_an_smtp_server_or_console_refuses_start(manage, prod_env):
    for name in ("KEEL_EMAIL", "KEEL_FRONTEND_URL"):
        del prod_env[name]
    result = manage("check", env=prod_env)
    assert result.returncode == 1
    # Both problems at once, each named, with the way out.
    assert "EMAIL_HOST is not set" in result.stderr
    assert "KEEL_EMAIL=console" in result.stderr
    assert "KEEL_FRONTEND_URL must be set" in result.stderr
    assert "Traceback" not in result.stderr


def test_smtp_settings_come_from_the_environment_and_never_show_the_password(
    prod_env,
):
    password = "s3cret-smtp-passw0rd"
    prod_env.update(
        KEEL_EMAIL="",
        EMAIL_HOST="smtp.example.com",
        EMAIL_HOST_USER="keel",
        EMAIL_HOST_PASSWORD=password,
        EMAIL_USE_TLS="1",
        DEFAULT_FROM_EMAIL="Keel <noreply@example.com>",
    )
    assert mail_settings(prod_env) == {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "smtp.example.com",
        "EMAIL_PORT": 587,
        "EMAIL_USE_TLS": True,
        "EMAIL_TIMEOUT": 10,
        "DEFAULT_FROM_EMAIL": "Keel <noreply@example.com>",
    }
    # A bad setting beside it: the error names variables, never the password.
    prod_env.update(EMAIL_USE_SSL="1", DEFAULT_FROM_EMAIL="not an address")
    reported = "\n".join(problems(prod_env))
    assert "EMAIL_USE_TLS and EMAIL_USE_SSL are both on" in reported
    assert "DEFAULT_FROM_EMAIL is 'not an address'" in reported
    assert password not in reported


def test_debug_on_without_an_smtp_server_writes_mail_to_the_console(prod_env):
    del prod_env["KEEL_EMAIL"]
    del prod_env["KEEL_FRONTEND_URL"]
    prod_env["DJANGO_DEBUG"] = "1"
    shown = mail_settings(prod_env)
    assert shown["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"
