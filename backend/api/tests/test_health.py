"""database_error(): the check behind the entrypoint's wait and the probes."""

import secrets
import socket

import pytest

from django.db import connections

from api.health import database_error


def closed_port():
    """Return a local port that nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.django_db
def test_database_error_is_none_when_the_database_answers():
    assert database_error() is None


@pytest.mark.django_db
def test_database_error_names_the_failure_when_nothing_listens(monkeypatch):
    monkeypatch.setitem(connections["default"].settings_dict, "PORT", closed_port())
    reason = database_error(timeout=2)
    assert reason is not None
    assert reason.startswith("OperationalError: ")
    assert "\n" not in reason


@pytest.mark.django_db
def test_database_error_never_contains_the_password(monkeypatch):
    password = f"pw{secrets.token_hex(8)}"
    settings_dict = connections["default"].settings_dict
    # An unresolvable host whose name carries the password, so that the
    # driver's message would show it if nothing masked it.
    monkeypatch.setitem(settings_dict, "HOST", f"{password}.invalid")
    monkeypatch.setitem(settings_dict, "PASSWORD", password)
    reason = database_error()
    assert reason is not None
    assert "***" in reason
    assert password not in reason


@pytest.mark.django_db
def test_database_error_leaves_the_shared_connection_settings_alone():
    settings_dict = connections["default"].settings_dict
    before = repr(settings_dict)
    database_error(timeout=3)
    assert repr(settings_dict) == before
