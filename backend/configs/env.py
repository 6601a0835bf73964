"""
Typed readers for keel's environment variables.

Every reader records a problem instead of raising, so that start-up can report
all misconfigurations at once. Messages name variables, never secret values.
"""

import re
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter  # type: ignore[import-untyped]
from dotenv import dotenv_values

from django.core.checks.security.base import (
    SECRET_KEY_INSECURE_PREFIX,
    SECRET_KEY_MIN_LENGTH,
    SECRET_KEY_MIN_UNIQUE_CHARACTERS,
)
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.validators import validate_email

from configs.secret_files import SECRETS, read_secret_files

__all__ = [
    "SECRETS",
    "ConfigurationError",
    "Env",
    "read_environment",
    "read_secret_files",
]

# DRF's rate syntax: a count per second, minute, hour or day, e.g. 5/min.
RATE_PATTERN = re.compile(r"[1-9][0-9]*/(s|sec|second|m|min|minute|h|hour|d|day)")

# Variables renamed in keel 1.0 (see CHANGELOG.md): keel's own knobs carry KEEL_.
# An old name left in an environment is refused rather than silently ignored.
RENAMED = {
    "DJANGO_ENV_FILE": "KEEL_ENV_FILE",
    "DJANGO_AUTH_CACHE_SECONDS": "KEEL_AUTH_CACHE_SECONDS",
    "DJANGO_PASSWORD_CHECKS_PER_WORKER": "KEEL_PASSWORD_CHECKS_PER_WORKER",
    "DJANGO_ALLOW_REGISTRATION": "KEEL_ALLOW_REGISTRATION",
    "DJANGO_API_DOCS": "KEEL_API_DOCS",
    "DJANGO_LOGIN_IP_THROTTLE_RATE": "KEEL_LOGIN_IP_THROTTLE_RATE",
    "DJANGO_LOGIN_USERNAME_THROTTLE_RATE": "KEEL_LOGIN_USERNAME_THROTTLE_RATE",
    "DJANGO_REGISTER_THROTTLE_RATE": "KEEL_REGISTER_THROTTLE_RATE",
    "DB_WAIT_TIMEOUT": "KEEL_DB_WAIT_TIMEOUT",
    "WEB_WORKERS": "KEEL_WORKERS",
    "WEB_THREADS": "KEEL_THREADS",
    "WEB_SHUTDOWN_TIMEOUT": "KEEL_SHUTDOWN_TIMEOUT",
}

KEY_GENERATION_HINT = (
    "Generate one with: "
    "python -c 'import secrets; print(secrets.token_urlsafe(50))' (or run: make env)"
)


