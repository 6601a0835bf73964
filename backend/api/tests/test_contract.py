"""The seed's contract, checked over HTTP against a running server."""

import http.client
from urllib.parse import urlsplit

import pytest


def get(live_server, path):
    """Return the status and Location of GET path, without following redirects."""
    address = urlsplit(live_server.url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.getheader("Location", "")
    finally:
        connection.close()


@pytest.mark.django_db
def test_admin_redirects_to_login(live_server):
    status, location = get(live_server, "/admin/")
    assert status == 302
    assert "/admin/login/" in location


@pytest.mark.django_db
def test_api_root_is_404(live_server):
    assert get(live_server, "/api/")[0] == 404


@pytest.mark.django_db
def test_site_root_is_404(live_server):
    assert get(live_server, "/")[0] == 404
