"""Mail settings at start-up, each case through ``manage.py`` in a subprocess."""

SHOW_MAIL = (
    "from django.conf import settings; import json; print(json.dumps({name: "
    "getattr(settings, name) for name in ('EMAIL_BACKEND', 'EMAIL_HOST', "
    "'EMAIL_PORT', 'EMAIL_USE_TLS', 'EMAIL_TIMEOUT', 'DEFAULT_FROM_EMAIL')}))"
)


def show_mail(manage, env):
    import json

    result = manage("shell", "--no-imports", "-c", SHOW_MAIL, env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


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
    manage, prod_env
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
    assert show_mail(manage, prod_env) == {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "smtp.example.com",
        "EMAIL_PORT": 587,
        "EMAIL_USE_TLS": True,
        "EMAIL_TIMEOUT": 10,
        "DEFAULT_FROM_EMAIL": "Keel <noreply@example.com>",
    }
    # A bad setting beside it: the error names variables, never the password.
    prod_env.update(EMAIL_USE_SSL="1", DEFAULT_FROM_EMAIL="not an address")
    result = manage("check", env=prod_env)
    assert result.returncode == 1
    assert "EMAIL_USE_TLS and EMAIL_USE_SSL are both on" in result.stderr
    assert "DEFAULT_FROM_EMAIL is 'not an address'" in result.stderr
    assert password not in result.stderr + result.stdout


def test_debug_on_without_an_smtp_server_writes_mail_to_the_console(manage, prod_env):
    del prod_env["KEEL_EMAIL"]
    del prod_env["KEEL_FRONTEND_URL"]
    prod_env["DJANGO_DEBUG"] = "1"
    shown = show_mail(manage, prod_env)
    assert shown["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"
