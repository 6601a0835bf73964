"""
System checks for keel's deployment invariants.

The env-sync check guards the compose stack, the one deployment that reads
backend/db.env: its PostgreSQL container creates the database from db.env
while the backend reads backend/.env, so the two must agree. It applies where
that is true: the stack's targets (``make up``, ``make prod``, ``make kube``)
run it before starting anything (scripts/preflight.py), and ``manage.py check``
runs it when the database host in effect is the compose file's database
service. A run against any other server (``make dev``'s own PostgreSQL, or one
of the user's) is not the stack, and is left alone. Messages name the
variables involved, never their values.
"""

from pathlib import Path
from typing import Any

import yaml
from dotenv import dotenv_values

from django.conf import settings
from django.core.checks import CheckMessage, Error, register

# Each pair must hold the same value in backend/.env and backend/db.env.
SYNCED_PAIRS = (
    ("DB_NAME", "POSTGRES_DB"),
    ("DB_USER", "POSTGRES_USER"),
    ("DB_PASSWORD", "POSTGRES_PASSWORD"),
)


def compose_database_service(
    compose_file: Path | None, db_env_file: Path
) -> str | None:
    """Return the name of the compose service that reads db_env_file, if any."""
    if compose_file is None or not compose_file.is_file():
        return None
    compose = yaml.safe_load(compose_file.read_text()) or {}
    for name, service in (compose.get("services") or {}).items():
        env_files = service.get("env_file") or []
        if isinstance(env_files, str):
            env_files = [env_files]
        for env_file in env_files:
            path = env_file if isinstance(env_file, str) else env_file.get("path", "")
            if (compose_file.parent / path).resolve() == db_env_file.resolve():
                return str(name)
    return None


def env_sync_errors(env_file: Path, db_env_file: Path) -> list[CheckMessage]:
    """Return keel.E001 when the two env files disagree on the database's account."""
    if not (env_file.is_file() and db_env_file.is_file()):
        return []
    app_env = dotenv_values(env_file)
    db_env = dotenv_values(db_env_file)
    differing = [
        f"{app_name}/{db_name}"
        for app_name, db_name in SYNCED_PAIRS
        if (app_env.get(app_name) or "") != (db_env.get(db_name) or "")
    ]
    if not differing:
        return []
    return [
        Error(
            f"{env_file.name} and {db_env_file.name} disagree on "
            f"{', '.join(differing)}: the compose stack's backend could not sign "
            "in to its database.",
            hint=f"Give each pair the same value in {env_file} and {db_env_file}.",
            id="keel.E001",
        )
    ]


def keel_path(name: str) -> Path | None:
    value = settings.KEEL.get(name)
    return Path(value) if isinstance(value, str | Path) and value else None


@register("keel")
def check_env_files_in_sync(**kwargs: Any) -> list[CheckMessage]:
    env_file = keel_path("ENV_FILE")
    db_env_file = keel_path("DB_ENV_FILE")
    if env_file is None or db_env_file is None or not db_env_file.is_file():
        return []
    service = compose_database_service(keel_path("COMPOSE_FILE"), db_env_file)
    database = settings.DATABASES[settings.KEEL["DIRECT_DATABASE"]]
    if service is None or database["HOST"] != service:
        # Not the stack: this process uses a database of its own.
        return []
    return env_sync_errors(env_file, db_env_file)
