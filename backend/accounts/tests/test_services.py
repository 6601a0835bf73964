"""accounts.services, called directly: each write's rules, without HTTP."""

import pytest

from django.core.exceptions import ValidationError
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from accounts.models import User
from accounts.services import (
    token_blacklist,
    token_obtain,
    token_refresh,
    user_change_password,
    user_register,
    user_update,
)
from accounts.tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a different long passphrase"


def test_token_obtain_returns_a_pair_for_the_user_and_records_the_login(user):
    assert user.last_login is None
    pair = token_obtain(username="alice", password=PASSWORD)
    # Simple JWT types a token's constructor argument wrong.
    access = AccessToken(pair["access"])  # type: ignore[arg-type]
    refresh = RefreshToken(pair["refresh"])  # type: ignore[arg-type]
    assert access["user_id"] == refresh["user_id"] == str(user.pk)
    user.refresh_from_db()
    assert user.last_login is not None


@pytest.mark.parametrize(
    ("username", "password", "active"),
    [
        ("alice", "wrong password!", True),
        ("nobody", PASSWORD, True),
        ("alice", PASSWORD, False),
    ],
    ids=["wrong password", "unknown user", "inactive user"],
)
def test_token_obtain_gives_one_answer_for_every_bad_login(
    user, username, password, active
):
    user.is_active = active
    user.save()
    with pytest.raises(AuthenticationFailed) as error:
        token_obtain(username=username, password=password)
    assert error.value.get_codes() == "no_active_account"


def test_token_refresh_spends_the_refresh_token_once(user):
    pair = token_obtain(username="alice", password=PASSWORD)
    renewed = token_refresh(refresh=pair["refresh"])
    assert renewed["refresh"] != pair["refresh"]
    assert BlacklistedToken.objects.filter(token__token=pair["refresh"]).exists()
    with pytest.raises(InvalidToken):
        token_refresh(refresh=pair["refresh"])
    token_refresh(refresh=renewed["refresh"])


def test_token_refresh_refuses_garbage_and_an_access_token(user):
    pair = token_obtain(username="alice", password=PASSWORD)
    for raw in ("garbage", pair["access"]):
        with pytest.raises(InvalidToken):
            token_refresh(refresh=raw)


def test_token_blacklist_logs_out_once(user):
    pair = token_obtain(username="alice", password=PASSWORD)
    token_blacklist(refresh=pair["refresh"])
    with pytest.raises(InvalidToken):
        token_blacklist(refresh=pair["refresh"])
    with pytest.raises(InvalidToken):
        token_refresh(refresh=pair["refresh"])


def test_token_refresh_refuses_a_deactivated_users_token(user):
    pair = token_obtain(username="alice", password=PASSWORD)
    user.is_active = False
    user.save()
    with pytest.raises(InvalidToken):
        token_refresh(refresh=pair["refresh"])


def test_user_register_creates_an_active_user_with_a_hashed_password():
    user = user_register(username="bob", email="bob@example.com", password=PASSWORD)
    user.refresh_from_db()
    assert (user.username, user.email, user.is_active) == (
        "bob",
        "bob@example.com",
        True,
    )
    assert user.password != PASSWORD
    assert user.check_password(PASSWORD)


def test_user_register_reports_every_fields_errors_at_once(user):
    with pytest.raises(ValidationError) as error:
        user_register(username="alice", email="not an email", password="short")
    assert set(error.value.message_dict) == {"username", "email", "password"}
    assert User.objects.count() == 1


def test_user_register_normalizes_the_email_domain():
    user = user_register(username="bob", email="Bob@EXAMPLE.com", password=PASSWORD)
    assert user.email == "Bob@example.com"


def test_user_update_sets_only_the_self_editable_fields(user):
    updated = user_update(
        user=user,
        data={"first_name": "Ada", "is_staff": True, "username": "mallory"},
    )
    assert updated is user
    user.refresh_from_db()
    assert (user.first_name, user.is_staff, user.username) == ("Ada", False, "alice")


def test_user_update_refuses_an_invalid_email_and_saves_nothing(user):
    with pytest.raises(ValidationError) as error:
        user_update(user=user, data={"email": "not an email", "last_name": "X"})
    assert set(error.value.message_dict) == {"email"}
    user.refresh_from_db()
    assert (user.email, user.last_name) == ("alice@example.com", "")


def test_user_update_with_nothing_to_change_writes_nothing(
    user, django_assert_num_queries
):
    with django_assert_num_queries(0):
        assert user_update(user=user, data={"is_superuser": True}) is user


def test_user_change_password_sets_the_new_one(user):
    user_change_password(user=user, old_password=PASSWORD, new_password=NEW_PASSWORD)
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert not user.check_password(PASSWORD)


def test_user_change_password_needs_the_old_one(user):
    with pytest.raises(ValidationError) as error:
        user_change_password(
            user=user, old_password="not it", new_password=NEW_PASSWORD
        )
    assert error.value.message_dict == {"old_password": ["The old password is wrong."]}
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_user_change_password_refuses_what_the_validators_reject(user):
    with pytest.raises(ValidationError) as error:
        user_change_password(user=user, old_password=PASSWORD, new_password="alice")
    assert set(error.value.message_dict) == {"new_password"}
    assert len(error.value.message_dict["new_password"]) >= 2


def test_a_second_user_with_the_same_username_is_a_field_error():
    make_user("carol")
    with pytest.raises(ValidationError) as error:
        user_register(username="carol", email="c2@example.com", password=PASSWORD)
    assert set(error.value.message_dict) == {"username"}
