"""
Secrets given as files: ``NAME_FILE`` instead of ``NAME``.

Standard library only, so that scripts that run without Django (make backup)
read secrets the way settings do (configs.env).
"""

from collections.abc import Mapping
from pathlib import Path

# The variables that hold a secret. Each may be given instead as NAME_FILE, the
# path of a file that holds it: Podman's and Docker's secrets are files (under
# /run/secrets/), which keeps the value out of the environment that `podman
# inspect` and /proc show. One trailing newline is dropped, as `echo` and
# editors add one.
SECRETS = (
    "DJANGO_SECRET_KEY",
    "JWT_SIGNING_KEY",
    "DB_PASSWORD",
    "EMAIL_HOST_PASSWORD",
    "REDIS_URL",
    "SENTRY_DSN",
    "KEEL_METRICS_TOKEN",
    "DJANGO_SUPERUSER_PASSWORD",
    "MONGO_URL",
)


def read_secret_files(
    values: Mapping[str, str], names: tuple[str, ...] = SECRETS
) -> tuple[dict[str, str], list[str]]:
    """
    Return values with each NAME_FILE of names read into NAME, and the problems.

    A problem names the variable and the file, never what the file holds.
    """
    resolved = dict(values)
    problems: list[str] = []
    for name in names:
        path = values.get(f"{name}_FILE", "").strip()
        if not path:
            continue
        if values.get(name, "").strip():
            problems.append(
                f"{name} and {name}_FILE are both set: set one of them "
                f"({name}_FILE names a file that holds {name})."
            )
            continue
        try:
            content = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            reason = getattr(error, "strerror", None) or "not UTF-8 text"
            problems.append(
                f"{name}_FILE is {path!r}, which cannot be read ({reason}): "
                f"it must name a readable file that holds {name}."
            )
            continue
        value = content.removesuffix("\n").removesuffix("\r")
        if not value.strip():
            problems.append(f"{name}_FILE is {path!r}, which is empty.")
        resolved[name] = value
    return resolved, problems
