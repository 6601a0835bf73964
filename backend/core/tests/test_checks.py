"""
The env-sync invariant: for the compose stack, backend/.env and backend/db.env
must agree; keel on any other database is left alone.
"""

import secrets
import shutil

import pytest

from django.core.checks import run_checks

from testing.environment import BACKEND
from testing.settings import load_settings

# The checks read the database host from settings; only they see the override.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Overriding setting DATABASES:UserWarning"
)


@pytest.fixture
def project(tmp_path, prod_env, settings):
    """
    Return a project folder with a compose file and env files in sync, and
    point settings at it as configs/settings.py does for KEEL_ENV_FILE.
    """
    backend = tmp_path / "backend"
    backend.mkdir()
    shutil.copy(BACKEND.parent / "podman-compose.yml", tmp_path)
    # Distinctive values, so a test can tell whether any of them was printed.
    app_env = {
        "DB_NAME": f"name_{secrets.token_hex(6)}",
        "DB_USER": f"user_{secrets.token_hex(6)}",
        "DB_PASSWORD": secrets.token_urlsafe(16),
        "DB_HOST": "db",
    }
    db_env = {
        "POSTGRES_DB": app_env["DB_NAME"],
        "POSTGRES_USER": app_env["DB_USER"],
        "POSTGRES_PASSWORD": app_env["DB_PASSWORD"],
    }
    write_env(backend / ".env", app_env)
    write_env(backend / "db.env", db_env)
    for key in (*app_env, "DB_PORT"):
        del prod_env[key]
    prod_env["KEEL_ENV_FILE"] = str(backend / ".env")
    settings.KEEL = load_settings(prod_env)["KEEL"]
    use_database_host(settings, app_env["DB_HOST"])
    return backend


def use_database_host(settings, host):
    """Make host the database host in effect, as loading that .env would."""
    # Only the check reads it: the suite's connections were made already.
    settings.DATABASES = {
        **settings.DATABASES,
        "default": {**settings.DATABASES["default"], "HOST": host},
    }


def write_env(path, values):
    path.write_text("".join(f"{key}={value}\n" for key, value in values.items()))


def read_env(path):
    return dict(line.split("=", 1) for line in path.read_text().splitlines())


def keel_errors():
    """Return the registered keel checks' messages, as manage.py check runs them."""
    return [message for message in run_checks(tags=["keel"]) if message.is_serious()]


def printed(message):
    return f"{message.msg} {message.hint}"


def test_env_files_in_sync_pass(project):
    assert keel_errors() == []


@pytest.mark.parametrize(
    ("app_name", "db_name"),
    [
        ("DB_NAME", "POSTGRES_DB"),
        ("DB_USER", "POSTGRES_USER"),
        ("DB_PASSWORD", "POSTGRES_PASSWORD"),
    ],
)
def test_env_files_out_of_sync_name_the_pair_not_the_values(project, app_name, db_name):
    db_env = read_env(project / "db.env")
    db_env[db_name] = "drifted-value-1234"
    write_env(project / "db.env", db_env)
    [error] = keel_errors()
    assert error.id == "keel.E001"
    assert f"{app_name}/{db_name}" in error.msg
    assert "drifted-value-1234" not in printed(error)
    assert read_env(project / ".env")[app_name] not in printed(error)


@pytest.mark.parametrize("own_host", ["127.0.0.1", "postgres.internal"])
def test_own_database_is_not_the_stack_so_the_files_may_differ(
    project, settings, own_host
):
    """A user on their own server is never told to set DB_HOST=db."""
    app_env = read_env(project / ".env")
    app_env["DB_HOST"] = own_host
    app_env["DB_PASSWORD"] = "my-own-servers-password"
    write_env(project / ".env", app_env)
    use_database_host(settings, own_host)
    assert keel_errors() == []


def test_the_stacks_targets_check_the_files_whatever_db_host_says(project):
    """make up/prod/kube run the check itself, before the stack starts."""
    from core.checks import env_sync_errors

    app_env = read_env(project / ".env")
    app_env["DB_HOST"] = ""
    write_env(project / ".env", app_env)
    assert env_sync_errors(project / ".env", project / "db.env") == []
    db_env = read_env(project / "db.env")
    db_env["POSTGRES_PASSWORD"] = "drifted-value-1234"
    write_env(project / "db.env", db_env)
    (error,) = env_sync_errors(project / ".env", project / "db.env")
    assert error.id == "keel.E001"
    assert "DB_PASSWORD/POSTGRES_PASSWORD" in error.msg
    assert "drifted-value-1234" not in printed(error)


def test_check_is_silent_when_db_env_is_absent(project):
    (project / "db.env").unlink()
    db_env_drift = read_env(project / ".env")
    db_env_drift["DB_HOST"] = "elsewhere"
    write_env(project / ".env", db_env_drift)
    assert keel_errors() == []
