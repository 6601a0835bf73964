"""Password rules on sign-up and password change: Django's validators, 12+."""

import pytest

from rest_framework.test import APIClient

from accounts.models import User
from accounts.tests.factories import (
    PASSWORD,
    PASSWORD_CHANGE_URL,
    REGISTER_URL,
    login,
)

pytestmark = pytest.mark.django_db

ELEVEN = "Zq8#mLp2vX!"
TWELVE = "Zq8#mLp2vX!w"
SIXTY_FOUR = "Zq8#mLp2" * 8
TOO_SHORT = "This password is too short. It must contain at least 12 characters."


def change(client, old, new):
    return client.post(
        PASSWORD_CHANGE_URL, {"old_password": old, "new_password": new}, format="json"
    )


def register(password, username="bob"):
    return APIClient().post(
        REGISTER_URL,
        {
            "username": username,
            "email": f"{username}@example.com",
            "password": password,
        },
        format="json",
    )


def test_password_change_is_204_and_only_the_new_password_logs_in(user, auth_client):
    assert change(auth_client, PASSWORD, TWELVE).status_code == 204
    assert login(APIClient(), password=PASSWORD).status_code == 401
    assert login(APIClient(), password=TWELVE).status_code == 200


def test_password_change_with_a_wrong_old_password_is_400_and_changes_nothing(
    user, auth_client
):
    response = change(auth_client, "not my password", TWELVE)
    assert response.status_code == 400
    assert response.json() == {"old_password": ["The old password is wrong."]}
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


@pytest.mark.parametrize(
    ("new_password", "message"),
    [
        (ELEVEN, TOO_SHORT),
        ("alice@example.com", "The password is too similar to the email address."),
        ("password1234", "This password is too common."),
        ("314159265358979", "This password is entirely numeric."),
    ],
)
def test_password_change_to_a_password_the_validators_reject_is_400(
    user, auth_client, new_password, message
):
    response = change(auth_client, PASSWORD, new_password)
    assert response.status_code == 400
    assert message in response.json()["new_password"]
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_password_change_accepts_a_64_character_password(user, auth_client):
    assert change(auth_client, PASSWORD, SIXTY_FOUR).status_code == 204
    assert login(APIClient(), password=SIXTY_FOUR).status_code == 200


def test_password_change_requires_an_access_token(user):
    assert change(APIClient(), PASSWORD, TWELVE).status_code == 401


def test_registration_rejects_an_11_character_password(open_registration):
    response = register(ELEVEN)
    assert response.status_code == 400
    assert response.json() == {"password": [TOO_SHORT]}
    assert not User.objects.filter(username="bob").exists()


@pytest.mark.parametrize("password", [TWELVE, SIXTY_FOUR], ids=["12", "64"])
def test_registration_accepts_12_to_64_character_passwords(open_registration, password):
    assert register(password).status_code == 201
    assert login(APIClient(), "bob", password).status_code == 200
