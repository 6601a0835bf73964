"""Start-up behaviour of settings, each case through ``manage.py`` in a subprocess."""

import json

import pytest

SHOW_SECURITY = (
    "from django.conf import settings; import json; print(json.dumps({name: "
    "getattr(settings, name, None) for name in ('SECURE_PROXY_SSL_HEADER', "
    "'SECURE_SSL_REDIRECT', 'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', "
    "'SESSION_COOKIE_SAMESITE', 'CSRF_COOKIE_SAMESITE', 'DEBUG')}))"
)


def show(manage, env, expression):
    result = manage("shell", "--no-imports", "-c", f"print({expression})", env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_complete_production_environment_passes_check(manage, prod_env):
    result = manage("check", env=prod_env)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("name", ["DJANGO_SECRET_KEY", "JWT_SIGNING_KEY"])
@pytest.mark.parametrize("value", [None, "", "   "])
def test_missing_secret_key_exits_with_one_short_message(manage, prod_env, name, value):
    if value is None:
        del prod_env[name]
    else:
        prod_env[name] = value
    result = manage("check", env=prod_env)
    assert result.returncode == 1
    assert f"{name} is not set" in result.stderr
    assert "secrets.token_urlsafe" in result.stderr
    assert "Traceback" not in result.stderr


def test_jwt_signing_key_equal_to_secret_key_refuses_start(manage, prod_env):
    prod_env["JWT_SIGNING_KEY"] = prod_env["DJANGO_SECRET_KEY"]
    result = manage("check", env=prod_env)
    assert result.returncode == 1
    assert "JWT_SIGNING_KEY must differ from DJANGO_SECRET_KEY" in result.stderr
    assert prod_env["DJANGO_SECRET_KEY"] not in result.stderr


def test_jwt_signing_key_shorter_than_32_bytes_refuses_start(manage, prod_env):
    prod_env["JWT_SIGNING_KEY"] = "x" * 31
    result = manage("check", env=prod_env)
    assert result.returncode == 1
    assert "JWT_SIGNING_KEY is too short" in result.stderr


SHOW_AUTH = (
    "from django.conf import settings; import json; jwt = settings.SIMPLE_JWT; "
    "print(json.dumps({"
    "'access': jwt['ACCESS_TOKEN_LIFETIME'].total_seconds(), "
    "'refresh': jwt['REFRESH_TOKEN_LIFETIME'].total_seconds(), "
    "'rotate': jwt['ROTATE_REFRESH_TOKENS'], "
    "'blacklist': jwt['BLACKLIST_AFTER_ROTATION'], "
    "'leeway': jwt['LEEWAY'], "
    "'algorithm': jwt['ALGORITHM'], "
    "'signing_key_is_jwt_signing_key': "
    "jwt['SIGNING_KEY'] == __import__('os').environ['JWT_SIGNING_KEY'], "
    "'registration': settings.KEEL['ALLOW_REGISTRATION'], "
    "'num_proxies': settings.REST_FRAMEWORK['NUM_PROXIES'], "
    "'rates': settings.REST_FRAMEWORK['DEFAULT_THROTTLE_RATES']}))"
)


def show_auth(manage, env):
    result = manage("shell", "--no-imports", "-c", SHOW_AUTH, env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_token_lifetimes_and_throttles_have_safe_defaults(manage, prod_env):
    assert show_auth(manage, prod_env) == {
        "access": 300,
        "refresh": 86400,
        "rotate": True,
        "blacklist": True,
        "leeway": 0,
        "algorithm": "HS256",
        "signing_key_is_jwt_signing_key": True,
        "registration": False,
        "num_proxies": 0,
        "rates": {
            "login_ip": "10/min",
            "login_username": "5/min",
            "register": "10/hour",
        },
    }


def test_token_lifetimes_and_throttles_come_from_the_environment(manage, prod_env):
    prod_env.update(
        JWT_ACCESS_TOKEN_LIFETIME="60",
        JWT_REFRESH_TOKEN_LIFETIME="3600",
        JWT_LEEWAY="30",
        KEEL_ALLOW_REGISTRATION="1",
        DJANGO_NUM_PROXIES="2",
        KEEL_LOGIN_IP_THROTTLE_RATE="20/hour",
        KEEL_LOGIN_USERNAME_THROTTLE_RATE="3/min",
        KEEL_REGISTER_THROTTLE_RATE="2/day",
    )
    shown = show_auth(manage, prod_env)
    assert (shown["access"], shown["refresh"], shown["leeway"]) == (60, 3600, 30)
    assert (shown["registration"], shown["num_proxies"]) == (True, 2)
    assert shown["rates"] == {
        "login_ip": "20/hour",
        "login_username": "3/min",
        "register": "2/day",
    }


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (
            "JWT_LEEWAY",
            "31",
            "JWT_LEEWAY must be a whole number of at least 0 and at most 30",
        ),
        (
            "JWT_ACCESS_TOKEN_LIFETIME",
            "0",
            "JWT_ACCESS_TOKEN_LIFETIME must be a whole number of at least 1",
        ),
        (
            "JWT_REFRESH_TOKEN_LIFETIME",
            "299",
            "JWT_REFRESH_TOKEN_LIFETIME must be at least JWT_ACCESS_TOKEN_LIFETIME",
        ),
        (
            "DJANGO_NUM_PROXIES",
            "-1",
            "DJANGO_NUM_PROXIES must be a whole number of at least 0",
        ),
        (
            "KEEL_LOGIN_IP_THROTTLE_RATE",
            "5 per minute",
            "KEEL_LOGIN_IP_THROTTLE_RATE must be a rate",
        ),
        (
            "KEEL_LOGIN_USERNAME_THROTTLE_RATE",
            "0/min",
            "KEEL_LOGIN_USERNAME_THROTTLE_RATE must be a rate",
        ),
        (
            "KEEL_ALLOW_REGISTRATION",
            "yes",
            "KEEL_ALLOW_REGISTRATION must be 1 (on) or 0 (off)",
        ),
    ],
)
def test_bad_token_or_throttle_setting_refuses_start_naming_it(
    manage, prod_env, name, value, message
):
    prod_env[name] = value
    result = manage("check", env=prod_env)
    assert result.returncode == 1
    assert message in result.stderr


