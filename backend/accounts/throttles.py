"""
Throttles for the endpoints that check a password or create an account.

All state lives in Django's cache (Redis when REDIS_URL is set), so every worker
counts against the same limits. The client IP is DRF's ``get_ident``: the
socket's address unless ``NUM_PROXIES`` (DJANGO_NUM_PROXIES) trusted proxies
stand in front, so a forged X-Forwarded-For header changes nothing.
"""

import hashlib
import unicodedata
from typing import cast

from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from accounts.guesses import record_guess


class LiveRateThrottle(SimpleRateThrottle):
    """Read the rate from settings when the throttle is made, not at import."""

    # SimpleRateThrottle.__init__ sets these from the rate; the stubs omit them.
    num_requests: int
    duration: int

    def get_rate(self) -> str | None:
        self.THROTTLE_RATES = cast(
            dict[str, str | None], api_settings.DEFAULT_THROTTLE_RATES
        )
        return super().get_rate()


class PasswordGuessThrottle(LiveRateThrottle):
    """
    Limit failed password checks per key to the scope's rate.

    Each attempt is counted before the password is checked, with an atomic
    increment, so that parallel guesses cannot all pass before the first failure
    is recorded; the view refunds the attempt when the password was right, so
    only failures count (accounts.guesses). The count expires one period after
    the attempt that opened it.
    """

    def key_for(self, request: Request) -> str | None:
        raise NotImplementedError

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        ident = self.key_for(request)
        if ident is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def allow_request(self, request: Request, view: APIView) -> bool:
        if self.rate is None or request.method != "POST":
            # Only a POST checks a password on these views: an OPTIONS or a GET
            # (405) guessed nothing, so it must not count towards a lockout.
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        record_guess(request, self.cache, self.key)
        if self.cache.add(self.key, 1, self.duration):
            self.cache.set(f"{self.key}_opened", self.now, self.duration)
            return True
        try:
            count = self.cache.incr(self.key)
        except ValueError:
            # The count expired between add() and incr(): this attempt is the first.
            self.cache.set(self.key, 1, self.duration)
            count = 1
        return bool(count <= self.num_requests)

    def wait(self) -> float:
        opened = self.cache.get(f"{self.key}_opened", self.now)
        return float(max(opened + self.duration - self.now, 1))


class PasswordGuessIpThrottle(PasswordGuessThrottle):
    scope = "login_ip"

    def key_for(self, request: Request) -> str | None:
        ident: str | None = self.get_ident(request)
        return ident


class PasswordGuessUsernameThrottle(PasswordGuessThrottle):
    """
    Key on the account whose password is guessed: the signed-in user's, or the
    username in the body. Usernames are trimmed, NFKC-normalized and case-folded,
    so that spelling variants of one name share one count, and hashed, so that
    any length makes a short cache key.
    """

    scope = "login_username"

    def key_for(self, request: Request) -> str | None:
        if request.user and request.user.is_authenticated:
            username: object = request.user.get_username()
        else:
            data = request.data
            username = data.get("username") if isinstance(data, dict) else None
        return username_key(username)


class AdminPasswordGuessUsernameThrottle(PasswordGuessUsernameThrottle):
    """The same count, keyed on the username of the admin's login form."""

    def key_for(self, request: Request) -> str | None:
        # The form's own field, from Django's request, so that neither DRF's
        # parsers nor its authentication run on the admin's request.
        return username_key(request._request.POST.get("username"))


def username_key(username: object) -> str | None:
    """Return the count's key for a guessed username, or None for no username."""
    if isinstance(username, bool) or not isinstance(username, str | int | float):
        return None  # The serializer or form rejects it before any password check.
    normalized = unicodedata.normalize("NFKC", str(username).strip()).casefold()
    return hashlib.sha256(normalized.encode()).hexdigest()


class RegisterThrottle(LiveRateThrottle):
    """Limit account creation attempts per client IP."""

    scope = "register"

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        return self.cache_format % {
            "scope": self.scope,
            "ident": self.get_ident(request),
        }
