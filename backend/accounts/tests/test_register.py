"""POST /api/auth/register/: off unless KEEL_ALLOW_REGISTRATION=1."""

import pytest

from rest_framework.test import APIClient

from accounts.models import User
from accounts.tests.factories import PASSWORD, REGISTER_URL, login, make_user

pytestmark = pytest.mark.django_db

BOB = {"username": "bob", "email": "bob@example.com", "password": PASSWORD}


def register(**fields):
    return APIClient().post(REGISTER_URL, {**BOB, **fields}, format="json")


def test_registration_is_404_while_it_is_off():
    response = register()
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found"}
    assert not User.objects.exists()


def test_registration_creates_an_active_user_and_returns_it_without_tokens(
    open_registration,
):
    response = register()
    assert response.status_code == 201
    body = response.json()
    user = User.objects.get(username="bob")
    assert body == {
        "id": user.id,
        "username": "bob",
        "email": "bob@example.com",
        "first_name": "",
        "last_name": "",
        "date_joined": user.date_joined.astimezone().isoformat(),
        "email_verified": False,
        "pending_email": "",
    }
    assert user.is_active
    assert not (user.is_staff or user.is_superuser)
    assert login(APIClient(), "bob", PASSWORD).status_code == 200


def test_registration_cannot_make_a_staff_user(open_registration):
    assert register(is_staff=True, is_superuser=True).status_code == 201
    user = User.objects.get(username="bob")
    assert not (user.is_staff or user.is_superuser)


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"email": "not-an-email"}, {"email": ["Enter a valid email address."]}),
        ({"email": ""}, {"email": ["This field may not be blank."]}),
        ({"username": "bob smith"}, {"username": ["Enter a valid username."]}),
        ({"password": "bob@example.com"}, {"password": ["too similar"]}),
    ],
)
def test_registration_with_bad_fields_is_400_with_field_errors(
    open_registration, fields, errors
):
    response = register(**fields)
    assert response.status_code == 400
    body = response.json()
    assert set(body) == set(errors)
    for name, messages in errors.items():
        for message in messages:
            assert any(message in line for line in body[name]), body
    assert not User.objects.filter(username="bob").exists()


def test_registration_with_a_taken_username_is_400(open_registration):
    make_user("bob")
    response = register(email="other@example.com")
    assert response.status_code == 400
    assert response.json() == {
        "username": ["A user with that username already exists."]
    }


def test_registration_reports_every_bad_field_at_once(open_registration):
    make_user("bob")
    response = APIClient().post(
        REGISTER_URL, {"username": "bob", "email": "x@example.com", "password": "short"}
    )
    assert response.status_code == 400
    assert set(response.json()) == {"username", "password"}
