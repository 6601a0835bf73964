"""The env-sync invariant: backend/.env and backend/db.env must agree."""

import secrets
import shutil

import pytest

from testing.environment import BACKEND


@pytest.fixture
def project(tmp_path, prod_env):
    """Return a project folder with a compose file and env files in sync."""
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
    for key in app_env:
        del prod_env[key]
    del prod_env["DB_PORT"]
    prod_env["KEEL_ENV_FILE"] = str(backend / ".env")
    return backend


def write_env(path, values):
    path.write_text("".join(f"{key}={value}\n" for key, value in values.items()))


def read_env(path):
    return dict(line.split("=", 1) for line in path.read_text().splitlines())


def run_check(manage, env):
    return manage("check", env=env)


def test_env_files_in_sync_pass(manage, prod_env, project):
    result = run_check(manage, prod_env)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("app_name", "db_name"),
    [
        ("DB_NAME", "POSTGRES_DB"),
        ("DB_USER", "POSTGRES_USER"),
        ("DB_PASSWORD", "POSTGRES_PASSWORD"),
    ],
)
def test_env_files_out_of_sync_name_the_pair_not_the_values(
    manage, prod_env, project, app_name, db_name
):
    db_env = read_env(project / "db.env")
    db_env[db_name] = "drifted-value-1234"
    write_env(project / "db.env", db_env)
    result = run_check(manage, prod_env)
    assert result.returncode != 0
    assert "keel.E001" in result.stderr
    assert f"{app_name}/{db_name}" in result.stderr
    assert "drifted-value-1234" not in result.stderr + result.stdout
    app_value = read_env(project / ".env")[app_name]
    assert app_value not in result.stderr + result.stdout


def test_db_host_must_be_the_compose_database_service(manage, prod_env, project):
    app_env = read_env(project / ".env")
    app_env["DB_HOST"] = "postgresql-skeleton"
    write_env(project / ".env", app_env)
    result = run_check(manage, prod_env)
    assert result.returncode != 0
    assert "keel.E002" in result.stderr
    assert "DB_HOST=db" in result.stderr


def test_check_is_silent_when_db_env_is_absent(manage, prod_env, project):
    (project / "db.env").unlink()
    db_env_drift = read_env(project / ".env")
    db_env_drift["DB_HOST"] = "elsewhere"
    write_env(project / ".env", db_env_drift)
    result = run_check(manage, prod_env)
    assert result.returncode == 0, result.stderr
