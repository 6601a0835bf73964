"""POST /api/auth/password/reset/ and .../confirm/: a new password by email."""

from datetime import datetime, timedelta

import pytest

from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from rest_framework.test import APIClient

from accounts.tests.factories import (
    ME_URL,
    PASSWORD,
    REFRESH_URL,
    RESET_CONFIRM_URL,
    RESET_URL,
    bearer,
    link_params,
    login,
    make_user,
)
from accounts.tokens import password_reset_tokens, uid_for

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a brand new passphrase"


def request_reset(email, client=None):
    return (client or APIClient()).post(RESET_URL, {"email": email}, format="json")


def confirm(params, new_password=NEW_PASSWORD):
    return APIClient().post(
        RESET_CONFIRM_URL, {**params, "new_password": new_password}, format="json"
    )


def reset_link(user, jobs):
    assert request_reset(user.email).status_code == 202
    jobs.run()
    (message,) = [m for m in mail.outbox if m.to == [user.email]]
    return link_params(message, "reset-password")


def test_reset_answers_the_same_for_a_known_and_an_unknown_address(user, jobs):
    known = request_reset("alice@example.com")
    unknown = request_reset("nobody@example.com")
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    # The request defers one job either way; the job does the lookup.
    assert jobs.names() == ["accounts.send_password_reset"] * 2
    jobs.run()
    assert [m.to for m in mail.outbox] == [["alice@example.com"]]


def test_reset_mail_has_a_text_and_an_html_part_with_the_frontend_link(
    user, jobs, frontend
):
    request_reset("ALICE@example.com")  # any case finds the account
    jobs.run()
    (message,) = mail.outbox
    params = link_params(message, "reset-password")
    expected = f"{frontend}/reset-password?uid={params['uid']}&token={params['token']}"
    assert expected in message.body
    assert isinstance(message, EmailMultiAlternatives)
    ((html, kind),) = message.alternatives
    assert kind == "text/html"
    assert expected.replace("&", "&amp;") in str(html)
    assert message.subject == "Reset your password"


def test_reset_sends_nothing_for_an_inactive_user_or_an_unusable_password(jobs):
    make_user("bob", is_active=False)
    carol = make_user("carol")
    carol.set_unusable_password()
    carol.save()
    request_reset("bob@example.com")
    request_reset("carol@example.com")
    jobs.run()
    assert mail.outbox == []


def test_confirm_sets_the_password_and_revokes_every_token(user, jobs, api_client):
    tokens = login(api_client).json()
    params = reset_link(user, jobs)
    assert confirm(params).status_code == 204
    assert login(APIClient(), password=NEW_PASSWORD).status_code == 200
    assert login(APIClient(), password=PASSWORD).status_code == 401
    # The access and refresh tokens issued before the reset are dead.
    assert bearer(tokens["access"]).get(ME_URL).status_code == 401
    refresh = APIClient().post(REFRESH_URL, {"refresh": tokens["refresh"]})
    assert refresh.status_code == 401
    user.refresh_from_db()
    assert user.email_verified  # the link proved the address


def test_a_reset_link_works_once(user, jobs):
    params = reset_link(user, jobs)
    assert confirm(params).status_code == 204
    again = confirm(params, new_password="yet another passphrase")
    assert again.status_code == 400
    assert again.json()["code"] == "invalid_link"


def test_a_reset_link_fails_after_any_password_change(user, jobs):
    params = reset_link(user, jobs)
    user.set_password("changed another way")
    user.save()
    assert confirm(params).json()["code"] == "invalid_link"


def test_a_reset_link_expires_after_the_timeout(user, settings, monkeypatch):
    settings.PASSWORD_RESET_TIMEOUT = 60
    params = {"uid": uid_for(user), "token": password_reset_tokens.make_token(user)}
    later = datetime.now() + timedelta(seconds=61)
    monkeypatch.setattr(password_reset_tokens, "_now", lambda: later)
    assert confirm(params).json()["code"] == "invalid_link"
    # The control: the same link a little earlier, within the timeout, works.
    monkeypatch.setattr(password_reset_tokens, "_now", lambda: later - timedelta(2))
    assert confirm(params).status_code == 204


@pytest.mark.parametrize(
    "params",
    [
        {"uid": "MQ", "token": "bad-token"},
        {"uid": "not base64!", "token": "x-y"},
        {"uid": "OTk5OTk5OTk5OTk5OTk5OTk5OTk5OQ", "token": "x-y"},  # huge pk
        {"uid": "MQ", "token": "zzzzzzzzzzzzzzzzzzz-abc"},  # timestamp overflow
    ],
)
def test_a_bad_link_is_400_with_one_code(user, params):
    response = confirm(params)
    assert response.status_code == 400
    assert response.json() == {
        "detail": "The link is invalid, expired or used already.",
        "code": "invalid_link",
    }


def test_another_users_token_does_not_reset_this_user(user):
    bob = make_user("bob")
    params = {"uid": uid_for(user), "token": password_reset_tokens.make_token(bob)}
    assert confirm(params).json()["code"] == "invalid_link"


def test_a_weak_new_password_is_400_and_leaves_the_link_usable(user, jobs):
    params = reset_link(user, jobs)
    response = confirm(params, new_password="123")
    assert response.status_code == 400
    assert set(response.json()) == {"new_password"}
    assert confirm(params).status_code == 204


def test_a_request_whose_transaction_rolls_back_enqueues_nothing(user, jobs):
    from accounts.services import password_reset_request

    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        password_reset_request(email="alice@example.com")
        assert jobs.names() == ["accounts.send_password_reset"]  # inside, it exists
        raise Abort
    assert jobs.names() == []


def test_reset_is_throttled_per_address_whatever_the_ip(user, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "email_address": "2/hour",
        },
    }
    statuses = [
        request_reset(email).status_code
        for email in ("alice@example.com", " Alice@Example.com ", "ALICE@example.com")
    ]
    assert statuses[:2] == [202, 202] and statuses[2] == 429
    other = APIClient(REMOTE_ADDR="10.0.0.9")
    assert request_reset("alice@example.com", other).status_code == 429
    assert request_reset("bob@example.com", other).status_code == 202


def test_reset_is_throttled_per_ip(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "email_ip": "3/hour",
        },
    }
    statuses = [request_reset(f"user{n}@example.com").status_code for n in range(4)]
    assert statuses == [202, 202, 202, 429]
    elsewhere = APIClient(REMOTE_ADDR="10.0.0.9")
    assert request_reset("x@example.com", elsewhere).status_code == 202


def test_reset_tokens_are_not_verification_tokens(user):
    from accounts.tokens import email_verification_tokens

    token = password_reset_tokens.make_token(user)
    assert password_reset_tokens.check_token(user, token)
    assert not email_verification_tokens.check_token(user, token)
