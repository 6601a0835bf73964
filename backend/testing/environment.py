"""
The one production-like environment keel's tests, benchmark and e2e run keel in.

production_environment() is complete and valid with debug off, as a deployment
has it; local_environment() is the same for a server on this machine, spoken
to over plain HTTP, with the DB_* variables left to the caller.
"""

import secrets
from pathlib import Path

# backend/, where manage.py lives.
BACKEND = Path(__file__).resolve().parents[1]

# The hosts a server on this machine is reached by; testserver is Django's
# test client's.
LOCAL_HOSTS = "testserver,localhost,127.0.0.1"


def production_environment(**overrides: str) -> dict[str, str]:
    """Return a complete, valid environment with debug off and no env file."""
    return {
        "KEEL_ENV_FILE": "",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "JWT_SIGNING_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "api.example.com",
        "CORS_ALLOWED_ORIGINS": "https://app.example.com",
        "CSRF_TRUSTED_ORIGINS": "https://app.example.com",
        "KEEL_FRONTEND_URL": "https://app.example.com",
        "KEEL_EMAIL": "console",
        "DB_NAME": "keel",
        "DB_USER": "keel",
        "DB_PASSWORD": secrets.token_urlsafe(16),
        "DB_HOST": "db",
        "DB_PORT": "5432",
        **overrides,
    }


def local_environment(**overrides: str) -> dict[str, str]:
    """
    Return production_environment() for a server on this machine, without DB_*.

    It answers the local host names over plain HTTP (the HTTPS redirect has
    tests of its own; in production a TLS-terminating proxy stands in front).
    """
    environment = {
        name: value
        for name, value in production_environment().items()
        if not name.startswith("DB_")
    }
    environment.update(
        DJANGO_ALLOWED_HOSTS=LOCAL_HOSTS, DJANGO_SECURE_SSL_REDIRECT="0", **overrides
    )
    return environment
