"""
Write backend/.env, backend/db.env and backend/redis.env from their examples.

Each gets fresh secrets. A file that exists is never overwritten. When one of
a pair exists, the new one takes the shared password from it, so the pair
stays in sync: the database password (backend/.env and db.env) and the Redis
password (redis.env, and the commented-out REDIS_URL of backend/.env).
Standard library only: this runs before the virtual environment exists.
"""

import re
import secrets
import sys
from pathlib import Path

BACKEND = Path(__file__).resolve().parent.parent / "backend"
APP_ENV = BACKEND / ".env"
DB_ENV = BACKEND / "db.env"
REDIS_ENV = BACKEND / "redis.env"
# The example's Redis URL, commented out until the redis profile is used.
REDIS_URL_LINE = re.compile(r"^# REDIS_URL=redis://:(?P<password>[^@]*)@", re.MULTILINE)
# The example's stand-in for the password, replaced by a real one.
PLACEHOLDER = "change-me"


def read_value(path: Path, name: str) -> str:
    match = re.search(rf"^{name}=(.*)$", path.read_text(), flags=re.MULTILINE)
    return match.group(1).strip() if match else ""


def fill(template: Path, values: dict[str, str]) -> str:
    text = template.read_text()
    for name, value in values.items():
        text = re.sub(rf"^{name}=.*$", f"{name}={value}", text, flags=re.MULTILINE)
    return text


def redis_password() -> str:
    """Return the Redis password of the file that exists, or a new one."""
    if REDIS_ENV.exists():
        return read_value(REDIS_ENV, "REDIS_PASSWORD")
    if APP_ENV.exists():
        match = REDIS_URL_LINE.search(APP_ENV.read_text())
        if match and match["password"] != PLACEHOLDER:
            return match["password"]
    return secrets.token_urlsafe(24)


def main() -> int:
    if APP_ENV.exists() and DB_ENV.exists() and REDIS_ENV.exists():
        print("make env: backend/.env, db.env and redis.env exist; left as they are.")
        return 0
    if APP_ENV.exists():
        password = read_value(APP_ENV, "DB_PASSWORD")
    elif DB_ENV.exists():
        password = read_value(DB_ENV, "POSTGRES_PASSWORD")
    else:
        password = secrets.token_urlsafe(24)
    redis = redis_password()
    for path, values in (
        (
            APP_ENV,
            {
                "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
                "JWT_SIGNING_KEY": secrets.token_urlsafe(50),
                "DB_PASSWORD": password,
                "KEEL_METRICS_TOKEN": secrets.token_urlsafe(32),
            },
        ),
        (DB_ENV, {"POSTGRES_PASSWORD": password}),
        (REDIS_ENV, {"REDIS_PASSWORD": redis}),
    ):
        if path.exists():
            continue
        text = fill(path.with_name(path.name + ".example"), values)
        if path == APP_ENV:
            text = text.replace(
                f"# REDIS_URL=redis://:{PLACEHOLDER}@", f"# REDIS_URL=redis://:{redis}@"
            )
        path.write_text(text)
        path.chmod(0o600)
        print(f"make env: wrote {path.relative_to(BACKEND.parent)} with fresh secrets.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
