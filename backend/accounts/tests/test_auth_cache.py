"""Authentication reads its user from the cache, and every change drops it."""

import pytest

from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from accounts.selectors import user_cache_key
from accounts.tests.factories import ME_URL, bearer

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _auth_cache_on(settings):
    """Cache users as with Redis; in one process local memory stands in for it."""
    settings.KEEL = {**settings.KEEL, "AUTH_CACHE_SECONDS": 60}


def queries_of_me(access):
    with CaptureQueriesContext(connection) as queries:
        response = bearer(access).get(ME_URL)
    assert response.status_code == 200
    return len(queries)


def test_an_authenticated_request_reads_no_database_once_cached(tokens):
    assert queries_of_me(tokens["access"]) == 1
    assert queries_of_me(tokens["access"]) == 0


def test_deactivation_locks_tokens_out_despite_a_warm_cache(user, tokens):
    queries_of_me(tokens["access"])
    user.is_active = False
    user.save()
    assert bearer(tokens["access"]).get(ME_URL).status_code == 401


def test_deletion_locks_tokens_out_despite_a_warm_cache(user, tokens):
    queries_of_me(tokens["access"])
    user.delete()
    assert bearer(tokens["access"]).get(ME_URL).status_code == 401


def test_an_update_through_me_is_seen_by_the_next_request(tokens):
    client = bearer(tokens["access"])
    client.get(ME_URL)
    client.patch(ME_URL, {"first_name": "Ada"}, format="json")
    assert client.get(ME_URL).json()["first_name"] == "Ada"


def test_the_cache_can_be_turned_off(tokens, settings):
    settings.KEEL = {**settings.KEEL, "AUTH_CACHE_SECONDS": 0}
    assert queries_of_me(tokens["access"]) == 1
    assert queries_of_me(tokens["access"]) == 1


def test_every_worker_sees_a_deactivation_through_redis(user, redis_cache):
    from django.core.cache import caches
    from rest_framework.test import APIClient

    from accounts.tests.factories import login

    client, prefix = redis_cache
    access = login(APIClient()).json()["access"]
    queries_of_me(access)
    assert client.exists(f"{prefix}:1:{user_cache_key(user.pk)}")
    user.is_active = False
    user.save()
    assert not client.exists(f"{prefix}:1:{user_cache_key(user.pk)}")
    # Another worker holds no memory of its own, only what Redis has.
    caches.close_all()
    del caches["default"]
    assert bearer(access).get(ME_URL).status_code == 401


class UserProxy(User):
    """A proxy of User, as an app may declare: saving it sends UserProxy."""

    class Meta:
        proxy = True
        app_label = "accounts"


def test_a_save_or_delete_through_a_proxy_model_drops_the_entry(user, tokens):
    from django.contrib.auth.models import Group
    from django.core.cache import cache

    queries_of_me(tokens["access"])
    assert cache.get(user_cache_key(user.pk)) is not None
    proxy = UserProxy.objects.get(pk=user.pk)
    proxy.is_active = False
    proxy.save()
    assert cache.get(user_cache_key(user.pk)) is None
    assert bearer(tokens["access"]).get(ME_URL).status_code == 401
    # Another model's row with the same primary key leaves the entry alone.
    cache.set(user_cache_key(user.pk), user)
    Group.objects.create(pk=user.pk, name="same pk")
    assert cache.get(user_cache_key(user.pk)) is not None
    proxy.delete()
    assert cache.get(user_cache_key(user.pk)) is None


def test_a_save_stands_when_the_cache_cannot_be_reached(user, monkeypatch):
    from django.core.cache.backends.locmem import LocMemCache

    def unreachable(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(LocMemCache, "delete", unreachable)
    user.first_name = "Saved"
    user.save()
    user.refresh_from_db()
    assert user.first_name == "Saved"


def test_an_unreachable_redis_is_a_json_503_not_a_500(tokens, dead_redis):
    from rest_framework.test import APIClient

    from accounts.tests.factories import login

    for response in (bearer(tokens["access"]).get(ME_URL), login(APIClient())):
        assert response.status_code == 503
        assert response.json()["code"] == "service_unavailable"
        assert response["Retry-After"]


def test_the_cache_holds_no_password_hash(user, tokens):
    import pickle

    from django.core.cache import cache

    queries_of_me(tokens["access"])
    stored = pickle.dumps(cache.get(user_cache_key(user.pk)))
    assert user.password.encode() not in stored
    assert user.password.split("$")[-1].encode() not in stored


def test_a_password_check_on_a_cached_user_loads_the_hash(user, tokens):
    from accounts.selectors import user_get_cached

    queries_of_me(tokens["access"])
    cached, _ = user_get_cached(user_id=user.pk)
    assert cached.get_deferred_fields() == {"password"}
    with CaptureQueriesContext(connection) as queries:
        assert cached.check_password("correct horse battery")
    assert len(queries) == 1
