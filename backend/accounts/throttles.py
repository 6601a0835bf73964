"""
Throttles for the endpoints that check a password or create an account.

All state lives in Django's cache (Redis when REDIS_URL is set), so every worker
counts against the same limits. The client IP is DRF's ``get_ident``: the
socket's address unless ``NUM_PROXIES`` (DJANGO_NUM_PROXIES) trusted proxies
stand in front, so a forged X-Forwarded-For header changes nothing.
"""

import contextlib
import hashlib
import threading
import unicodedata
from collections.abc import Iterator
from typing import Any, cast

from django.conf import settings
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

# The request attribute listing the (cache, key) counts it added.
COUNTED_GUESSES = "_keel_counted_password_guesses"


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
    only failures count. The count expires one period after the attempt that
    opened it.
    """

    def key_for(self, request: Request) -> str | None:
        raise NotImplementedError

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        ident = self.key_for(request)
        if ident is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def allow_request(self, request: Request, view: APIView) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        # Remember what this request counted, so that a refund undoes exactly that.
        counted = getattr(request, COUNTED_GUESSES, None)
        if counted is None:
            counted = []
            setattr(request, COUNTED_GUESSES, counted)
        counted.append((self.cache, self.key))
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
            username: Any = request.user.get_username()
        else:
            data = request.data
            username = data.get("username") if isinstance(data, dict) else None
        if isinstance(username, bool) or not isinstance(username, str | int | float):
            return None  # The serializer rejects it before any password is checked.
        normalized = unicodedata.normalize("NFKC", str(username).strip()).casefold()
        return hashlib.sha256(normalized.encode()).hexdigest()


def refund_password_guess(request: Request, view: APIView) -> None:
    """Uncount what the password-guess throttles counted for request, once."""
    for cache, key in getattr(request, COUNTED_GUESSES, None) or []:
        # A ValueError means the count has expired already: nothing to refund.
        with contextlib.suppress(ValueError):
            if cache.decr(key) <= 0:
                # Leave nothing behind: requests that guessed nothing must not
                # fill a local-memory cache until it evicts the real counts.
                cache.delete_many([key, f"{key}_opened"])
    setattr(request, COUNTED_GUESSES, [])


class RefundGuessOnBadInput:
    """
    Mixin for views behind the password-guess throttles: a request whose body
    is malformed or invalid checked no password, so it is not a guess.

    The throttles count before the view runs (so that parallel guesses cannot
    slip through); this uncounts requests that never reached a password check.
    A wrong password is a Django ValidationError raised by a service, and stays
    counted.
    """

    def handle_exception(self, exc: Exception) -> Response:
        bad_input = (
            exceptions.ValidationError,
            exceptions.ParseError,
            exceptions.UnsupportedMediaType,
        )
        if isinstance(exc, bad_input):
            view = cast(APIView, self)
            refund_password_guess(view.request, view)
        response: Response = super().handle_exception(exc)  # type: ignore[misc]
        return response


class RegisterThrottle(LiveRateThrottle):
    """Limit account creation attempts per client IP."""

    scope = "register"

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        return self.cache_format % {
            "scope": self.scope,
            "ident": self.get_ident(request),
        }


class PasswordChecksBusy(exceptions.APIException):
    status_code = 503
    default_detail = "Too many sign-ins at once; try again in a moment."
    default_code = "password_checks_busy"


_password_slots: tuple[int, threading.BoundedSemaphore] | None = None
_password_slots_lock = threading.Lock()


def password_check_slots() -> threading.BoundedSemaphore:
    """Return this process's slots, made anew if the setting changed."""
    global _password_slots
    size = int(settings.KEEL["PASSWORD_CHECKS_PER_WORKER"])
    with _password_slots_lock:
        if _password_slots is None or _password_slots[0] != size:
            _password_slots = (size, threading.BoundedSemaphore(size))
        return _password_slots[1]


@contextlib.contextmanager
def password_check_slot(request: Request, view: APIView) -> Iterator[None]:
    """
    Hold one of this worker process's password-check slots, or answer 503.

    A password check takes a request thread for a quarter of a second or more
    (PBKDF2, by design). Capping how many run at once in a worker keeps its
    other threads serving the rest of the API during a burst of logins; a
    login that finds no free slot is refunded its guess and told to retry.
    """
    slots = password_check_slots()
    if not slots.acquire(blocking=False):
        refund_password_guess(request, view)
        raise PasswordChecksBusy()
    try:
        yield
    finally:
        slots.release()
