"""
The tokens in keel's email links: password reset, email verification and
email change.

Each is Django's PasswordResetTokenGenerator (an HMAC of the user's state and a
timestamp, keyed by SECRET_KEY), so nothing is stored: a token stops working
when the state it hashes changes, or when it is older than its timeout. Each
kind has its own key salt, so that one kind's token is never another's.
"""

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

from accounts.models import User


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
