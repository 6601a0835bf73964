"""
Start-up behaviour of settings: their rules, loaded in-process from a crafted
environment, and a few smoke tests of each entry point in a subprocess.
"""

import re
from pathlib import Path

import pytest

from configs.env import ConfigurationError
from testing.settings import load_settings


def problems(env):
    """Return the problems settings report for env (it must have some)."""
    with pytest.raises(ConfigurationError) as error:
        load_settings(env)
    return error.value.problems


def problem_text(env):
    return "\n".join(problems(env))


# --- Each entry point, in a subprocess: exit code, one message, no traceback.

ENTRY_POINTS = {
    "manage.py": ["manage.py", "check"],
    "wsgi": ["-c", "import configs.wsgi"],
    "asgi": ["-c", "import configs.asgi"],
}


@pytest.mark.parametrize("entry_point", ENTRY_POINTS)
def test_each_entry_point_refuses_a_bad_environment_in_one_message(
    python, prod_env, entry_point
):
    del prod_env["DJANGO_SECRET_KEY"]
    result = python(*ENTRY_POINTS[entry_point], env=prod_env)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "keel cannot start, fix the environment:",
        "  - DJANGO_SECRET_KEY is not set. Generate one with: python -c "
        "'import secrets; print(secrets.token_urlsafe(50))' (or run: make env)",
    ]
    for secret in (prod_env["JWT_SIGNING_KEY"], prod_env["DB_PASSWORD"]):
        assert secret not in result.stderr


# --- The rules, in-process.


def test_complete_production_environment_loads(prod_env):
    loaded = load_settings(prod_env)
    assert loaded["DEBUG"] is False
    assert loaded["ALLOWED_HOSTS"] == ["api.example.com"]


@pytest.mark.parametrize("name", ["DJANGO_SECRET_KEY", "JWT_SIGNING_KEY"])
@pytest.mark.parametrize("value", [None, "", "   "])
def test_missing_secret_key_is_one_problem_with_a_hint(prod_env, name, value):
    if value is None:
        del prod_env[name]
    else:
        prod_env[name] = value
    [problem] = problems(prod_env)
    assert problem.startswith(f"{name} is not set")
    assert "secrets.token_urlsafe" in problem


def test_jwt_signing_key_equal_to_secret_key_refuses_start(prod_env):
    prod_env["JWT_SIGNING_KEY"] = prod_env["DJANGO_SECRET_KEY"]
    text = problem_text(prod_env)
    assert "JWT_SIGNING_KEY must differ from DJANGO_SECRET_KEY" in text
    assert prod_env["DJANGO_SECRET_KEY"] not in text


def test_jwt_signing_key_shorter_than_32_bytes_refuses_start(prod_env):
    prod_env.update(DJANGO_DEBUG="1", JWT_SIGNING_KEY="x" * 31)
    assert "JWT_SIGNING_KEY is too short" in problem_text(prod_env)
    prod_env["JWT_SIGNING_KEY"] = "x" * 32
    assert load_settings(prod_env)["SIMPLE_JWT"]["SIGNING_KEY"] == "x" * 32


def auth_settings(loaded):
    jwt = loaded["SIMPLE_JWT"]
    return {
        "access": jwt["ACCESS_TOKEN_LIFETIME"].total_seconds(),
        "refresh": jwt["REFRESH_TOKEN_LIFETIME"].total_seconds(),
        "rotate": jwt["ROTATE_REFRESH_TOKENS"],
        "blacklist": jwt["BLACKLIST_AFTER_ROTATION"],
        "leeway": jwt["LEEWAY"],
        "algorithm": jwt["ALGORITHM"],
        "registration": loaded["KEEL"]["ALLOW_REGISTRATION"],
        "num_proxies": loaded["REST_FRAMEWORK"]["NUM_PROXIES"],
        "rates": loaded["REST_FRAMEWORK"]["DEFAULT_THROTTLE_RATES"],
    }


def test_token_lifetimes_and_throttles_have_safe_defaults(prod_env):
    loaded = load_settings(prod_env)
    assert loaded["SIMPLE_JWT"]["SIGNING_KEY"] == prod_env["JWT_SIGNING_KEY"]
    assert loaded["SECRET_KEY"] == prod_env["DJANGO_SECRET_KEY"]
    assert auth_settings(loaded) == {
        "access": 300,
        "refresh": 86400,
        "rotate": True,
        "blacklist": True,
        "leeway": 0,
        "algorithm": "HS256",
        "registration": False,
        "num_proxies": 0,
        "rates": {
            "login_ip": "10/min",
            "login_username": "5/min",
            "register": "10/hour",
            "refresh": "30/min",
            "email_ip": "10/hour",
            "email_address": "3/hour",
        },
    }


