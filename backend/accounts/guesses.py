"""
Which password guesses a request was counted for, and the refund of them.

The password-guess throttles (accounts.throttles) count an attempt before the
password is checked; a request that turns out to check no password (bad
input, no free password-check slot) or the right one is refunded here, so
that only wrong passwords count.
"""

import contextlib
from typing import cast

from django.core.cache import BaseCache
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

# The request attribute listing the (cache, key) counts it added.
COUNTED_GUESSES = "_keel_counted_password_guesses"


def record_guess(request: Request, cache: BaseCache, key: str) -> None:
    """Remember that request was counted under key, so a refund undoes exactly that."""
    counted = getattr(request, COUNTED_GUESSES, None)
    if counted is None:
        counted = []
        setattr(request, COUNTED_GUESSES, counted)
    counted.append((cache, key))


def refund_password_guess(request: Request) -> None:
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
            refund_password_guess(cast(APIView, self).request)
        response: Response = super().handle_exception(exc)  # type: ignore[misc]
        return response
