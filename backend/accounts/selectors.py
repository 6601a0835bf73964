"""
Reads for accounts: the user a token still speaks for.

Authenticating a request reads its user from Django's cache, not from
PostgreSQL: accounts.signals drops the entry whenever a user is saved or
deleted, so a deactivation or a password change takes effect on the next
request. With Redis (REDIS_URL) the cache is shared by every worker; without
it each process has its own, and another worker's copy lives at most
KEEL["AUTH_CACHE_SECONDS"] (5 s by default).
"""

import hmac

from django.conf import settings
from django.core.cache import cache
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
        user = user_get_cached(user_id=token[api_settings.USER_ID_CLAIM])
    except (KeyError, ValueError, TypeError, User.DoesNotExist) as error:
        raise InvalidToken() from error
    digest = token.get(api_settings.REVOKE_TOKEN_CLAIM)
    if not (
        user.is_active
        and isinstance(digest, str)
        and hmac.compare_digest(digest, get_md5_hash_password(user.password))
    ):
        raise InvalidToken()
    return user


def user_cache_key(user_id: object) -> str:
    return f"keel:auth-user:{user_id}"


def user_get_cached(*, user_id: object) -> User:
    """Return the user with this id from the cache, or from the database."""
    lifetime = settings.KEEL["AUTH_CACHE_SECONDS"]
    key = user_cache_key(user_id)
    user = cache.get(key) if lifetime else None
    if user is None:
        user = User.objects.get(**{api_settings.USER_ID_FIELD: user_id})
        if lifetime:
            cache.set(key, user, timeout=lifetime)
    return user


def users_for_email(*, email: str) -> list[User]:
    """
    Return the active users with this address, in any case.

    The address is not unique, so every account that has it is returned, as
    Django's own password reset does.
    """
    return list(User.objects.filter(email__iexact=email, is_active=True))
