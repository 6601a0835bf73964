"""
Fixtures for the accounts tests: a user, API clients and real tokens.

Imports of Django code happen inside the fixtures: pytest may load this file
before the root conftest has configured Django.
"""

import pytest


@pytest.fixture
def user(db):
    from accounts.tests.factories import make_user

    return make_user()


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def tokens(user, api_client):
    """Return the access and refresh tokens of a real login as user."""
    from accounts.tests.factories import login

    response = login(api_client)
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def auth_client(tokens):
    from accounts.tests.factories import bearer

    return bearer(tokens["access"])


@pytest.fixture
def open_registration(settings):
    """Turn registration on, as KEEL_ALLOW_REGISTRATION=1 does."""
    settings.KEEL = {**settings.KEEL, "ALLOW_REGISTRATION": True}
