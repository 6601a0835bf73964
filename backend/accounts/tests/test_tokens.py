"""The JWT lifecycle: login, refresh with rotation, logout and the token table."""

import json
import threading
from datetime import timedelta

import pytest

from django.core.management import call_command
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import (
    BlacklistedToken,
    OutstandingToken,
)

from accounts.tests.factories import (
    BLACKLIST_URL,
    ME_URL,
    PASSWORD,
    REFRESH_URL,
    TOKEN_URL,
    bearer,
    login,
    make_user,
)

pytestmark = pytest.mark.django_db

LOGIN_FAILURE = {
    "detail": "No active account found with the given credentials",
    "code": "no_active_account",
}


def refresh(client, token):
    return client.post(REFRESH_URL, {"refresh": token}, format="json")


def test_login_returns_an_access_and_a_refresh_token_that_work(user, api_client):
    response = login(api_client)
    assert response.status_code == 200
    assert set(response.json()) == {"access", "refresh"}
    assert bearer(response.json()["access"]).get(ME_URL).status_code == 200
    user.refresh_from_db()
    assert user.last_login is not None


@pytest.mark.parametrize(
    ("username", "password"),
    [("nobody", PASSWORD), ("alice", "wrong password!"), ("inactive", PASSWORD)],
    ids=["unknown user", "wrong password", "inactive user"],
)
def test_login_failure_is_one_identical_401(user, api_client, username, password):
    make_user("inactive", is_active=False)
    response = login(api_client, username, password)
    assert response.status_code == 401
    assert response.json() == LOGIN_FAILURE
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_login_ignores_a_stale_authorization_header(user):
    client = bearer("not.a.token")
    assert login(client).status_code == 200


def test_login_without_password_is_400_naming_the_field(user, api_client):
    response = api_client.post("/api/auth/token/", {"username": "alice"})
    assert response.status_code == 400
    assert response.json() == {"password": ["This field is required."]}


def test_refresh_returns_a_new_pair_and_the_new_refresh_token_works(api_client, tokens):
    response = refresh(api_client, tokens["refresh"])
    assert response.status_code == 200
    rotated = response.json()
    assert set(rotated) == {"access", "refresh"}
    assert rotated["refresh"] != tokens["refresh"]
    assert bearer(rotated["access"]).get(ME_URL).status_code == 200
    assert refresh(api_client, rotated["refresh"]).status_code == 200


def test_rotated_refresh_token_is_rejected(api_client, tokens):
    assert refresh(api_client, tokens["refresh"]).status_code == 200
    response = refresh(api_client, tokens["refresh"])
    assert response.status_code == 401
    assert response.json() == {
        "detail": "Token is blacklisted",
        "code": "token_not_valid",
    }


def test_refresh_token_is_rejected_after_logout(api_client, tokens):
    response = api_client.post(
        BLACKLIST_URL, {"refresh": tokens["refresh"]}, format="json"
    )
    assert response.status_code == 200
    assert refresh(api_client, tokens["refresh"]).status_code == 401
    again = api_client.post(BLACKLIST_URL, {"refresh": tokens["refresh"]})
    assert again.status_code == 401


@pytest.mark.parametrize("url", [REFRESH_URL, BLACKLIST_URL])
def test_refresh_and_logout_reject_an_access_token_or_garbage(api_client, tokens, url):
    for token in (tokens["access"], "garbage", tokens["refresh"] + "x"):
        response = api_client.post(url, {"refresh": token}, format="json")
        assert response.status_code == 401
        assert response.json()["code"] == "token_not_valid"


@pytest.mark.django_db(transaction=True)
def test_one_refresh_token_sent_in_8_parallel_requests_yields_exactly_one_200(
    live,
):
    make_user()
    _, _, body = live.post_json(TOKEN_URL, {"username": "alice", "password": PASSWORD})
    token = json.loads(body)["refresh"]
    start = threading.Barrier(8)
    statuses = []

    def send():
        start.wait()
        statuses.append(live.post_json(REFRESH_URL, {"refresh": token})[0])

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] + [401] * 7
    assert BlacklistedToken.objects.filter(token__token=token).count() == 1


def test_flushexpiredtokens_deletes_expired_tokens_only(user):
    now = timezone.now()
    for jti, expires_at in (
        ("live", now + timedelta(hours=1)),
        ("expired", now - timedelta(seconds=1)),
        ("expired and blacklisted", now - timedelta(seconds=1)),
    ):
        OutstandingToken.objects.create(
            user=user, jti=jti, token=jti, expires_at=expires_at
        )
    BlacklistedToken.objects.create(
        token=OutstandingToken.objects.get(jti="expired and blacklisted")
    )
    call_command("flushexpiredtokens")
    assert list(OutstandingToken.objects.values_list("jti", flat=True)) == ["live"]
    assert not BlacklistedToken.objects.exists()
