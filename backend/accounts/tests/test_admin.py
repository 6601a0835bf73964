"""The user model in Django's admin, searchable by username and email."""

import pytest

from accounts.tests.factories import make_user

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("query", ["carol", "carol@example.org"])
def test_admin_finds_a_user_by_username_or_email(admin_client, query):
    make_user("carol", email="carol@example.org")
    make_user("dave", email="dave@example.net")
    response = admin_client.get("/admin/accounts/user/", {"q": query})
    assert response.status_code == 200
    assert b"carol@example.org" in response.content
    assert b"dave" not in response.content


def test_admin_search_by_email_alone_finds_the_user(admin_client):
    make_user("erin", email="unrelated-address@example.org")
    response = admin_client.get("/admin/accounts/user/", {"q": "unrelated-address"})
    assert b">erin<" in response.content
