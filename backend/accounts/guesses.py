"""
Which password guesses a request was counted for, and the refund of them.

The password-guess throttles (accounts.throttles) count an attempt before the
password is checked; a request that turns out to check no password (bad
input) or the right one is refunded here, so that only wrong passwords count;
one refused a password-check slot is refunded all but its address's count.
"""

from typing import cast

from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.counts import uncount_attempt

# The request attribute listing the keys it was counted under.
COUNTED_GUESSES = "_keel_counted_password_guesses"


def record_guess(request: Request, key: str) -> None:
    """Remember that request was counted under key, so a refund undoes exactly that."""
    counted = getattr(request, COUNTED_GUESSES, None)
    if counted is None:
        counted = []
        setattr(request, COUNTED_GUESSES, counted)
    counted.append(key)


def refund_password_guess(request: Request, *, keep: str | None = None) -> None:
    """Uncount what the password-guess throttles counted for request, once;
    the count under key keep, if any, stays."""
    for key in getattr(request, COUNTED_GUESSES, None) or []:
        if key != keep:
            uncount_attempt(key=key)
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
            refund_password_guess(cast(APIView, self).request)
        response: Response = super().handle_exception(exc)  # type: ignore[misc]
        return response
