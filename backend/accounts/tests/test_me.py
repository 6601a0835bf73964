"""GET and PATCH /api/auth/me/: the signed-in user and what they may change."""

import pytest

from rest_framework.test import APIClient

from accounts.tests.factories import ME_URL, PASSWORD, login

pytestmark = pytest.mark.django_db


def test_me_returns_the_signed_in_user(user, auth_client):
    response = auth_client.get(ME_URL)
    assert response.status_code == 200
    assert response.json() == {
        "id": user.id,
        "username": "alice",
        "email": "alice@example.com",
        "first_name": "",
        "last_name": "",
        "date_joined": user.date_joined.astimezone().isoformat(),
        "email_verified": False,
        "pending_email": "",
    }


def test_me_without_a_valid_access_token_is_401():
    assert APIClient().get(ME_URL).status_code == 401
    assert APIClient().patch(ME_URL, {"first_name": "A"}).status_code == 401


def test_patch_me_updates_names_and_makes_a_new_email_pending(user, auth_client):
    response = auth_client.patch(
        ME_URL,
        {"email": "new@EXAMPLE.com", "first_name": "Alice", "last_name": "Liddell"},
        format="json",
    )
    assert response.status_code == 200
    # Django normalizes the domain part of an email address to lower case; the
    # address changes only once its link is opened (test_email_change.py).
    assert response.json()["email"] == "alice@example.com"
    assert response.json()["pending_email"] == "new@example.com"
    user.refresh_from_db()
    assert (user.email, user.pending_email, user.first_name, user.last_name) == (
        "alice@example.com",
        "new@example.com",
        "Alice",
        "Liddell",
    )


def test_patch_me_with_some_fields_leaves_the_others(user, auth_client):
    assert auth_client.patch(ME_URL, {"last_name": "L"}).status_code == 200
    user.refresh_from_db()
    assert (user.email, user.last_name) == ("alice@example.com", "L")


@pytest.mark.parametrize("email", ["not-an-email", "a@", "", "x" * 250 + "@b.co"])
def test_patch_me_with_a_bad_email_is_400_and_changes_nothing(user, auth_client, email):
    response = auth_client.patch(
        ME_URL, {"email": email, "first_name": "Changed"}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()) == {"email"}
    user.refresh_from_db()
    assert (user.email, user.first_name) == ("alice@example.com", "")


@pytest.mark.parametrize("field", ["email", "first_name", "last_name"])
def test_patch_me_with_a_number_for_text_is_400_and_changes_nothing(
    user, auth_client, field
):
    response = auth_client.patch(ME_URL, {field: 42})
    assert response.status_code == 400
    assert set(response.json()) == {field}
    user.refresh_from_db()
    assert (user.email, user.first_name, user.last_name) == (
        "alice@example.com",
        "",
        "",
    )


def test_patch_me_can_never_set_staff_superuser_id_password_or_username(
    user, auth_client
):
    response = auth_client.patch(
        ME_URL,
        {
            "is_staff": True,
            "is_superuser": True,
            "id": user.id + 1000,
            "password": "a brand new password",
            "username": "mallory",
            "first_name": "Alice",
        },
        format="json",
    )
    assert response.status_code == 200
    user.refresh_from_db()
    assert (user.is_staff, user.is_superuser, user.username) == (False, False, "alice")
    assert user.check_password(PASSWORD)
    assert user.first_name == "Alice"
    assert login(APIClient(), "alice", PASSWORD).status_code == 200


def test_user_output_is_exactly_the_documented_serializers(user):
    from accounts.apis import UserOutputSerializer, user_output

    user.date_joined = user.date_joined.replace(microsecond=123456)
    assert user_output(user) == UserOutputSerializer(user).data
