"""HTTP against the stacks under test: requests, cookies and the admin login."""

import http.client
import json
import ssl
import urllib.parse
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.cookies import SimpleCookie

# keel trusts this header from the TLS-terminating proxy it expects
# (SECURE_PROXY_SSL_HEADER): a request sent to a backend directly (the
# development stack, a kube replica) counts as HTTPS with it. Through the
# production stack's proxy it changes nothing: the proxy sets its own.
HTTPS = {"X-Forwarded-Proto": "https"}


@dataclass(frozen=True)
class Endpoint:
    """Where requests go: host:port, plain HTTP or TLS (the production proxy's).

    Over TLS the certificate is checked against cafile; without one it is
    taken as it is, as the proxy's self-signed one must be until read.
    """

    port: int
    host: str = "127.0.0.1"
    tls: bool = False
    cafile: str | None = None

    def connection(self, timeout: float) -> http.client.HTTPConnection:
        if not self.tls:
            return http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        if self.cafile:
            context = ssl.create_default_context(cafile=self.cafile)
        else:
            context = ssl._create_unverified_context()  # noqa: S323
        return http.client.HTTPSConnection(
            self.host, self.port, timeout=timeout, context=context
        )


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
    to: int | Endpoint,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    host: str = "127.0.0.1",
    timeout: float = 15,
) -> Response:
    """Return the response of an endpoint (or host:port) to one request.

    The Host header is 127.0.0.1:port whatever the address, as a proxy on the
    host would pass it on: DJANGO_ALLOWED_HOSTS names the host, not the
    address of a replica on a container network.
    """
    endpoint = to if isinstance(to, Endpoint) else Endpoint(to, host)
    connection = endpoint.connection(timeout)
    try:
        headers = {"Host": f"127.0.0.1:{endpoint.port}", **(headers or {})}
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return Response(response.status, response.headers, response.read())
    finally:
        connection.close()


def status(
    port: Endpoint, path: str, headers: dict[str, str] | None = None
) -> int | str:
    """Return the status of GET path, or why there was none."""
    try:
        return request(port, "GET", path, headers=headers).status
    except OSError as error:
        return f"no answer: {error!r}"


def answers(
    port: int | Endpoint,
    path: str = "/admin/",
    status: int = 302,
    host: str = "127.0.0.1",
) -> Callable[[], bool]:
    """Return a condition: GET path over (proxied) HTTPS has the given status."""

    def check() -> bool:
        try:
            return request(port, "GET", path, headers=HTTPS, host=host).status == status
        except OSError:
            return False

    return check


def admin_login(port: int | Endpoint, username: str, password: str) -> Response:
    """Return the admin's answer to a login form posted over (proxied) HTTPS."""
    number = port.port if isinstance(port, Endpoint) else port
    origin = f"https://127.0.0.1:{number}"
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


def load(
    addresses: list[str], path: str, headers: dict[str, str], *, parallel: int
) -> list[int]:
    """Return the statuses of GET path sent to port 8000 of every address at
    once, parallel requests at a time to each, four rounds of them: enough to
    busy every thread of a replica of 2 workers x 4 threads."""
    spread = [address for address in addresses for _ in range(4 * parallel)]
    with ThreadPoolExecutor(max_workers=parallel * len(addresses)) as pool:
        return list(
            pool.map(
                lambda address: (
                    request(
                        8000, "GET", path, headers=headers, host=address, timeout=60
                    ).status
                ),
                spread,
            )
        )
