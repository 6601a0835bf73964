"""Reads for accounts: the user a token still speaks for."""

import hmac

from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import Token
from rest_framework_simplejwt.utils import get_md5_hash_password

from accounts.models import User


def user_for_token(*, token: Token) -> User:
    """
    Return the user token was issued to, if the token still speaks for them.

    Raise InvalidToken when that user was deleted or deactivated, or changed
    their password after the token was issued: with ``CHECK_REVOKE_TOKEN`` every
    token carries a digest of its user's password hash, and a new password (or
    an unusable one) is a new hash. The same answer for every case tells a
    token's holder nothing about the account.
    """
    try:
        user = User.objects.get(
            **{api_settings.USER_ID_FIELD: token[api_settings.USER_ID_CLAIM]}
        )
    except (KeyError, ValueError, User.DoesNotExist) as error:
        raise InvalidToken() from error
    digest = token.get(api_settings.REVOKE_TOKEN_CLAIM)
    if not (
        user.is_active
        and isinstance(digest, str)
        and hmac.compare_digest(digest, get_md5_hash_password(user.password))
    ):
        raise InvalidToken()
    return user
