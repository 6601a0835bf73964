"""
Reads for accounts: the user a token still speaks for.

With Redis (REDIS_URL), authenticating a request reads its user from Django's
cache, which every worker shares, not from PostgreSQL: accounts.signals drops
the entry whenever a user is saved or deleted, and the User QuerySet's update()
does too, so a deactivation or a password change takes effect on the next
request; only SQL that bypasses the ORM waits KEEL["AUTH_CACHE_SECONDS"].
Without Redis that setting is 0 (settings refuse more): a cache in a worker's
own memory could not be dropped by the others, so the user is read from
PostgreSQL on every request.

The cache holds only what authentication needs: the user's fields without
the password hash, and the digest of that hash a token is checked against
(which every token carries anyway). A leaked cache entry gives no hash to
crack; code that reads ``user.password`` from the user so returned (a password
change checks the old one) loads it from PostgreSQL then, as Django does for
any deferred field.
"""

import functools
import hashlib
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
        user, password_digest = user_get_cached(
            user_id=token[api_settings.USER_ID_CLAIM]
        )
    except (KeyError, ValueError, TypeError, User.DoesNotExist) as error:
        raise InvalidToken() from error
    digest = token.get(api_settings.REVOKE_TOKEN_CLAIM)
    if not (
        user.is_active
        and isinstance(digest, str)
        and hmac.compare_digest(digest, password_digest)
    ):
        raise InvalidToken()
    return user


@functools.cache
def cached_fields() -> tuple[str, ...]:
    """Return the names of the user's fields the cache keeps: all but the hash."""
    return tuple(
        field.attname
        for field in User._meta.concrete_fields
        if field.attname != "password"
    )


@functools.cache
def _fields_version() -> str:
    # Entries are bare values in cached_fields' order; a migration that changes
    # the fields changes the keys, so no entry is read in the wrong layout.
    names = ",".join(cached_fields()).encode()
    return hashlib.sha256(names).hexdigest()[:8]


def user_cache_key(user_id: object) -> str:
    return f"keel:auth-user:{_fields_version()}:{user_id}"


def user_get_cached(*, user_id: object) -> tuple[User, str]:
    """
    Return the user with this id and the digest of their password hash.

    From the cache when it holds them, else from the database (and then
    cached); the user comes without the hash itself (a deferred field).
    """
    lifetime = settings.KEEL["AUTH_CACHE_SECONDS"]
    key = user_cache_key(user_id)
    entry: tuple[tuple[object, ...], str] | None = cache.get(key) if lifetime else None
    if entry is None:
        user = User.objects.get(**{api_settings.USER_ID_FIELD: user_id})
        password_digest = get_md5_hash_password(user.password)
        if lifetime:
            values = tuple(getattr(user, name) for name in cached_fields())
            cache.set(key, (values, password_digest), timeout=lifetime)
        return user, password_digest
    values, password_digest = entry
    # from_db marks the fields it is not given as deferred: the password.
    user = User.from_db(User.objects.db, list(cached_fields()), list(values))
    return user, password_digest


def users_for_email(*, email: str) -> list[User]:
    """
    Return the active users with this address, in any case.

    An address belongs to one account at most (a unique index on lower(email));
    a list, as Django's own password reset has it.
    """
    return list(User.objects.filter(email__iexact=email, is_active=True))