@pytest.mark.parametrize("command", ["migrate", "runserver", "createsuperuser"])
def test_every_command_refuses_to_start_without_secret_key(manage, prod_env, command):
    del prod_env["DJANGO_SECRET_KEY"]
    result = manage(command, env=prod_env)
    assert result.returncode == 1
    assert "DJANGO_SECRET_KEY is not set" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("module", ["configs.wsgi", "configs.asgi"])
def test_server_entry_points_refuse_to_start_without_secret_key(prod_env, module):
    import os
    import subprocess
    import sys

    from testing.environment import BACKEND

    del prod_env["DJANGO_SECRET_KEY"]
    result = subprocess.run(
        [sys.executable, "-c", f"import {module}"],
        cwd=BACKEND,
        env={"PATH": os.environ["PATH"], **prod_env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "DJANGO_SECRET_KEY is not set" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("value", "debug"), [("1", True), ("0", False), ("", False), (None, False)]
)
def test_debug_accepts_one_zero_empty_and_unset(manage, prod_env, value, debug):
    if value is None:
        del prod_env["DJANGO_DEBUG"]
    else:
        prod_env["DJANGO_DEBUG"] = value
    assert show(manage, prod_env, "__import__('django.conf').conf.settings.DEBUG") == (
        str(debug)
    )


@pytest.mark.parametrize("value", ["true", "True", "yes", "on", "2", "off"])
def test_debug_rejects_anything_else_naming_allowed_values(manage, prod_env, value):
    prod_env["DJANGO_DEBUG"] = value
    result = manage("check", env=prod_env)
    assert result.returncode == 1
    assert "DJANGO_DEBUG must be 1 (on) or 0 (off)" in result.stderr
    assert repr(value) in result.stderr


@pytest.mark.parametrize(
    "name", ["CORS_ALLOWED_ORIGINS", "CSRF_TRUSTED_ORIGINS", "DJANGO_ALLOWED_HOSTS"]
)
@pytest.mark.parametrize("value", [None, "", " , ,"])
def test_empty_hosts_or_origins_refuse_start_with_debug_off(
    manage, prod_env, name, value
):
    if value is None:
        del prod_env[name]
    else:
        prod_env[name] = value
    result = manage("check", env=prod_env)
    assert result.returncode == 1
    assert f"{name} must be set when DJANGO_DEBUG is off" in result.stderr


def test_empty_origins_are_allowed_with_debug_on(manage, prod_env):
    prod_env.update(
        DJANGO_DEBUG="1",
        DJANGO_ALLOWED_HOSTS="",
        CORS_ALLOWED_ORIGINS="",
        CSRF_TRUSTED_ORIGINS="",
    )
    result = manage("check", env=prod_env)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("name", ["CORS_ALLOWED_ORIGINS", "CSRF_TRUSTED_ORIGINS"])
@pytest.mark.parametrize(
    ("origin", "reason"),
    [
        ("app.example.com", "is not an origin"),
        ("ftp://app.example.com", "is not an origin"),
        ("https://app.example.com/path", "has a path"),
        ("https://app.example.com/", "has a path"),
    ],
)
def test_origin_without_scheme_or_with_path_is_named(
    manage, prod_env, name, origin, reason
):
    prod_env[name] = f"https://ok.example.com, {origin}"
    result = manage("check", env=prod_env)
    assert result.returncode == 1
    assert f"{name} has {origin!r}, which {reason}" in result.stderr
    assert "ok.example.com" not in result.stderr


def test_lists_are_trimmed_and_blanks_dropped(manage, prod_env):
    prod_env["DJANGO_ALLOWED_HOSTS"] = " a.example.com , ,b.example.com,, "
    prod_env["CORS_ALLOWED_ORIGINS"] = " https://a.example.com ,, https://b.example.com"
    expression = (
        "__import__('json').dumps([__import__('django.conf').conf.settings"
        ".ALLOWED_HOSTS, __import__('django.conf').conf.settings.CORS_ALLOWED_ORIGINS])"
    )
    assert json.loads(show(manage, prod_env, expression)) == [
        ["a.example.com", "b.example.com"],
        ["https://a.example.com", "https://b.example.com"],
    ]


def test_secure_defaults_are_on_with_debug_off(manage, prod_env):
    result = manage("shell", "--no-imports", "-c", SHOW_SECURITY, env=prod_env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
        "SECURE_SSL_REDIRECT": True,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "CSRF_COOKIE_SAMESITE": "Lax",
        "DEBUG": False,
    }


def test_secure_defaults_are_off_with_debug_on(manage, prod_env):
    prod_env["DJANGO_DEBUG"] = "1"
    result = manage("shell", "--no-imports", "-c", SHOW_SECURITY, env=prod_env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "SECURE_PROXY_SSL_HEADER": None,
        "SECURE_SSL_REDIRECT": False,
        "SESSION_COOKIE_SECURE": False,
        "CSRF_COOKIE_SECURE": False,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "CSRF_COOKIE_SAMESITE": "Lax",
        "DEBUG": True,
    }


TIME_ZONE = "__import__('django.conf').conf.settings.TIME_ZONE"


def test_time_zone_defaults_to_ho_chi_minh(manage, prod_env):
    assert show(manage, prod_env, TIME_ZONE) == "Asia/Ho_Chi_Minh"


def test_time_zone_is_overridable(manage, prod_env):
    prod_env["DJANGO_TIME_ZONE"] = "UTC"
    assert show(manage, prod_env, TIME_ZONE) == "UTC"


def test_unknown_time_zone_refuses_start(manage, prod_env):
    prod_env["DJANGO_TIME_ZONE"] = "Mars/Olympus_Mons"
    result = manage("check", env=prod_env)
    assert result.returncode == 1
    assert "DJANGO_TIME_ZONE is 'Mars/Olympus_Mons'" in result.stderr


def test_all_problems_are_reported_together(manage, prod_env):
    del prod_env["DJANGO_SECRET_KEY"]
    del prod_env["DB_HOST"]
    prod_env.update(DJANGO_TIME_ZONE="Nowhere/Land", CORS_ALLOWED_ORIGINS="bad.origin")
    result = manage("check", env=prod_env)
    assert result.returncode == 1
    for name in ("DJANGO_SECRET_KEY", "DB_HOST", "DJANGO_TIME_ZONE", "bad.origin"):
        assert name in result.stderr


def test_errors_never_print_secret_values(manage, prod_env):
    prod_env["DJANGO_DEBUG"] = "maybe"
    prod_env["DB_PORT"] = "not-a-port"
    result = manage("check", env=prod_env)
    assert result.returncode == 1
    for secret in (
        prod_env["DJANGO_SECRET_KEY"],
        prod_env["JWT_SIGNING_KEY"],
        prod_env["DB_PASSWORD"],
    ):
        assert secret not in result.stderr + result.stdout


def test_database_is_postgresql_never_sqlite(manage, prod_env):
    engine = show(
        manage,
        prod_env,
        "__import__('django.conf').conf.settings.DATABASES['default']['ENGINE']",
    )
    assert engine == "django.db.backends.postgresql"


def test_cache_is_redis_when_redis_url_is_set(manage, prod_env):
    prod_env["REDIS_URL"] = "redis://127.0.0.1:6379/0"
    backend = show(
        manage,
        prod_env,
        "__import__('django.conf').conf.settings.CACHES['default']['BACKEND']",
    )
    assert backend == "django.core.cache.backends.redis.RedisCache"


def test_cache_is_local_memory_without_redis_url(manage, prod_env):
    backend = show(
        manage,
        prod_env,
        "__import__('django.conf').conf.settings.CACHES['default']['BACKEND']",
    )
    assert backend == "django.core.cache.backends.locmem.LocMemCache"


def test_environment_wins_over_env_file(manage, prod_env, tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("DJANGO_TIME_ZONE=Europe/Paris\nDB_NAME=from_file\n")
    prod_env.update(KEEL_ENV_FILE=str(env_file), DB_NAME="from_environment")
    expression = (
        "__import__('django.conf').conf.settings.DATABASES['default']['NAME'], "
        "__import__('django.conf').conf.settings.TIME_ZONE"
    )
    assert show(manage, prod_env, expression) == "from_environment Europe/Paris"
