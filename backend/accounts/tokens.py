"""
The tokens keel issues: the API's JWTs, and the tokens in its email links.

The JWTs are Simple JWT's access and refresh tokens with their claims typed
strictly: a token is accepted only with claims of the types and ranges keel
itself writes. PyJWT checks the signature and, loosely, the times (it takes
any value int() takes); here ``user_id`` 1.0, " 1" or true is not user 1, and
an ``exp`` of "9999999999" or 10**20 is a 401, not a 500 further on.

The link tokens (password reset, email verification and email change) are
each Django's PasswordResetTokenGenerator (an HMAC of the user's state and a
timestamp, keyed by SECRET_KEY), so nothing is stored: a token stops working
when the state it hashes changes, or when it is older than its timeout. Each
kind has its own key salt, so that one kind's token is never another's.
"""

import re
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.utils.crypto import constant_time_compare
from django.utils.encoding import force_bytes, force_str
from django.utils.http import (
    base36_to_int,
    urlsafe_base64_decode,
    urlsafe_base64_encode,
)
from django.utils.translation import gettext_lazy as _
from rest_framework_simplejwt import tokens as simplejwt
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings

from accounts.models import User

# What keel writes: Simple JWT writes the user's id (a BigAutoField) as a
# string, in decimal digits with no sign, space or leading zero, within a
# bigint (a larger one would be a database error); times are whole seconds
# that a datetime can hold; a token's id is a uuid4's hex, which fits the
# blacklist's column. int() and the database take far more: " 1", "+1", "01"
# and "\uff11" (a full-width one) are all 1 to them.
MAX_USER_ID = 2**63 - 1
MAX_EPOCH = 253_402_300_799  # 9999-12-31T23:59:59Z
USER_ID = re.compile(r"[1-9][0-9]{0,18}", re.ASCII)
JTI = re.compile(r"[0-9a-f]{32}")


def _is_user_id(value: object) -> bool:
    return (
        isinstance(value, str)
        and USER_ID.fullmatch(value) is not None
        and int(value) <= MAX_USER_ID
    )


def _is_integer(value: object, minimum: int, maximum: int) -> bool:
    # bool is an int to Python; true is no id and no time.
    return (
        isinstance(value, int)
        and not isinstance(value, bool)
        and minimum <= value <= maximum
    )


def malformed_claim(payload: dict[str, Any]) -> str | None:
    """Return the name of the first claim keel would not have written, or None."""
    checks: dict[str, Callable[[object], bool]] = {
        api_settings.USER_ID_CLAIM: _is_user_id,
        "exp": lambda v: _is_integer(v, 0, MAX_EPOCH),
        "iat": lambda v: _is_integer(v, 0, MAX_EPOCH),
        api_settings.JTI_CLAIM: lambda v: isinstance(v, str) and bool(JTI.fullmatch(v)),
        api_settings.TOKEN_TYPE_CLAIM: lambda v: isinstance(v, str),
    }
    for claim, valid in checks.items():
        if claim not in payload or not valid(payload[claim]):
            return str(claim)
    return None


class StrictClaimsMixin:
    """Refuse a token whose claims are not typed as keel writes them."""

    payload: dict[str, Any]

    def verify(self) -> None:
        # Before Simple JWT's own checks, which would act on the values (a
        # blacklist query with the jti, a datetime from exp).
        claim = malformed_claim(self.payload)
        if claim is not None:
            raise TokenError(_("Token has a malformed '%s' claim") % claim)
        super().verify()  # type: ignore[misc]


class AccessToken(StrictClaimsMixin, simplejwt.AccessToken):
    pass


# Simple JWT's own RefreshToken has the same clash of for_user's types.
class RefreshToken(StrictClaimsMixin, simplejwt.RefreshToken):  # type: ignore[misc]
    # The access token a refresh token makes is keel's too.
    access_token_class = AccessToken


class PasswordResetTokens(PasswordResetTokenGenerator):
    """
    Django's own reset token: it hashes the password and last_login, so it works
    once (the reset sets a new password) and fails after any password change;
    it expires after PASSWORD_RESET_TIMEOUT (DJANGO_PASSWORD_RESET_TIMEOUT).
    """

    key_salt = "keel.accounts.tokens.PasswordResetTokens"


class EmailTokens(PasswordResetTokenGenerator):
    """A link token that expires after KEEL_EMAIL_TOKEN_TIMEOUT."""

    def check_token(self, user: Any, token: str | None) -> bool:
        # Django's check_token, with this kind's timeout instead of
        # PASSWORD_RESET_TIMEOUT (which it reads directly).
        if not (user and token):
            return False
        try:
            timestamp = base36_to_int(token.split("-", 1)[0])
        except ValueError:
            return False
        if not any(
            constant_time_compare(
                self._make_token_with_timestamp(user, timestamp, secret), token
            )
            for secret in [self.secret, *self.secret_fallbacks]
        ):
            return False
        age = self._num_seconds(self._now()) - timestamp
        return bool(age <= settings.KEEL["EMAIL_TOKEN_TIMEOUT"])


class EmailVerificationTokens(EmailTokens):
    """Works while the address it was sent to is unverified and unchanged."""

    key_salt = "keel.accounts.tokens.EmailVerificationTokens"

    def _make_hash_value(self, user: Any, timestamp: int) -> str:
        return f"{user.pk}{user.email}{user.email_verified}{timestamp}"


class EmailChangeTokens(EmailTokens):
    """Works while the pending address it was sent to is still the pending one."""

    key_salt = "keel.accounts.tokens.EmailChangeTokens"

    def _make_hash_value(self, user: Any, timestamp: int) -> str:
        return f"{user.pk}{user.email}{user.pending_email}{timestamp}"


password_reset_tokens = PasswordResetTokens()
email_verification_tokens = EmailVerificationTokens()
email_change_tokens = EmailChangeTokens()


def uid_for(user: User) -> str:
    return urlsafe_base64_encode(force_bytes(user.pk))


def user_for_uid(uid: str) -> User | None:
    """Return the active user uid names, or None for a bad or unknown uid."""
    try:
        pk = int(force_str(urlsafe_base64_decode(uid)))
    except (ValueError, TypeError, OverflowError, UnicodeDecodeError):
        return None
    return User.objects.filter(pk=pk, is_active=True).first()
