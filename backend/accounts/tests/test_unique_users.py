"""
One account per username and per address in any case, usernames in NFKC and
of one script: kept by PostgreSQL, reported as field errors on every path.
"""

import importlib
from unittest import mock

import pytest

from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tests.factories import (
    EMAIL_CHANGE_CONFIRM_URL,
    ME_URL,
    PASSWORD,
    REGISTER_URL,
    link_params,
    make_user,
)
from accounts.validators import scripts_of

pytestmark = pytest.mark.django_db

CYRILLIC_ALICE = "\u0430lice"  # the first letter is Cyrillic a
FULLWIDTH_ALICE = "\uff41\uff4c\uff49\uff43\uff45"


def register(username="bob", email="bob@example.com"):
    return APIClient().post(
        REGISTER_URL,
        {"username": username, "email": email, "password": PASSWORD},
        format="json",
    )


@pytest.mark.parametrize("username", ["Alice", "ALICE", FULLWIDTH_ALICE])
def test_registration_refuses_a_username_taken_in_another_spelling(
    open_registration, username
):
    make_user("alice")
    response = register(username=username)
    assert response.status_code == 400
    assert response.json() == {
        "username": ["A user with that username already exists."]
    }
    assert User.objects.count() == 1


def test_registration_refuses_an_address_taken_in_another_case(open_registration):
    make_user("alice", email="alice@example.com")
    response = register(email="ALICE@example.com")
    assert response.status_code == 400
    assert response.json() == {
        "email": ["A user with that email address already exists."]
    }


def test_registration_refuses_a_username_that_mixes_scripts(open_registration):
    make_user("alice")
    response = register(username=CYRILLIC_ALICE)
    assert response.status_code == 400
    assert list(response.json()) == ["username"]
    assert "Cyrillic, Latin" in response.json()["username"][0]


def test_registration_stores_the_username_in_nfkc(open_registration):
    assert register(username=FULLWIDTH_ALICE).status_code == 201
    assert User.objects.get().username == "alice"


@pytest.mark.parametrize(
    ("field", "status"), [("username", "bob"), ("email", "bob@example.com")]
)
def test_a_race_lost_at_the_insert_is_a_field_error_not_a_500(
    open_registration, field, status
):
    make_user("bob" if field == "username" else "carol", email="bob@example.com")
    # As if the other request inserted between this one's checks and its insert.
    with (
        mock.patch.object(User, "validate_unique"),
        mock.patch.object(User, "validate_constraints"),
    ):
        response = register(
            username="BOB" if field == "username" else "bob", email="Bob@example.com"
        )
    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_the_database_refuses_case_variants_and_non_nfkc_names(record_property):
    make_user("alice", email="alice@example.com")
    variants = (
        {"username": "Alice", "email": "x@example.com"},
        {"username": "x", "email": "Alice@Example.com"},
        {"username": FULLWIDTH_ALICE[:3], "email": "y@example.com"},
    )
    for fields in variants:
        # create() runs no validation: only PostgreSQL stands in the way.
        with pytest.raises(IntegrityError), transaction.atomic():
            User.objects.create(**fields)
    record_property("refused_by_database", len(variants))


def test_many_users_may_have_no_address():
    make_user("alice", email="")
    make_user("bob", email="")
    assert User.objects.filter(email="").count() == 2


@pytest.mark.parametrize(
    ("value", "scripts"),
    [
        ("alice", {"LATIN"}),
        (CYRILLIC_ALICE, {"LATIN", "CYRILLIC"}),
        (FULLWIDTH_ALICE, {"LATIN"}),
        ("user_1@x.y", {"LATIN"}),
        ("\u6771\u4eactaro", {"HAN", "LATIN"}),
    ],
)
def test_scripts_of_names_each_letters_script(value, scripts):
    assert scripts_of(value) == scripts


@pytest.mark.parametrize(
    "username",
    [
        "\u0438\u0432\u0430\u043d",  # Cyrillic only
        "\u6771\u4eac\u3072\u3089taro",  # Han, Hiragana and Latin: Japanese usage
        "\uae40\ucca0\uc218kim",  # Hangul and Latin
    ],
)
def test_usernames_of_one_script_or_an_allowed_mix_are_accepted(username):
    User(username=username, email="a@example.com").full_clean(exclude=["password"])


