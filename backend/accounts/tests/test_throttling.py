"""Brute-force protection: failed password checks per client IP and username."""

import threading

import pytest

from rest_framework.test import APIClient

from accounts.tests.factories import (
    PASSWORD,
    PASSWORD_CHANGE_URL,
    REFRESH_URL,
    REGISTER_URL,
    TOKEN_URL,
    login,
    make_user,
)

pytestmark = pytest.mark.django_db

# The defaults: KEEL_LOGIN_IP_THROTTLE_RATE and KEEL_LOGIN_USERNAME_THROTTLE_RATE.
PER_IP = 10
PER_USERNAME = 5


def fail(client, username="alice", **extra):
    return login(client, username, "wrong password!", **extra)


def assert_throttled(response):
    assert response.status_code == 429
    body = response.json()
    assert body["code"] == "throttled"
    assert body["detail"].startswith("Request was throttled.")
    assert 1 <= int(response["Retry-After"]) <= 60


@pytest.fixture
def rest_framework(settings):
    """Return a function that overrides keys of REST_FRAMEWORK for one test."""

    def override(**values):
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, **values}

    return override


def test_failed_logins_are_throttled_per_username(user, api_client):
    for number in range(PER_USERNAME):
        response = fail(api_client, REMOTE_ADDR=f"10.0.0.{number}")
        assert response.status_code == 401
    # From yet another address, and even with the right password.
    assert_throttled(login(api_client, REMOTE_ADDR="10.0.1.1"))
    assert login(api_client, "bob", REMOTE_ADDR="10.0.1.1").status_code == 401


def test_username_throttle_is_blind_to_case_and_spacing(user, api_client):
    fullwidth = "\uff41\uff4c\uff49\uff43\uff45"  # "alice" in fullwidth letters
    for variant in ("alice", "ALICE", " Alice ", "alice", fullwidth):
        assert fail(api_client, variant).status_code == 401
    assert_throttled(fail(api_client, "aLiCe"))


def test_failed_logins_are_throttled_per_client_ip(user, api_client):
    for number in range(PER_IP):
        assert fail(api_client, f"user{number}").status_code == 401
    assert_throttled(login(api_client))
    assert login(api_client, REMOTE_ADDR="10.9.9.9").status_code == 200


def test_a_login_refused_for_its_address_does_not_count_against_the_username(
    user, api_client
):
    for number in range(PER_IP):
        assert fail(api_client, f"user{number}").status_code == 401
    # One address's flood of refused logins, naming alice, the right password
    # or not: none of them checked a password.
    for _ in range(PER_USERNAME + 1):
        assert_throttled(fail(api_client))
        assert_throttled(login(api_client))
    assert login(api_client, REMOTE_ADDR="10.9.9.9").status_code == 200


@pytest.fixture
def counted_keys(monkeypatch):
    """Return a function that starts listing the keys the throttles count under."""
    from accounts import throttles
    from accounts.counts import count_attempt

    def start():
        counted = []

        def counting(*, key, period):
            counted.append(key)
            return count_attempt(key=key, period=period)

        monkeypatch.setattr(throttles, "count_attempt", counting)
        return counted

    return start


@pytest.mark.parametrize("door", ["api", "admin"])
def test_a_login_refused_for_its_address_is_never_counted_under_its_username(
    user, api_client, monkeypatch, counted_keys, door
):
    from django.test import Client

    from accounts import throttles

    for number in range(PER_IP):
        assert fail(api_client, f"user{number}").status_code == 401
    counted = counted_keys()
    # As once the worker's memory of the address has lapsed: its count runs.
    monkeypatch.setattr(throttles, "remembered_over_limit", lambda key: None)
    if door == "api":
        assert_throttled(login(api_client))
    else:
        form = {"username": "alice", "password": PASSWORD}
        assert Client().post("/admin/login/", form).status_code == 429
    # Only the address was counted: the first refusal decides, and the body
    # was not read for a username.
    assert len(counted) == 1 and "login_ip" in counted[0], counted


