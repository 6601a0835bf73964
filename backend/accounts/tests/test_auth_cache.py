"""Authentication reads its user from the cache, and every change drops it."""

import pytest

from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.selectors import user_cache_key
from accounts.tests.factories import ME_URL, bearer

pytestmark = pytest.mark.django_db


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
