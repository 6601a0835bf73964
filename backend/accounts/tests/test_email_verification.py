"""Verification of a user's address: sent at sign-up, confirmed by its link."""

import pytest

from django.core import mail
from django.core.mail import EmailMultiAlternatives
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tests.factories import (
    PASSWORD,
    REGISTER_URL,
    VERIFY_RESEND_URL,
    VERIFY_URL,
    link_params,
    login,
    make_user,
)
from accounts.tokens import email_verification_tokens, uid_for

pytestmark = pytest.mark.django_db


def register(username="bob", email="bob@example.com"):
    return APIClient().post(
        REGISTER_URL,
        {"username": username, "email": email, "password": PASSWORD},
        format="json",
    )


def verify(params):
    return APIClient().post(VERIFY_URL, params, format="json")


@pytest.fixture
def require_verified(settings):
    settings.KEEL = {**settings.KEEL, "REQUIRE_VERIFIED_EMAIL": True}


def test_registration_sends_a_verification_link_that_verifies(
    open_registration, jobs, frontend
):
    assert register().status_code == 201
    assert jobs.names() == ["accounts.send_email_verification"]
    assert mail.outbox == []  # sent by the worker, never in the request
    jobs.run()
    (message,) = mail.outbox
    assert message.to == ["bob@example.com"]
    assert f"{frontend}/verify-email?uid=" in message.body
    assert isinstance(message, EmailMultiAlternatives)
    assert message.alternatives[0][1] == "text/html"
    assert verify(link_params(message, "verify-email")).status_code == 204
    assert User.objects.get(username="bob").email_verified


def test_a_verification_link_works_once_and_only_for_its_address(user):
    params = {"uid": uid_for(user), "token": email_verification_tokens.make_token(user)}
    user.email = "other@example.com"
    user.save()
    assert verify(params).json()["code"] == "invalid_link"
    params["token"] = email_verification_tokens.make_token(user)
    assert verify(params).status_code == 204
    assert verify(params).json()["code"] == "invalid_link"


def test_a_verification_link_expires_after_its_timeout(user, settings, monkeypatch):
    from datetime import datetime, timedelta

    settings.KEEL = {**settings.KEEL, "EMAIL_TOKEN_TIMEOUT": 7200}
    params = {"uid": uid_for(user), "token": email_verification_tokens.make_token(user)}
    # Past PASSWORD_RESET_TIMEOUT (3600) but within its own: still good.
    soon = datetime.now() + timedelta(seconds=3700)
    monkeypatch.setattr(email_verification_tokens, "_now", lambda: soon)
    assert email_verification_tokens.check_token(user, params["token"])
    late = datetime.now() + timedelta(seconds=7300)
    monkeypatch.setattr(email_verification_tokens, "_now", lambda: late)
    assert verify(params).json()["code"] == "invalid_link"


def test_resend_answers_the_same_and_mails_only_unverified_accounts(jobs):
    make_user("bob")
    make_user("carol", email_verified=True)
    bodies = {
        address: APIClient().post(VERIFY_RESEND_URL, {"email": address}).json()
        for address in ("bob@example.com", "carol@example.com", "nobody@example.com")
    }
    assert len({str(body) for body in bodies.values()}) == 1
    jobs.run()
    assert [m.to for m in mail.outbox] == [["bob@example.com"]]


def test_resend_is_throttled_per_address(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "email_address": "1/hour",
        },
    }
    statuses = [
        APIClient().post(VERIFY_RESEND_URL, {"email": "bob@example.com"}).status_code
        for _ in range(2)
    ]
    assert statuses == [202, 429]


def test_required_verification_refuses_login_only_after_the_right_password(
    user, require_verified
):
    wrong = login(APIClient(), password="wrong password!")
    assert wrong.status_code == 401
    assert wrong.json()["code"] == "no_active_account"
    right = login(APIClient())
    assert right.status_code == 403
    assert right.json()["code"] == "email_not_verified"
    user.email_verified = True
    user.save()
    assert login(APIClient()).status_code == 200


def test_an_unverified_login_with_the_right_password_is_not_counted_as_a_guess(
    user, require_verified, settings
):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "login_username": "2/min",
        },
    }
    statuses = [login(APIClient()).status_code for _ in range(4)]
    assert statuses == [403] * 4


def test_without_the_setting_an_unverified_user_logs_in(user):
    assert not user.email_verified
    assert login(APIClient()).status_code == 200
