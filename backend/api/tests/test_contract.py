"""The seed's contract, checked over HTTP against a running server."""

import pytest

pytestmark = pytest.mark.django_db


def test_admin_redirects_to_login(live):
    status, headers, _ = live.request("GET", "/admin/")
    assert status == 302
    assert "/admin/login/" in headers["Location"]


def test_api_root_is_404(live):
    assert live.request("GET", "/api/")[0] == 404


def test_site_root_is_404(live):
    assert live.request("GET", "/")[0] == 404
