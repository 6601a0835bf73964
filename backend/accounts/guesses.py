"""
Which password guesses a request was counted for, and the refund of them.

The password-guess throttles (accounts.throttles) count an attempt before the
password is checked; a request that turns out to check no password (bad
input) or the right one is refunded here, so that only wrong passwords count.
A refused one checked no password either, and is counted against its address
only, so that refusals cannot be had for free while a flood from one address
locks out that address and not the accounts it names:
- a 429 is counted up to the first throttle that refuses it and no further
  (RefundGuessOnBadInput.check_throttles): under its address, and under its
  username only when that count refused it, past its limit already, where
  one more changes nothing and the worker keeps remembering the key;
- a 503, for want of a password-check slot, passed both and is refunded all
  but its address's count.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeVar, cast

from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from accounts.counts import uncount_attempt

Throttle = TypeVar("Throttle", bound=BaseThrottle)

# The request attribute listing the counts it was counted in.
COUNTED_GUESSES = "_keel_counted_password_guesses"


@dataclass(frozen=True)
class Counted:
    """One count a request was counted in: its key, and which window of it."""

    key: str
    closes_at: float
    period: int
    # Whether it is a count per client address.
    per_address: bool

    def refund(self) -> None:
        uncount_attempt(key=self.key, closes_at=self.closes_at, period=self.period)


def record_guess(request: Request, counted: Counted) -> None:
    """Remember that request was counted there, so a refund undoes exactly that."""
    recorded = getattr(request, COUNTED_GUESSES, None)
    if recorded is None:
        recorded = []
        setattr(request, COUNTED_GUESSES, recorded)
    recorded.append(counted)


def _counted(request: Request) -> list[Counted]:
    """Return what request was counted in, and forget it: a refund is once."""
    recorded: list[Counted] = getattr(request, COUNTED_GUESSES, None) or []
    setattr(request, COUNTED_GUESSES, [])
    return recorded


def refund_password_guess(request: Request) -> None:
    """Uncount what the password-guess throttles counted for request, once."""
    for counted in _counted(request):
        counted.refund()


def refund_refused_guess(request: Request) -> None:
    """Uncount a refused request, once, but for its count per client address."""
    for counted in _counted(request):
        if not counted.per_address:
            counted.refund()


def first_refusal(
    throttles: Iterable[Throttle], request: Request, view: APIView | None
) -> Throttle | None:
    """
    Return the first of throttles that refuses request, asking none after it.

    DRF asks every throttle; stopping at the first refusal means a request the
    address's limit refused never reads its body for a username nor counts
    under it: a flood from a locked-out address costs one lookup in the
    worker's memory. Its Retry-After is that first refusal's wait, and a later
    one may follow it.
    """
    for throttle in throttles:
        if not throttle.allow_request(request, view):  # type: ignore[arg-type]
            return throttle
    return None


class RefundGuessOnBadInput:
    """
    Mixin for views behind the password-guess throttles: a request whose body
    is malformed or invalid checked no password, so it is not a guess.

    The throttles count before the view runs (so that parallel guesses cannot
    slip through); this uncounts requests that never reached a password check.
    A wrong password is a Django ValidationError raised by a service, and stays
    counted. A request the throttles refused stays as far as they counted it.
    """

    def check_throttles(self, request: Request) -> None:
        view = cast(APIView, self)
        refusing = first_refusal(view.get_throttles(), request, view)
        if refusing is not None:
            # None (no known wait) is what DRF's own passes, too.
            view.throttled(request, refusing.wait())  # type: ignore[arg-type]

    def handle_exception(self, exc: Exception) -> Response:
        bad_input = (
            exceptions.ValidationError,
            exceptions.ParseError,
            exceptions.UnsupportedMediaType,
        )
        if isinstance(exc, bad_input):
            refund_password_guess(cast(APIView, self).request)
        response: Response = super().handle_exception(exc)  # type: ignore[misc]
        return response