def test_token_lifetimes_and_throttles_come_from_the_environment(prod_env):
    prod_env.update(
        JWT_ACCESS_TOKEN_LIFETIME="60",
        JWT_REFRESH_TOKEN_LIFETIME="3600",
        JWT_LEEWAY="30",
        KEEL_ALLOW_REGISTRATION="1",
        DJANGO_NUM_PROXIES="2",
        KEEL_LOGIN_IP_THROTTLE_RATE="20/hour",
        KEEL_LOGIN_USERNAME_THROTTLE_RATE="3/min",
        KEEL_REGISTER_THROTTLE_RATE="2/day",
        KEEL_REFRESH_THROTTLE_RATE="7/hour",
        KEEL_EMAIL_IP_THROTTLE_RATE="4/hour",
        KEEL_EMAIL_ADDRESS_THROTTLE_RATE="1/day",
    )
    shown = auth_settings(load_settings(prod_env))
    assert (shown["access"], shown["refresh"], shown["leeway"]) == (60, 3600, 30)
    assert (shown["registration"], shown["num_proxies"]) == (True, 2)
    assert shown["rates"] == {
        "login_ip": "20/hour",
        "login_username": "3/min",
        "register": "2/day",
        "refresh": "7/hour",
        "email_ip": "4/hour",
        "email_address": "1/day",
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
        (
            "KEEL_PASSWORD_CHECKS_PER_WORKER",
            "0",
            "KEEL_PASSWORD_CHECKS_PER_WORKER must be a whole number of at least 1",
        ),
        (
            "DB_STATEMENT_TIMEOUT",
            "15s",
            "DB_STATEMENT_TIMEOUT must be a whole number of at least 0",
        ),
        (
            "KEEL_AUTH_CACHE_SECONDS",
            "300",
            "KEEL_AUTH_CACHE_SECONDS needs REDIS_URL: without Redis each worker",
        ),
        (
            "KEEL_AUTH_CACHE_SECONDS",
            "301",
            "KEEL_AUTH_CACHE_SECONDS must be a whole number of at least 0 and at "
            "most 300",
        ),
        ("KEEL_BACKUP_DIR", "backups", "KEEL_BACKUP_DIR must be an absolute path"),
        ("KEEL_BACKUP_KEEP", "-1", "KEEL_BACKUP_KEEP must be a whole number"),
        ("KEEL_BACKUP_SCHEDULE", "daily", "KEEL_BACKUP_SCHEDULE must be a cron"),
    ],
)
def test_bad_setting_refuses_start_naming_it(prod_env, name, value, message):
    prod_env[name] = value
    [problem] = problems(prod_env)
    assert problem.startswith(message)


@pytest.mark.parametrize("old", ["DJANGO_PASSWORD_CHECKS_PER_WORKER", "WEB_WORKERS"])
def test_an_old_name_is_refused_naming_the_new_one(prod_env, old):
    from configs.env import RENAMED

    prod_env[old] = "2"
    [problem] = problems(prod_env)
    assert problem.startswith(f"{old} was renamed {RENAMED[old]}")


@pytest.mark.parametrize(
    ("value", "debug"), [("1", True), ("0", False), ("", False), (None, False)]
)
def test_debug_accepts_one_zero_empty_and_unset(prod_env, value, debug):
    if value is None:
        del prod_env["DJANGO_DEBUG"]
    else:
        prod_env["DJANGO_DEBUG"] = value
    assert load_settings(prod_env)["DEBUG"] is debug


@pytest.mark.parametrize("value", ["true", "True", "yes", "on", "2", "off"])
def test_debug_rejects_anything_else_naming_allowed_values(prod_env, value):
    prod_env["DJANGO_DEBUG"] = value
    [problem] = problems(prod_env)
    assert problem == (
        f"DJANGO_DEBUG must be 1 (on) or 0 (off), or left empty; got {value!r}."
    )


