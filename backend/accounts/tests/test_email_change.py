"""A new email on PATCH /api/auth/me/ lands only when its link is opened."""

import pytest

from django.core import mail
from django.core.mail import EmailMultiAlternatives
from rest_framework.test import APIClient

from accounts.tests.factories import EMAIL_CHANGE_CONFIRM_URL, ME_URL, link_params

pytestmark = pytest.mark.django_db


def confirm(params):
    return APIClient().post(EMAIL_CHANGE_CONFIRM_URL, params, format="json")


def ask_for(auth_client, email):
    response = auth_client.patch(ME_URL, {"email": email}, format="json")
    assert response.status_code == 200
    return response.json()


def test_new_email_gets_a_confirmation_and_the_old_one_a_notice(
    user, auth_client, jobs, frontend
):
    body = ask_for(auth_client, "new@example.com")
    assert (body["email"], body["pending_email"]) == (
        "alice@example.com",
        "new@example.com",
    )
    assert sorted(jobs.names()) == [
        "accounts.send_email_change_confirmation",
        "accounts.send_email_change_notice",
    ]
    jobs.run()
    by_address = {m.to[0]: m for m in mail.outbox}
    assert set(by_address) == {"new@example.com", "alice@example.com"}
    assert "new@example.com" in by_address["alice@example.com"].body
    confirmation = by_address["new@example.com"]
    assert f"{frontend}/confirm-email-change?uid=" in confirmation.body
    assert all(
        isinstance(m, EmailMultiAlternatives) and m.alternatives[0][1] == "text/html"
        for m in mail.outbox
    )

    assert confirm(link_params(confirmation, "confirm-email-change")).status_code == 204
    user.refresh_from_db()
    assert (user.email, user.pending_email, user.email_verified) == (
        "new@example.com",
        "",
        True,
    )


def test_a_confirmation_link_works_once(user, auth_client, jobs):
    ask_for(auth_client, "new@example.com")
    jobs.run()
    (confirmation,) = [m for m in mail.outbox if m.to == ["new@example.com"]]
    params = link_params(confirmation, "confirm-email-change")
    assert confirm(params).status_code == 204
    assert confirm(params).json()["code"] == "invalid_link"


def test_asking_for_another_address_voids_the_first_link(user, auth_client, jobs):
    ask_for(auth_client, "first@example.com")
    jobs.run()
    (first,) = [m for m in mail.outbox if m.to == ["first@example.com"]]
    ask_for(auth_client, "second@example.com")
    assert confirm(link_params(first, "confirm-email-change")).status_code == 400
    user.refresh_from_db()
    assert user.email == "alice@example.com"


def test_asking_for_the_current_address_cancels_a_pending_change(
    user, auth_client, jobs
):
    ask_for(auth_client, "new@example.com")
    jobs.run()
    (link,) = [m for m in mail.outbox if m.to == ["new@example.com"]]
    body = ask_for(auth_client, "alice@example.com")
    assert body["pending_email"] == ""
    assert jobs.names() == []  # nothing more is mailed
    assert confirm(link_params(link, "confirm-email-change")).status_code == 400


def test_a_verification_link_does_not_confirm_an_email_change(user, auth_client):
    from accounts.tokens import email_verification_tokens, uid_for

    ask_for(auth_client, "new@example.com")
    user.refresh_from_db()
    token = email_verification_tokens.make_token(user)
    assert confirm({"uid": uid_for(user), "token": token}).status_code == 400
