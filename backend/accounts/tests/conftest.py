"""
Fixtures for the accounts tests only; the user, API clients and tokens every
app's tests share are in backend/conftest.py.
"""

import pytest


@pytest.fixture
def open_registration(settings):
    """Turn registration on, as KEEL_ALLOW_REGISTRATION=1 does."""
    settings.KEEL = {**settings.KEEL, "ALLOW_REGISTRATION": True}
