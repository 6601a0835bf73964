"""HTTP against the stacks under test: requests, cookies and the admin login."""

import http.client
import json
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from http.cookies import SimpleCookie

# No proxy sits in front of the stacks here. keel trusts this header from the
# TLS-terminating proxy it expects (SECURE_PROXY_SSL_HEADER), so with it a
# request counts as HTTPS and reaches the app instead of the HTTPS redirect.
HTTPS = {"X-Forwarded-Proto": "https"}


@dataclass(frozen=True)
class Superuser:
    username: str
    password: str


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> dict[str, object]:
        return dict(json.loads(self.body))

    def cookies(self) -> dict[str, str]:
        """Return the cookies the response sets, by name."""
        jar: SimpleCookie = SimpleCookie()
        for header in self.headers.get_all("Set-Cookie") or []:
            jar.load(header)
        return {name: morsel.value for name, morsel in jar.items()}


def request(
    port: int,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    host: str = "127.0.0.1",
) -> Response:
    """Return the response of host:port to one request (15 s at most).

    The Host header is 127.0.0.1:port whatever the address, as a proxy on the
    host would pass it on: DJANGO_ALLOWED_HOSTS names the host, not the
    address of a replica on a container network.
    """
    connection = http.client.HTTPConnection(host, port, timeout=15)
    try:
        headers = {"Host": f"127.0.0.1:{port}", **(headers or {})}
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return Response(response.status, response.headers, response.read())
    finally:
        connection.close()


def answers(
    port: int, path: str = "/admin/", status: int = 302, host: str = "127.0.0.1"
) -> Callable[[], bool]:
    """Return a condition: GET path over (proxied) HTTPS has the given status."""

    def check() -> bool:
        try:
            return request(port, "GET", path, headers=HTTPS, host=host).status == status
        except OSError:
            return False

    return check


def admin_login(port: int, username: str, password: str) -> Response:
    """Return the admin's answer to a login form posted over (proxied) HTTPS."""
    origin = f"https://127.0.0.1:{port}"
    page = request(port, "GET", "/admin/login/", headers=HTTPS)
    if page.status != 200:
        raise AssertionError(f"GET /admin/login/ is {page.status}, not 200")
    csrf = page.cookies()["csrftoken"]
    form = urllib.parse.urlencode(
        {"username": username, "password": password, "csrfmiddlewaretoken": csrf}
    ).encode()
    return request(
        port,
        "POST",
        "/admin/login/?next=/admin/",
        body=form,
        headers={
            **HTTPS,
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={csrf}",
            "Origin": origin,
            "Referer": f"{origin}/admin/login/",
        },
    )
