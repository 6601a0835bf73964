"""
Deactivation, deletion and a new password lock a user's tokens out on the next
request, on every worker, through every path keel offers: the API, the admin's
form and bulk action, management commands, and QuerySet.update().
"""

import pytest

from django.contrib.auth.hashers import make_password
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.core.management import call_command
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tests.factories import ME_URL, bearer, login

pytestmark = pytest.mark.django_db


def as_worker(name):
    """Give this thread the cache a worker process of that name would have."""
    caches["default"] = LocMemCache(f"worker-{name}", {})


def test_without_redis_another_workers_user_is_never_served_stale(user, tokens):
    # Settings as they load without REDIS_URL, as make prod, Quadlet and kube run.
    client = bearer(tokens["access"])
    as_worker("a")
    assert client.get(ME_URL).status_code == 200  # worker a has seen the user
    as_worker("b")
    user.is_active = False
    user.save()  # on worker b: its signal can reach only b's memory
    as_worker("a")
    assert client.get(ME_URL).status_code == 401


@pytest.fixture
def redis_auth_cache(settings, redis_cache):
    """Redis, and the authentication cache as settings default it with Redis."""
    settings.KEEL = {**settings.KEEL, "AUTH_CACHE_SECONDS": 60}
    return redis_cache


def deactivate_by_update(user, admin_client, monkeypatch):
    User.objects.filter(pk=user.pk).update(is_active=False)


def new_password_by_update(user, admin_client, monkeypatch):
    User.objects.filter(pk=user.pk).update(password=make_password("another one!"))


def deactivate_by_bulk_update(user, admin_client, monkeypatch):
    user.is_active = False
    User.objects.bulk_update([user], ["is_active"])


def new_password_by_command(user, admin_client, monkeypatch):
    # The command asks for the new password twice, through getpass.
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "Another one 9!")
    call_command("changepassword", user.username, stdout=None)


def admin_deactivates(user, admin_client, monkeypatch):
    response = admin_client.post(
        f"/admin/accounts/user/{user.pk}/change/",
        {
            "username": user.username,
            "email": user.email,
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
            # is_active left out: the box unticked
        },
    )
    assert response.status_code == 302


def admin_deletes_in_bulk(user, admin_client, monkeypatch):
    response = admin_client.post(
        "/admin/accounts/user/",
        {"action": "delete_selected", "_selected_action": [user.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert not User.objects.filter(pk=user.pk).exists()


def admin_sets_a_password(user, admin_client, monkeypatch):
    response = admin_client.post(
        f"/admin/accounts/user/{user.pk}/password/",
        {
            "password1": "Another one 9!",
            "password2": "Another one 9!",
            "usable_password": "true",
        },
    )
    assert response.status_code == 302


PATHS = {
    "QuerySet.update(is_active=False)": deactivate_by_update,
    "QuerySet.update(password=...)": new_password_by_update,
    "bulk_update(is_active)": deactivate_by_bulk_update,
    "manage.py changepassword": new_password_by_command,
    "admin form: active unticked": admin_deactivates,
    "admin bulk action: delete": admin_deletes_in_bulk,
    "admin form: new password": admin_sets_a_password,
}


@pytest.mark.parametrize("path", PATHS)
def test_revocation_takes_effect_on_the_next_request_through_redis(
    path, user, redis_auth_cache, admin_client, monkeypatch
):
    access = login(APIClient()).json()["access"]
    client = bearer(access)
    assert client.get(ME_URL).status_code == 200  # cached in Redis now
    PATHS[path](user, admin_client, monkeypatch)
    # Another worker holds no memory of its own, only what Redis has.
    caches.close_all()
    del caches["default"]
    assert client.get(ME_URL).status_code == 401


@pytest.mark.slow  # a measurement, for make security
@pytest.mark.parametrize(
    "mode", ["local cache 5 s (before)", "no cache (now, no Redis)", "Redis 60 s"]
)
def test_cost_of_me_by_authentication_cache(mode, user, tokens, settings, request):
    """Record GET /api/auth/me/'s time in process, per mode (not asserted)."""
    import time

    seconds = {"local cache 5 s (before)": 5, "no cache (now, no Redis)": 0}
    if mode == "Redis 60 s":
        request.getfixturevalue("redis_cache")
    settings.KEEL = {**settings.KEEL, "AUTH_CACHE_SECONDS": seconds.get(mode, 60)}
    client = bearer(tokens["access"])
    for _ in range(50):
        client.get(ME_URL)
    rounds = 1000
    started = time.perf_counter()
    for _ in range(rounds):
        client.get(ME_URL)
    request.node.user_properties.append(
        ("me_ms", f"{(time.perf_counter() - started) / rounds * 1000:.3f}")
    )
