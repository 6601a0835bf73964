"""
Write backend/.env and backend/db.env from their examples with fresh secrets.

A file that exists is never overwritten. When only one of the two exists, the
new one takes the database password from it, so the pair stays in sync.
Standard library only: this runs before the virtual environment exists.
"""

import re
import secrets
import sys
from pathlib import Path

BACKEND = Path(__file__).resolve().parent.parent / "backend"
APP_ENV = BACKEND / ".env"
DB_ENV = BACKEND / "db.env"


def read_value(path: Path, name: str) -> str:
    match = re.search(rf"^{name}=(.*)$", path.read_text(), flags=re.MULTILINE)
    return match.group(1).strip() if match else ""


def fill(template: Path, values: dict[str, str]) -> str:
    text = template.read_text()
    for name, value in values.items():
        text = re.sub(rf"^{name}=.*$", f"{name}={value}", text, flags=re.MULTILINE)
    return text


def main() -> int:
    if APP_ENV.exists() and DB_ENV.exists():
        print("make env: backend/.env and backend/db.env exist; left as they are.")
        return 0
    if APP_ENV.exists():
        password = read_value(APP_ENV, "DB_PASSWORD")
    elif DB_ENV.exists():
        password = read_value(DB_ENV, "POSTGRES_PASSWORD")
    else:
        password = secrets.token_urlsafe(24)
    for path, values in (
        (
            APP_ENV,
            {
                "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
                "JWT_SIGNING_KEY": secrets.token_urlsafe(50),
                "DB_PASSWORD": password,
            },
        ),
        (DB_ENV, {"POSTGRES_PASSWORD": password}),
    ):
        if path.exists():
            continue
        path.write_text(fill(path.with_name(path.name + ".example"), values))
        path.chmod(0o600)
        print(f"make env: wrote {path.relative_to(BACKEND.parent)} with fresh secrets.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