class ConfigurationError(ImproperlyConfigured):
    """Raised once, at start-up, with every configuration problem found."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(f"keel cannot start, fix the environment:\n{lines}")


def read_environment(
    environ: Mapping[str, str], env_file: Path | None
) -> dict[str, str]:
    """Return the variables of env_file overlaid with environ (which wins)."""
    values: dict[str, str] = {}
    if env_file is not None and env_file.is_file():
        values.update(
            {key: value or "" for key, value in dotenv_values(env_file).items()}
        )
    values.update(environ)
    return values


class Env:
    """Read and validate variables from one mapping, collecting problems."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values, self.problems = read_secret_files(values)

    def _raw(self, name: str) -> str:
        return self._values.get(name, "").strip()

    def text(self, name: str, default: str = "") -> str:
        return self._raw(name) or default

    def required(self, name: str, hint: str = "") -> str:
        value = self._raw(name)
        if not value:
            self.problems.append(f"{name} is not set. {hint}".strip())
        return value

    def signing_key(self, name: str, *, strong: bool) -> str:
        """Return a required key; when strong, also refuse one that is guessable."""
        value = self.required(name, hint=KEY_GENERATION_HINT)
        # Django's own deploy check's thresholds (security.W009), enforced early.
        weak = (
            len(value) < SECRET_KEY_MIN_LENGTH
            or len(set(value)) < SECRET_KEY_MIN_UNIQUE_CHARACTERS
            or value.startswith(SECRET_KEY_INSECURE_PREFIX)
        )
        if value and strong and weak:
            self.problems.append(
                f"{name} is too weak for production (DJANGO_DEBUG off): use at "
                f"least {SECRET_KEY_MIN_LENGTH} random characters, never a key "
                f"that starts {SECRET_KEY_INSECURE_PREFIX!r}. {KEY_GENERATION_HINT}"
            )
        return value

    def flag(self, name: str, default: bool = False) -> bool:
        """Return True for "1" and False for "0"; empty or unset gives default."""
        value = self._raw(name)
        if value == "":
            return default
        if value not in ("0", "1"):
            self.problems.append(
                f"{name} must be 1 (on) or 0 (off), or left empty; got {value!r}."
            )
            return default
        return value == "1"

    def integer(
        self, name: str, default: int, minimum: int = 0, maximum: int | None = None
    ) -> int:
        value = self._raw(name)
        if value == "":
            return default
        try:
            number = int(value)
        except ValueError:
            number = minimum - 1
        if number < minimum or (maximum is not None and number > maximum):
            upper = "" if maximum is None else f" and at most {maximum}"
            self.problems.append(
                f"{name} must be a whole number of at least {minimum}{upper};"
                f" got {value!r}."
            )
            return default
        return number

    def fraction(self, name: str, default: float) -> float:
        """Return a number from 0 to 1, such as a sample rate; empty gives default."""
        value = self._raw(name)
        if value == "":
            return default
        try:
            number = float(value)
        except ValueError:
            number = -1.0
        if not 0 <= number <= 1:
            self.problems.append(
                f"{name} must be a number from 0 to 1, e.g. 0.1; got {value!r}."
            )
            return default
        return number

    def choice(self, name: str, choices: tuple[str, ...], default: str) -> str:
        value = self._raw(name) or default
        if value not in choices:
            self.problems.append(
                f"{name} must be one of {', '.join(choices)}; got {value!r}."
            )
            return default
        return value

    def rate(self, name: str, default: str) -> str:
        """Return a throttle rate such as 5/min (DRF's syntax); empty gives default."""
        value = self._raw(name)
        if value == "":
            return default
        if not RATE_PATTERN.fullmatch(value):
            self.problems.append(
                f"{name} must be a rate: a whole number of at least 1, a slash and "
                f"s, min, hour or day (e.g. 5/min); got {value!r}."
            )
            return default
        return value

    def cron(self, name: str, default: str) -> str:
        """Return a five-field cron expression (UTC); empty gives default."""
        value = " ".join(self._raw(name).split()) or default
        if len(value.split()) != 5 or not croniter.is_valid(value):
            self.problems.append(
                f"{name} must be a cron expression of five fields, minute hour day "
                f"month weekday, in UTC (e.g. 5 3 * * * for 03:05 daily); got "
                f"{value!r}."
            )
            return default
        return value

    def csv(self, name: str) -> list[str]:
        """Return a comma-separated list with blanks trimmed and empty items dropped."""
        return [item.strip() for item in self._raw(name).split(",") if item.strip()]

    def origins(self, name: str) -> list[str]:
        """Return a list of origins, each a scheme and a host with no path."""
        origins = self.csv(name)
        for origin in origins:
            parts = urlsplit(origin)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                self.problems.append(
                    f"{name} has {origin!r}, which is not an origin: write it with "
                    "its scheme, e.g. https://app.example.com."
                )
            elif parts.path or parts.query or parts.fragment:
                self.problems.append(
                    f"{name} has {origin!r}, which has a path: an origin is only a "
                    "scheme, a host and an optional port, e.g. https://app.example.com."
                )
        return origins

    def url(self, name: str, default: str = "") -> str:
        """Return an http(s) URL with no query or fragment, without a final slash."""
        value = self._raw(name) or default
        if not value:
            return value
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            self.problems.append(
                f"{name} has {value!r}, which is not a URL: write it with its "
                "scheme, e.g. https://app.example.com."
            )
        elif parts.query or parts.fragment:
            self.problems.append(
                f"{name} has {value!r}: it takes no query (?) or fragment (#)."
            )
        return value.rstrip("/")

    def email_address(self, name: str, default: str) -> str:
        """Return an address, bare or as ``Name <address>``; empty gives default."""
        value = self._raw(name) or default
        address = value.rpartition("<")[2].removesuffix(">") if "<" in value else value
        try:
            validate_email(address.strip())
        except ValidationError:
            self.problems.append(
                f"{name} is {value!r}, which is not an email address "
                "(e.g. keel@example.com or Keel <keel@example.com>)."
            )
        return value

    def time_zone(self, name: str, default: str) -> str:
        value = self._raw(name) or default
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            self.problems.append(
                f"{name} is {value!r}, which is not a known time zone name "
                "(e.g. UTC or Asia/Ho_Chi_Minh)."
            )
            return default
        return value

    def refuse_renamed(self, renamed: Mapping[str, str]) -> None:
        """Record a problem for each old name that is set, naming its new one."""
        for old, new in renamed.items():
            if old in self._values:
                self.problems.append(
                    f"{old} was renamed {new}: rename it where it is set "
                    "(see CHANGELOG.md)."
                )

    def require_that(self, condition: bool, problem: str) -> None:
        """Record problem unless condition holds."""
        if not condition:
            self.problems.append(problem)

    def require_when(self, condition: bool, name: str, value: object, why: str) -> None:
        """Record name as missing when condition holds and value is empty."""
        if condition and not value:
            self.problems.append(f"{name} must be set {why}.")

    def raise_for_problems(self) -> None:
        if self.problems:
            raise ConfigurationError(self.problems)