@pytest.mark.parametrize("door", ["api", "admin"])
def test_a_locked_username_is_refused_from_memory_not_counted_again(
    user, api_client, counted_keys, door
):
    from django.test import Client

    for number in range(PER_USERNAME):
        assert fail(api_client, REMOTE_ADDR=f"10.0.0.{number}").status_code == 401
    assert_throttled(fail(api_client, REMOTE_ADDR="10.0.1.1"))  # now remembered
    counted = counted_keys()
    if door == "api":
        assert_throttled(fail(api_client, REMOTE_ADDR="10.0.1.2"))
    else:
        form = {"username": "alice", "password": "wrong password!"}
        response = Client().post("/admin/login/", form, REMOTE_ADDR="10.0.1.2")
        assert response.status_code == 429
    # The new address's attempt counts; the username's refusal came from the
    # worker's memory of it, which the refusal before did not take back.
    assert len(counted) == 1 and "login_ip" in counted[0], counted


def test_a_login_refused_for_its_username_counts_against_its_address(user, api_client):
    # So that refusals are not free: what the refund rules must keep.
    for number in range(PER_USERNAME):
        assert fail(api_client, REMOTE_ADDR=f"10.0.0.{number}").status_code == 401
    for _ in range(PER_IP):
        assert_throttled(fail(api_client, REMOTE_ADDR="10.0.1.1"))
    # The refusals used up 10.0.1.1's allowance, whichever account it names.
    assert_throttled(login(api_client, "bob", REMOTE_ADDR="10.0.1.1"))
    assert login(api_client, "bob", REMOTE_ADDR="10.0.1.2").status_code == 401


def test_forged_x_forwarded_for_does_not_escape_the_ip_throttle(user, api_client):
    for number in range(PER_IP):
        forged = f"203.0.113.{number}, 198.51.100.{number}"
        response = fail(api_client, f"user{number}", HTTP_X_FORWARDED_FOR=forged)
        assert response.status_code == 401
    assert_throttled(login(api_client, HTTP_X_FORWARDED_FOR="192.0.2.77"))


def test_behind_one_trusted_proxy_the_client_ip_is_the_one_it_appended(
    user, api_client, rest_framework
):
    rest_framework(NUM_PROXIES=1)
    for number in range(PER_IP):
        # The client forges the first entry; the proxy appends what it saw.
        forged = f"203.0.113.{number}, 192.0.2.1"
        response = fail(api_client, f"user{number}", HTTP_X_FORWARDED_FOR=forged)
        assert response.status_code == 401
    assert_throttled(login(api_client, HTTP_X_FORWARDED_FOR="192.0.2.1"))
    assert login(api_client, HTTP_X_FORWARDED_FOR="192.0.2.2").status_code == 200


def test_successful_logins_are_not_counted(user, api_client):
    for _ in range(PER_IP + 1):
        assert login(api_client).status_code == 200
    for _ in range(PER_USERNAME):
        assert fail(api_client).status_code == 401
    assert_throttled(fail(api_client))


def test_throttle_rates_are_read_from_settings_at_request_time(
    user, api_client, rest_framework
):
    rates = {"login_ip": "100/min", "login_username": "2/hour", "register": "1/min"}
    rest_framework(DEFAULT_THROTTLE_RATES=rates)
    assert fail(api_client).status_code == 401
    assert fail(api_client).status_code == 401
    response = fail(api_client)
    assert response.status_code == 429
    assert 3590 <= int(response["Retry-After"]) <= 3600


def test_wrong_old_passwords_count_as_failed_logins(user, auth_client):
    for _ in range(PER_USERNAME):
        response = auth_client.post(
            PASSWORD_CHANGE_URL,
            {"old_password": "wrong password!", "new_password": "whatever it is now"},
        )
        assert response.status_code == 400
    assert_throttled(login(APIClient(), REMOTE_ADDR="10.7.7.7"))


