"""The environments keel's tests, benchmark and e2e run keel in."""

import secrets
from pathlib import Path

# backend/, where manage.py lives.
BACKEND = Path(__file__).resolve().parents[1]


def production_environment() -> dict[str, str]:
    """Return a complete, valid environment with debug off and no env file."""
    return {
        "KEEL_ENV_FILE": "",
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
