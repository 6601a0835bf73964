"""A plain HTTP/1.1 client for tests that talk to a live server."""

import http.client
import json
import ssl
from typing import Any
from urllib.parse import urlsplit


class LiveClient:
    """
    Plain HTTP/1.1 to a live server: no redirects followed, headers verbatim;
    over TLS for an https URL, with any certificate (a test's self-signed one).
    """

    def __init__(self, url: str, timeout: float = 10, source: str = "") -> None:
        address = urlsplit(url)
        self.host, self.port = address.hostname or "127.0.0.1", address.port
        self.tls = address.scheme == "https"
        self.timeout = timeout
        # The local address to connect from: on Linux every 127.x.y.z is this
        # machine's, so clients on loopback can come from distinct addresses.
        self.source = source

    @classmethod
    def on_port(
        cls, port: int, timeout: float = 10, source: str = "", tls: bool = False
    ) -> "LiveClient":
        """Return a client of the server listening on 127.0.0.1:port."""
        scheme = "https" if tls else "http"
        return cls(f"{scheme}://127.0.0.1:{port}", timeout=timeout, source=source)

    def tls_context(self) -> ssl.SSLContext:
        """Return a TLS context that takes any certificate."""
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context

    def connect(self) -> http.client.HTTPConnection:
        """Return a new connection to the server, from the source address if any."""
        if self.tls:
            return http.client.HTTPSConnection(
                self.host,
                self.port,
                timeout=self.timeout,
                source_address=(self.source, 0) if self.source else None,
                context=self.tls_context(),
            )
        return http.client.HTTPConnection(
            self.host,
            self.port,
            timeout=self.timeout,
            source_address=(self.source, 0) if self.source else None,
        )

    def request(
        self,
        method: str,
        path: str,
        body: bytes | str | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        """Return the status, headers and body of one request, on a new connection."""
        connection = self.connect()
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()

    def post_json(
        self, path: str, data: Any, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        """POST data as a JSON body."""
        return self.request(
            "POST",
            path,
            body=json.dumps(data),
            headers={"Content-Type": "application/json", **(headers or {})},
        )
