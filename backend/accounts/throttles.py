"""
Throttles for the endpoints that check a password, create an account or spend
a refresh token.

Every count lives where every worker and replica sees it (accounts.counts:
PostgreSQL, or Redis when REDIS_URL is set), and is taken atomically before
the request goes on, so a limit holds exactly however many processes serve.
The client IP is DRF's ``get_ident``: the socket's address unless
``NUM_PROXIES`` (DJANGO_NUM_PROXIES) trusted proxies stand in front, so a
forged X-Forwarded-For header changes nothing.
"""

import hashlib
import time
import unicodedata
from typing import cast

from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings

from accounts.counts import count_attempt, remember_over_limit, remembered_over_limit
from accounts.guesses import Counted, record_guess
from accounts.tokens import RefreshToken


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


class CountedThrottle(LiveRateThrottle):
    """
    Count each POST under its key, atomically and before the view runs; let it
    through while the count is within the scope's rate.

    A count opens with the first attempt and closes one period later
    (accounts.counts); a key just found over its limit is refused from this
    process's memory for a moment, uncounted. Only a POST counts: an OPTIONS
    or a GET (405) on these views does nothing, so it must not use up anyone's
    allowance.
    """

    closes_at: float

    def key_for(self, request: Request, view: APIView) -> str | None:
        """Return what the count is per (an address, a user...), or None: no limit."""
        raise NotImplementedError

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        ident = self.key_for(request, view)
        if ident is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def allow_request(self, request: Request, view: APIView) -> bool:
        if self.rate is None or request.method != "POST":
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        closes_at = remembered_over_limit(self.key)
        if closes_at is not None:
            self.closes_at = closes_at
            return False
        count, self.closes_at = count_attempt(key=self.key, period=self.duration)
        self.counted(request, self.key)
        if count > self.num_requests:
            remember_over_limit(self.key, self.closes_at)
            return False
        return True

    def counted(self, request: Request, key: str) -> None:
        """Called once request is counted under key; self.closes_at says which count."""

    def wait(self) -> float:
        return float(max(self.closes_at - time.time(), 1))


class PasswordGuessThrottle(CountedThrottle):
    """
    Limit failed password checks per key to the scope's rate.

    Each attempt is counted before the password is checked, so that parallel
    guesses cannot all pass before the first failure is recorded; the view
    refunds the attempt when the password was right, so only failures count
    (accounts.guesses).
    """

    # Whether the key is the client's address (a refusal stays counted there).
    per_address = False

    def counted(self, request: Request, key: str) -> None:
        record_guess(
            request, Counted(key, self.closes_at, self.duration, self.per_address)
        )


class PasswordGuessIpThrottle(PasswordGuessThrottle):
    scope = "login_ip"
    per_address = True

    def key_for(self, request: Request, view: APIView) -> str | None:
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

    def key_for(self, request: Request, view: APIView) -> str | None:
        if request.user and request.user.is_authenticated:
            username: object = request.user.get_username()
        else:
            data = request.data
            username = data.get("username") if isinstance(data, dict) else None
        return username_key(username)


class AdminPasswordGuessUsernameThrottle(PasswordGuessUsernameThrottle):
    """The same count, keyed on the username of the admin's login form."""

    def key_for(self, request: Request, view: APIView) -> str | None:
        # The form's own field, from Django's request, so that neither DRF's
        # parsers nor its authentication run on the admin's request.
        return username_key(request._request.POST.get("username"))


def username_key(username: object) -> str | None:
    """Return the count's key for a guessed username, or None for no username."""
    if isinstance(username, bool) or not isinstance(username, str | int | float):
        return None  # The serializer or form rejects it before any password check.
    normalized = unicodedata.normalize("NFKC", str(username).strip()).casefold()
    return hashlib.sha256(normalized.encode()).hexdigest()


class RegisterThrottle(CountedThrottle):
    """Limit account creation attempts per client IP, each one counted."""

    scope = "register"

    def key_for(self, request: Request, view: APIView) -> str | None:
        ident: str | None = self.get_ident(request)
        return ident


class RefreshThrottle(CountedThrottle):
    """
    Limit refreshes per user: the user id inside the refresh token.

    Each refresh spends its token and issues the next, writing two rows of
    Simple JWT's tables, so a client looping on its own chain would fill them.
    Only a token whose signature verifies is counted, so that no one can use
    up another user's allowance by forging their id; an invalid token is
    refused by the view (401) and writes nothing.
    """

    scope = "refresh"

    def key_for(self, request: Request, view: APIView) -> str | None:
        data = request.data
        raw = data.get("refresh") if isinstance(data, dict) else None
        if not isinstance(raw, str):
            return None
        try:
            # keel's token: a claim of the wrong type is no user id to count.
            token = RefreshToken(raw)  # type: ignore[arg-type]
        except TokenError:
            return None
        user_id = token.get(jwt_settings.USER_ID_CLAIM)
        return None if user_id is None else str(user_id)
