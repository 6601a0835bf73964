"""Fixtures for the api app's tests."""

import http.client
from urllib.parse import urlsplit

import pytest


class LiveClient:
    """Plain HTTP/1.1 to the live server: no redirects followed, headers verbatim."""

    def __init__(self, url: str) -> None:
        address = urlsplit(url)
        self.host, self.port = address.hostname or "127.0.0.1", address.port

    def request(self, method, path, body=None, headers=None):
        connection = http.client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()


@pytest.fixture
def live(live_server):
    return LiveClient(live_server.url)