def test_email_change_to_an_address_taken_in_another_case_is_400(user, auth_client):
    make_user("bob", email="bob@example.com")
    response = auth_client.patch(ME_URL, {"email": "BOB@example.com"}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "email": ["A user with that email address already exists."]
    }


def test_email_change_to_an_address_taken_since_is_400(
    user, auth_client, jobs, frontend
):
    from django.core import mail

    assert auth_client.patch(ME_URL, {"email": "new@example.com"}).status_code == 200
    jobs.run()
    (message,) = [m for m in mail.outbox if m.to == ["new@example.com"]]
    make_user("bob", email="New@example.com")
    response = APIClient().post(
        EMAIL_CHANGE_CONFIRM_URL,
        link_params(message, "confirm-email-change"),
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "email": ["A user with that email address already exists."]
    }
    user.refresh_from_db()
    assert user.email == "alice@example.com"


def test_admin_add_form_refuses_a_case_variant_and_mixed_scripts(admin_client):
    for username in ("ADMIN", CYRILLIC_ALICE.replace("lice", "dmin")):
        response = admin_client.post(
            "/admin/accounts/user/add/",
            {
                "username": username,
                "usable_password": "true",
                "password1": PASSWORD,
                "password2": PASSWORD,
            },
        )
        assert response.status_code == 200  # the form again, with its errors
        assert response.context["adminform"].form.errors.keys() == {"username"}
    assert User.objects.count() == 1


def test_admin_change_form_refuses_an_address_taken_in_another_case(admin_client):
    make_user("alice", email="alice@example.com")
    bob = make_user("bob", email="bob@example.com")
    response = admin_client.post(
        f"/admin/accounts/user/{bob.pk}/change/",
        {
            "username": "bob",
            "email": "ALICE@example.com",
            "is_active": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        },
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["email"] == [
        "A user with that email address already exists."
    ]


def test_createsuperuser_stores_the_username_in_nfkc(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", PASSWORD)
    call_command(
        "createsuperuser", username=FULLWIDTH_ALICE, email="", interactive=False
    )
    assert User.objects.get().username == "alice"


@pytest.mark.parametrize("wanted", ["ALICE", FULLWIDTH_ALICE])
def test_ensure_superuser_finds_the_superuser_in_any_spelling(settings, wanted):
    make_user("alice")
    settings.KEEL = {
        **settings.KEEL,
        "SUPERUSER": {"USERNAME": wanted, "PASSWORD": PASSWORD, "EMAIL": ""},
    }
    call_command("ensure_superuser")
    assert list(User.objects.values_list("username", flat=True)) == ["alice"]


def test_migration_names_the_rows_it_cannot_make_unique():
    migration = importlib.import_module(
        "accounts.migrations.0003_case_insensitive_unique_users"
    )
    with connection.cursor() as cursor:  # as before 0003; the test's rollback undoes it
        cursor.execute(
            "DROP INDEX accounts_user_username_ci_unique;"
            " DROP INDEX accounts_user_email_ci_unique;"
            " ALTER TABLE accounts_user DROP CONSTRAINT accounts_user_username_nfkc"
        )
    a = make_user("alice", email="a@example.com")
    b = make_user("Alice", email="A@example.com")
    c = make_user("carol", email="c@example.com")  # the manager would normalize
    User.objects.filter(pk=c.pk).update(username=FULLWIDTH_ALICE)
    with pytest.raises(RuntimeError) as raised:
        migration.refuse_rows_that_break_the_rules(None, connection.schema_editor())
    message = str(raised.value)
    assert f"users {a.pk}, {b.pk} share a username but for case ('alice')" in message
    assert f"users {a.pk}, {b.pk} share an email address but for case" in message
    assert f"users {c.pk} have a username that is not in NFKC form" in message
    assert User.objects.count() == 3  # nothing deleted
