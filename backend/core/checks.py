"""
System checks for keel's deployment invariants.

``manage.py check`` and every server start run them. Their messages name the
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


def keel_path(name: str) -> Path | None:
    value = settings.KEEL.get(name)
    return Path(value) if isinstance(value, str | Path) and value else None


@register("keel")
def check_env_files_in_sync(**kwargs: Any) -> list[CheckMessage]:
    env_file = keel_path("ENV_FILE")
    db_env_file = keel_path("DB_ENV_FILE")
    if not (env_file and db_env_file and env_file.is_file() and db_env_file.is_file()):
        return []
    app_env = dotenv_values(env_file)
    db_env = dotenv_values(db_env_file)
    errors: list[CheckMessage] = []
    differing = [
        f"{app_name}/{db_name}"
        for app_name, db_name in SYNCED_PAIRS
        if (app_env.get(app_name) or "") != (db_env.get(db_name) or "")
    ]
    if differing:
        errors.append(
            Error(
                f"{env_file.name} and {db_env_file.name} disagree on "
                f"{', '.join(differing)}.",
                hint=f"Give each pair the same value in {env_file} and {db_env_file}.",
                id="keel.E001",
            )
        )
    service = compose_database_service(keel_path("COMPOSE_FILE"), db_env_file)
    if service is not None and app_env.get("DB_HOST") != service:
        errors.append(
            Error(
                f"DB_HOST in {env_file.name} is not the compose file's database "
                f"service name.",
                hint=f"Set DB_HOST={service} in {env_file}.",
                id="keel.E002",
            )
        )
    return errors