def test_registration_is_throttled_per_client_ip(open_registration, api_client):
    for number in range(10):
        body = {"username": f"u{number}", "email": "u@example.com", "password": "x"}
        assert api_client.post(REGISTER_URL, body).status_code == 400
    body = {"username": "late", "email": "late@example.com", "password": PASSWORD}
    assert api_client.post(REGISTER_URL, body).status_code == 429


# A cache round trip over a network (Redis) takes this long; in the local
# cache it takes nothing, which would hide a read-then-write race.
CACHE_LATENCY_SECONDS = 0.02


@pytest.fixture
def slow_cache(monkeypatch):
    """Make every operation of the local cache take a network round trip."""
    import time

    from django.core.cache.backends.locmem import LocMemCache

    for name in ("get", "set", "add", "incr", "decr"):
        original = getattr(LocMemCache, name)

        def slow(self, *args, _original=original, **kwargs):
            time.sleep(CACHE_LATENCY_SECONDS)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(LocMemCache, name, slow)


@pytest.mark.django_db(transaction=True)
def test_parallel_guesses_get_no_more_than_the_limit_through(
    live, settings, slow_cache, rest_framework
):
    # Enough password-check slots for every guess, each from an address of its
    # own (one address runs one check at a time): the counting is under test.
    settings.KEEL = {**settings.KEEL, "PASSWORD_CHECKS_PER_WORKER": 12}
    rest_framework(NUM_PROXIES=1)
    make_user()
    start = threading.Barrier(12)
    statuses = []
    body = {"username": "alice", "password": "wrong password!"}

    def guess(number):
        start.wait()
        proxied = {"X-Forwarded-For": f"192.0.2.{number}"}
        statuses.append(live.post_json(TOKEN_URL, body, headers=proxied)[0])

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [401] * PER_USERNAME + [429] * (12 - PER_USERNAME)


def test_throttle_counts_live_in_redis_where_every_worker_sees_them(
    user, api_client, redis_cache
):
    from django.core.cache import caches

    client, prefix = redis_cache
    for _ in range(PER_USERNAME):
        assert fail(api_client).status_code == 401
    counts = [
        int(client.get(key))
        for key in client.scan_iter(f"{prefix}:*_login_*")
        if not key.endswith(b"_opened")
    ]
    assert sorted(counts) == [PER_USERNAME, PER_USERNAME]
    # A worker that starts now has no memory of its own, only Redis.
    caches.close_all()
    del caches["default"]
    assert_throttled(login(api_client))


def test_a_login_refused_a_password_slot_counts_against_its_address_only(
    user, api_client, settings
):
    from accounts.password_checks import password_check_queue

    settings.KEEL = {**settings.KEEL, "PASSWORD_CHECK_WAIT": 0}
    queue = password_check_queue()
    assert queue.enter("198.51.100.7")  # another address's check holds the slot
    try:
        for _ in range(PER_IP):
            response = login(api_client)
            assert response.status_code == 503
            assert response.json()["code"] == "password_checks_busy"
            assert response["Retry-After"] == "1"
        # The refusals used up the address's allowance: throttled, cheaply.
        assert_throttled(login(api_client))
    finally:
        queue.leave("198.51.100.7")
    # But none counted against the username: its owner signs in elsewhere.
    assert login(api_client, REMOTE_ADDR="10.9.9.9").status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"username": "alice"},
        {"username": "alice", "password": ["not", "a", "string"]},
    ],
)
def test_a_body_that_checks_no_password_is_not_a_guess(user, api_client, body):
    for _ in range(PER_USERNAME + 2):
        assert api_client.post(TOKEN_URL, body, format="json").status_code == 400
    assert login(api_client).status_code == 200


def test_malformed_json_is_not_a_guess(user, api_client):
    for _ in range(PER_USERNAME + 2):
        response = api_client.post(
            TOKEN_URL, '{"username": "alice", ', content_type="application/json"
        )
        assert response.status_code == 400
    assert login(api_client).status_code == 200


