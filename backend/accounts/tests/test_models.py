"""The custom user exists from the first migration."""

import pytest

from django.contrib.auth import get_user_model
from django.db import connection

from accounts.models import User


def test_auth_user_model_is_keel_user():
    assert get_user_model() is User


@pytest.mark.django_db
def test_user_table_exists_and_django_auth_user_does_not():
    tables = connection.introspection.table_names()
    assert "accounts_user" in tables
    assert "auth_user" not in tables


@pytest.mark.django_db
def test_user_is_registered_in_admin_with_search(admin_client):
    from accounts.tests.factories import make_user

    make_user("zed", email="zed@example.net")
    response = admin_client.get("/admin/accounts/user/", {"q": "admin"})
    assert response.status_code == 200
    # The search finds the superuser's row and leaves the other user out.
    assert b">admin<" in response.content
    assert b"zed" not in response.content