@pytest.mark.parametrize(
    "name", ["CORS_ALLOWED_ORIGINS", "CSRF_TRUSTED_ORIGINS", "DJANGO_ALLOWED_HOSTS"]
)
@pytest.mark.parametrize("value", [None, "", " , ,"])
def test_empty_hosts_or_origins_refuse_start_with_debug_off(prod_env, name, value):
    if value is None:
        del prod_env[name]
    else:
        prod_env[name] = value
    assert problems(prod_env) == [
        f"{name} must be set when DJANGO_DEBUG is off (comma-separated)."
    ]


def test_empty_origins_are_allowed_with_debug_on(prod_env):
    prod_env.update(
        DJANGO_DEBUG="1",
        DJANGO_ALLOWED_HOSTS="",
        CORS_ALLOWED_ORIGINS="",
        CSRF_TRUSTED_ORIGINS="",
    )
    loaded = load_settings(prod_env)
    assert loaded["CORS_ALLOWED_ORIGINS"] == loaded["CSRF_TRUSTED_ORIGINS"] == []


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
def test_origin_without_scheme_or_with_path_is_named(prod_env, name, origin, reason):
    prod_env[name] = f"https://ok.example.com, {origin}"
    [problem] = problems(prod_env)
    assert problem.startswith(f"{name} has {origin!r}, which {reason}")
    assert "ok.example.com" not in problem


def test_lists_are_trimmed_and_blanks_dropped(prod_env):
    prod_env["DJANGO_ALLOWED_HOSTS"] = " a.example.com , ,b.example.com,, "
    prod_env["CORS_ALLOWED_ORIGINS"] = " https://a.example.com ,, https://b.example.com"
    loaded = load_settings(prod_env)
    assert loaded["ALLOWED_HOSTS"] == ["a.example.com", "b.example.com"]
    assert loaded["CORS_ALLOWED_ORIGINS"] == [
        "https://a.example.com",
        "https://b.example.com",
    ]


SECURITY = (
    "SECURE_PROXY_SSL_HEADER",
    "SECURE_SSL_REDIRECT",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SESSION_COOKIE_SAMESITE",
    "CSRF_COOKIE_SAMESITE",
    "DEBUG",
)


def security_settings(loaded):
    return {name: loaded.get(name) for name in SECURITY}


def test_secure_defaults_are_on_with_debug_off(prod_env):
    assert security_settings(load_settings(prod_env)) == {
        "SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https"),
        "SECURE_SSL_REDIRECT": True,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "CSRF_COOKIE_SAMESITE": "Lax",
        "DEBUG": False,
    }


def test_secure_defaults_are_off_with_debug_on(prod_env):
    prod_env["DJANGO_DEBUG"] = "1"
    # Unset, Django's defaults apply: all off.
    assert security_settings(load_settings(prod_env)) == {
        "SECURE_PROXY_SSL_HEADER": None,
        "SECURE_SSL_REDIRECT": None,
        "SESSION_COOKIE_SECURE": None,
        "CSRF_COOKIE_SECURE": None,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "CSRF_COOKIE_SAMESITE": "Lax",
        "DEBUG": True,
    }


def test_time_zone_defaults_to_ho_chi_minh(prod_env):
    assert load_settings(prod_env)["TIME_ZONE"] == "Asia/Ho_Chi_Minh"


def test_time_zone_is_overridable(prod_env):
    prod_env["DJANGO_TIME_ZONE"] = "UTC"
    assert load_settings(prod_env)["TIME_ZONE"] == "UTC"


def test_unknown_time_zone_refuses_start(prod_env):
    prod_env["DJANGO_TIME_ZONE"] = "Mars/Olympus_Mons"
    [problem] = problems(prod_env)
    assert problem.startswith("DJANGO_TIME_ZONE is 'Mars/Olympus_Mons'")


def test_all_problems_are_reported_together(prod_env):
    del prod_env["DJANGO_SECRET_KEY"]
    del prod_env["DB_HOST"]
    prod_env.update(DJANGO_TIME_ZONE="Nowhere/Land", CORS_ALLOWED_ORIGINS="bad.origin")
    reported = problems(prod_env)
    assert len(reported) == 4
    for name in ("DJANGO_SECRET_KEY", "DB_HOST", "DJANGO_TIME_ZONE", "bad.origin"):
        assert any(name in problem for problem in reported)