@pytest.mark.parametrize("store", ["database", "cache"])
def test_requests_that_guess_nothing_leave_no_throttle_entries(
    user, api_client, settings, store
):
    from django.core.cache import cache

    from accounts.models import ThrottleCount

    settings.KEEL = {**settings.KEEL, "THROTTLE_COUNTS": store}
    for address in range(50):
        api_client.post(
            TOKEN_URL,
            {"username": "alice"},
            format="json",
            REMOTE_ADDR=f"10.0.0.{address}",
        )
    assert not [key for key in cache._cache if "login" in key]  # type: ignore[attr-defined]
    assert not ThrottleCount.objects.exists()


def test_counts_are_in_postgresql_without_redis_and_in_redis_with_it(prod_env):
    from testing.settings import load_settings

    assert load_settings(prod_env)["KEEL"]["THROTTLE_COUNTS"] == "database"
    with_redis = {**prod_env, "REDIS_URL": "redis://redis:6379/0"}
    assert load_settings(with_redis)["KEEL"]["THROTTLE_COUNTS"] == "cache"


def test_failed_logins_are_counted_in_postgresql_without_redis(user, api_client):
    from accounts.models import ThrottleCount

    for _ in range(PER_USERNAME):
        assert fail(api_client).status_code == 401
    assert sorted(ThrottleCount.objects.values_list("count", flat=True)) == [
        PER_USERNAME,
        PER_USERNAME,
    ]
    assert_throttled(login(api_client))


@pytest.mark.parametrize(
    ("url", "method"),
    [
        *((TOKEN_URL, method) for method in ("options", "get", "head", "put")),
        *((PASSWORD_CHANGE_URL, method) for method in ("options", "get")),
    ],
)
def test_requests_that_check_no_password_do_not_count_as_guesses(
    user, api_client, method, url, record_property
):
    if url == PASSWORD_CHANGE_URL:
        api_client.force_authenticate(user)
    statuses = {
        getattr(api_client, method)(url, REMOTE_ADDR="10.0.7.1").status_code
        for _ in range(PER_IP * 2 + 1)
    }
    assert 429 not in statuses
    api_client.force_authenticate(None)
    assert login(api_client, REMOTE_ADDR="10.0.7.1").status_code == 200
    record_property("requests", PER_IP * 2 + 1)


def refresh(token, **extra):
    return APIClient().post(REFRESH_URL, {"refresh": token}, format="json", **extra)


def test_refresh_chains_are_throttled_per_user(
    user, api_client, rest_framework, settings, record_property
):
    from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken

    limit = 3
    rest_framework(
        DEFAULT_THROTTLE_RATES={
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "refresh": f"{limit}/min",
        }
    )
    make_user("bob")
    token = login(api_client).json()["refresh"]
    other = login(api_client, "bob").json()["refresh"]
    for number in range(limit):
        # From a new address each time: the count is the user's, not the IP's.
        response = refresh(token, REMOTE_ADDR=f"10.0.5.{number}")
        assert response.status_code == 200
        token = response.json()["refresh"]
    throttled = refresh(token)
    assert_throttled(throttled)
    # Nothing was spent: the token still works once the period ends.
    assert BlacklistedToken.objects.count() == limit
    assert refresh(other).status_code == 200  # another user has a count of their own
    record_property("refreshes", f"{limit} of {limit + 1}")


def test_a_forged_refresh_token_uses_up_no_ones_allowance(user, api_client, tokens):
    forged = tokens["refresh"][:-4] + (
        "AAAA" if not tokens["refresh"].endswith("AAAA") else "BBBB"
    )
    for _ in range(40):
        assert refresh(forged).status_code == 401
    assert refresh(tokens["refresh"]).status_code == 200


def test_refresh_is_limited_to_30_a_minute_by_default(
    user, api_client, record_property
):
    from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken

    token = login(api_client).json()["refresh"]
    statuses = []
    for _ in range(31):
        response = refresh(token)
        statuses.append(response.status_code)
        if response.status_code == 200:
            token = response.json()["refresh"]
    assert statuses == [200] * 30 + [429]
    record_property("blacklisted", BlacklistedToken.objects.count())
