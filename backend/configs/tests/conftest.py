"""Fixtures for running manage.py in a subprocess with a crafted environment."""

import os
import secrets
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

BACKEND = Path(__file__).resolve().parents[2]


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


def production_environment() -> dict[str, str]:
    """Return a complete, valid environment with debug off."""
    return {
        "DJANGO_ENV_FILE": "",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "JWT_SIGNING_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "api.example.com",
        "CORS_ALLOWED_ORIGINS": "https://app.example.com",
        "CSRF_TRUSTED_ORIGINS": "https://app.example.com",
        "DB_NAME": "keel",
        "DB_USER": "keel",
        "DB_PASSWORD": secrets.token_urlsafe(16),
        "DB_HOST": "db",
        "DB_PORT": "5432",
    }


@pytest.fixture
def manage() -> Callable[..., Result]:
    """Return a runner of manage.py with exactly the environment it is given."""

    def run(*args: str, env: dict[str, str]) -> Result:
        completed = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=BACKEND,
            env={"PATH": os.environ["PATH"], **env},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        return Result(completed.returncode, completed.stdout, completed.stderr)

    return run


@pytest.fixture
def prod_env() -> dict[str, str]:
    return production_environment()