def test_errors_never_print_secret_values(prod_env):
    prod_env["DJANGO_DEBUG"] = "maybe"
    prod_env["DB_PORT"] = "not-a-port"
    prod_env["JWT_SIGNING_KEY"] = prod_env["DJANGO_SECRET_KEY"]
    text = problem_text(prod_env)
    for secret in (
        prod_env["DJANGO_SECRET_KEY"],
        prod_env["JWT_SIGNING_KEY"],
        prod_env["DB_PASSWORD"],
    ):
        assert secret not in text


def test_database_is_postgresql_never_sqlite(prod_env):
    database = load_settings(prod_env)["DATABASES"]["default"]
    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert (database["HOST"], database["PORT"]) == ("db", 5432)


def test_cache_is_redis_when_redis_url_is_set(prod_env):
    prod_env["REDIS_URL"] = "redis://127.0.0.1:6379/0"
    loaded = load_settings(prod_env)
    cache = loaded["CACHES"]["default"]
    assert cache["BACKEND"] == "core.cache.RedisCache"
    assert cache["LOCATION"] == "redis://127.0.0.1:6379/0"
    assert loaded["KEEL"]["AUTH_CACHE_SECONDS"] == 60


def test_cache_is_local_memory_without_redis_url(prod_env):
    loaded = load_settings(prod_env)
    cache = loaded["CACHES"]["default"]
    assert cache["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"
    # No authentication cache: a worker's own copy would outlive a revocation.
    assert loaded["KEEL"]["AUTH_CACHE_SECONDS"] == 0


def test_environment_wins_over_env_file(prod_env, tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("DJANGO_TIME_ZONE=Europe/Paris\nDB_NAME=from_file\n")
    prod_env.update(KEEL_ENV_FILE=str(env_file), DB_NAME="from_environment")
    loaded = load_settings(prod_env)
    assert loaded["DATABASES"]["default"]["NAME"] == "from_environment"
    assert loaded["TIME_ZONE"] == "Europe/Paris"
    assert loaded["KEEL"]["DB_ENV_FILE"] == tmp_path / "db.env"


def test_without_a_pooler_there_is_one_connection_and_it_is_direct(prod_env):
    loaded = load_settings(prod_env)
    assert list(loaded["DATABASES"]) == ["default"]
    assert loaded["KEEL"]["DIRECT_DATABASE"] == "default"
    assert "DISABLE_SERVER_SIDE_CURSORS" not in loaded["DATABASES"]["default"]


def test_a_pooler_carries_requests_and_postgresql_stays_reachable_directly(
    prod_env,
):
    prod_env.update(DB_POOLER_HOST="pgbouncer", DB_STATEMENT_TIMEOUT="2")
    loaded = load_settings(prod_env)
    pooled, direct = loaded["DATABASES"]["default"], loaded["DATABASES"]["direct"]
    assert (pooled["HOST"], pooled["PORT"]) == ("pgbouncer", 6432)
    # Transaction pooling: nothing may outlive one transaction.
    assert pooled["DISABLE_SERVER_SIDE_CURSORS"] is True
    assert pooled["OPTIONS"]["prepare_threshold"] is None
    # PgBouncer refuses the `options` startup parameter: its connect_query
    # sets the timeout on each server connection instead.
    assert "options" not in pooled["OPTIONS"]
    assert (direct["HOST"], direct["PORT"]) == ("db", 5432)
    assert direct["OPTIONS"]["options"] == "-c statement_timeout=2000"
    assert "DISABLE_SERVER_SIDE_CURSORS" not in direct
    assert (pooled["NAME"], pooled["USER"]) == (direct["NAME"], direct["USER"])
    assert loaded["KEEL"]["DIRECT_DATABASE"] == "direct"


def test_pooler_port_is_read_with_the_pooler_host(prod_env):
    prod_env.update(DB_POOLER_HOST="10.0.0.7", DB_POOLER_PORT="16432")
    pooled = load_settings(prod_env)["DATABASES"]["default"]
    assert (pooled["HOST"], pooled["PORT"]) == ("10.0.0.7", 16432)


@pytest.mark.parametrize(
    ("pooler", "expected"),
    [
        (
            {"DB_POOLER_HOST": "pgbouncer", "DB_POOLER_PORT": "six"},
            "DB_POOLER_PORT must be a whole number",
        ),
        (
            {"DB_POOLER_PORT": "6432"},
            "DB_POOLER_HOST must be set with DB_POOLER_PORT",
        ),
        (
            {"DB_POOLER_HOST": "db", "DB_POOLER_PORT": "5432"},
            "DB_POOLER_HOST and DB_POOLER_PORT name DB_HOST's PostgreSQL itself",
        ),
    ],
    ids=["port not a number", "port without host", "pooler is the database"],
)
def test_a_bad_pooler_refuses_start(prod_env, pooler, expected):
    prod_env.update(pooler)
    [problem] = problems(prod_env)
    assert problem.startswith(expected), problem


@pytest.mark.parametrize(
    ("value", "milliseconds"), [("", 15000), ("2", 2000), ("0", 0)]
)
def test_statement_timeout_is_passed_to_postgresql_in_milliseconds(
    prod_env, value, milliseconds
):
    prod_env["DB_STATEMENT_TIMEOUT"] = value
    options = load_settings(prod_env)["DATABASES"]["default"]["OPTIONS"]
    assert options["options"] == f"-c statement_timeout={milliseconds}"


@pytest.mark.django_db
def test_connections_carry_the_default_statement_timeout():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone() == ("15s",)


# Where settings put each secret, so that reading it from a file is checked end
# to end; SECRETS and this must name the same variables.
SECRET_SETTINGS = {
    "DJANGO_SECRET_KEY": lambda s: s["SECRET_KEY"],
    "JWT_SIGNING_KEY": lambda s: s["SIMPLE_JWT"]["SIGNING_KEY"],
    "DB_PASSWORD": lambda s: s["DATABASES"]["default"]["PASSWORD"],
    "EMAIL_HOST_PASSWORD": lambda s: s["EMAIL_HOST_PASSWORD"],
    "REDIS_URL": lambda s: s["REDIS_URL"],
    "SENTRY_DSN": lambda s: s["KEEL"]["SENTRY"]["DSN"],
    "KEEL_METRICS_TOKEN": lambda s: s["KEEL"]["METRICS_TOKEN"],
    "DJANGO_SUPERUSER_PASSWORD": lambda s: s["KEEL"]["SUPERUSER"]["PASSWORD"],
    "MONGO_URL": lambda s: s["KEEL"]["MONGO_URL"],
}


def test_every_secret_settings_read_may_come_from_a_file():
    from configs.env import SECRETS

    assert set(SECRET_SETTINGS) == set(SECRETS)
    source = (Path(__file__).parents[1] / "settings.py").read_text()
    read = set(re.findall(r'env\.\w+\(\s*"([A-Z0-9_]+)"', source))
    secret_looking = {
        name
        for name in read
        if re.search(r"PASSWORD$|SECRET|TOKEN$|DSN$|SIGNING_KEY$|_URL$", name)
        and name != "KEEL_FRONTEND_URL"  # a public address
    }
    assert "DB_PASSWORD" in secret_looking  # the pattern finds secrets at all
    assert secret_looking <= set(SECRETS)


SAMPLE_SECRETS = {
    "DB_PASSWORD": "a database password",
    "EMAIL_HOST_PASSWORD": "a mail password",
    "REDIS_URL": "redis://:a-redis-password@redis:6379/0",
    "SENTRY_DSN": "https://a-public-key@o1.ingest.sentry.io/1",
    "KEEL_METRICS_TOKEN": "m" * 40,
    "DJANGO_SUPERUSER_PASSWORD": "a superuser password",
    "MONGO_URL": "mongodb://keel:a-mongo-password@mongo/keel",
}


@pytest.mark.parametrize("name", SECRET_SETTINGS)
def test_each_secret_is_read_from_name_file(prod_env, tmp_path, name):
    value = prod_env.pop(name, "") or SAMPLE_SECRETS[name]
    (tmp_path / name).write_text(value + "\n")
    prod_env[f"{name}_FILE"] = str(tmp_path / name)
    assert SECRET_SETTINGS[name](load_settings(prod_env)) == value


def test_a_missing_secret_file_refuses_start_naming_it(prod_env, tmp_path):
    secret = prod_env.pop("DJANGO_SECRET_KEY")
    prod_env["DJANGO_SECRET_KEY_FILE"] = str(tmp_path / "absent")
    text = problem_text(prod_env)
    assert "DJANGO_SECRET_KEY_FILE is" in text and "cannot be read" in text
    assert secret not in text
