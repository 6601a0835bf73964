"""Sentry (core.sentry): a real sentry-sdk, a stand-in Sentry, nothing private sent."""

import gzip
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sentry_sdk

from rest_framework_simplejwt.tokens import RefreshToken

from accounts.tests.factories import make_user
from core.sentry import init_sentry


class StandInSentry(BaseHTTPRequestHandler):
    """Keep every envelope posted, decompressed."""

    envelopes: list[bytes]

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        encoding = self.headers.get("Content-Encoding", "")
        # sentry-sdk sends gzip, or brotli when the brotli package is installed
        # (keel does not install it).
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding:
            raise AssertionError(f"unexpected Content-Encoding {encoding}")
        self.server.envelopes.append(body)  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@pytest.fixture
def sentry(settings):
    """Yield the envelopes a stand-in Sentry receives from keel's sentry-sdk."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), StandInSentry)
    server.envelopes = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    dsn = f"http://{secrets.token_hex(16)}@127.0.0.1:{server.server_port}/42"
    settings.KEEL = {
        **settings.KEEL,
        "SENTRY": {
            **settings.KEEL["SENTRY"],
            "DSN": dsn,
            "ENVIRONMENT": "keel-test",
            "RELEASE": "keel@9.9.9",
        },
    }
    assert init_sentry()
    try:
        yield server.envelopes  # type: ignore[attr-defined]
    finally:
        sentry_sdk.get_client().close()
        sentry_sdk.get_global_scope().set_client(None)
        server.shutdown()
        server.server_close()


def events(envelopes):
    found = []
    for envelope in envelopes:
        lines = envelope.split(b"\n")
        for header, payload in zip(lines[1::2], lines[2::2], strict=False):
            if json.loads(header).get("type") == "event":
                found.append(json.loads(payload))
    return found


def wait_for_event(envelopes, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sentry_sdk.flush(timeout=1)
        if events(envelopes):
            return events(envelopes)
        time.sleep(0.05)
    raise AssertionError("no event reached the stand-in Sentry")


def test_sentry_is_off_without_a_dsn(settings):
    settings.KEEL = {**settings.KEEL, "SENTRY": {**settings.KEEL["SENTRY"], "DSN": ""}}
    assert init_sentry() is False


@pytest.mark.django_db(transaction=True)
def test_an_unhandled_exception_reaches_sentry_without_credentials(
    sentry, settings, live
):
    # Through a real WSGI server, as in production: Sentry's Django integration
    # reads the request from the WSGI environ.
    settings.ROOT_URLCONF = "core.tests.urls"
    password = f"pw-{secrets.token_hex(8)}"
    # A real access token, so that the request gets past authentication.
    token = str(RefreshToken.for_user(make_user()).access_token)
    session = f"sess-{secrets.token_hex(8)}"
    query_token = f"qt-{secrets.token_hex(8)}"
    status, _, _ = live.request(
        "POST",
        f"/api/test/broken/?token={query_token}",
        body=json.dumps({"username": "alice", "password": password}),
        headers={
            "Content-Type": "application/json",
            "Authorization": f"Bearer {token}",
            "Cookie": f"sessionid={session}; csrftoken={secrets.token_hex(8)}",
        },
    )
    assert status == 500

    (event,) = wait_for_event(sentry)
    (exception,) = event["exception"]["values"]
    assert exception["type"] == "RuntimeError"
    assert exception["value"].startswith("boom after reading a body")
    assert exception["mechanism"] == {"type": "django", "handled": False}
    assert event["release"] == "keel@9.9.9"
    assert event["environment"] == "keel-test"
    assert event["request"]["url"].endswith("/api/test/broken/")
    assert event["request"]["method"] == "POST"
    assert not sentry_sdk.get_client().options["send_default_pii"]
    sent = b"\n".join(sentry).decode()
    for secret in (password, token, session, query_token):
        assert secret not in sent
    headers = {name.lower() for name in event["request"]["headers"]}
    assert "content-type" in headers
    assert not headers & {"authorization", "cookie"}
