"""accounts.selectors, called directly: who a token still speaks for."""

import pytest

from django.core.cache import cache
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.tokens import AccessToken
from rest_framework_simplejwt.utils import get_md5_hash_password

from accounts.selectors import user_cache_key, user_for_token, user_get_cached

pytestmark = pytest.mark.django_db


def test_user_for_token_returns_the_tokens_user(user):
    assert user_for_token(token=AccessToken.for_user(user)) == user


def deactivate(user):
    user.is_active = False
    user.save()


def change_password(user):
    user.set_password("another long passphrase")
    user.save()


def make_password_unusable(user):
    user.set_unusable_password()
    user.save()


REVOCATIONS = {
    "deleted": lambda user: user.delete(),
    "deactivated": deactivate,
    "new password": change_password,
    "unusable password": make_password_unusable,
}


@pytest.mark.parametrize("revoke", REVOCATIONS.values(), ids=REVOCATIONS.keys())
def test_user_for_token_refuses_a_token_its_user_no_longer_backs(user, revoke):
    token = AccessToken.for_user(user)
    revoke(user)
    with pytest.raises(InvalidToken):
        user_for_token(token=token)


@pytest.mark.parametrize("claim", ["user_id", "hash_password"])
def test_user_for_token_refuses_a_token_without_its_claims(user, claim):
    token = AccessToken.for_user(user)
    del token[claim]
    with pytest.raises(InvalidToken):
        user_for_token(token=token)


def test_user_get_cached_reads_the_database_once(
    user, settings, django_assert_num_queries
):
    settings.KEEL = {**settings.KEEL, "AUTH_CACHE_SECONDS": 60}  # as with Redis
    digest = get_md5_hash_password(user.password)
    with django_assert_num_queries(1):
        assert user_get_cached(user_id=user.pk) == (user, digest)
    with django_assert_num_queries(0):
        cached, cached_digest = user_get_cached(user_id=user.pk)
    assert (cached, cached_digest) == (user, digest)
    assert cached.username == user.username
    # What the cache holds: the fields but the hash, and the hash's digest.
    values, stored_digest = cache.get(user_cache_key(user.pk))
    assert stored_digest == digest
    assert user.password not in values


def test_user_get_cached_caches_nothing_with_a_lifetime_of_zero(
    user, settings, django_assert_num_queries
):
    settings.KEEL = {**settings.KEEL, "AUTH_CACHE_SECONDS": 0}
    for _ in range(2):
        with django_assert_num_queries(1):
            user_get_cached(user_id=user.pk)
    assert cache.get(user_cache_key(user.pk)) is None
