"""
keel's proxy (deploy/proxy/nginx.conf, run by Debian's nginx: testing/proxy.py)
limits the URLs that check a password per client address, in front of the
backend: a burst of 20, then 5 a second, each refusal a 429 in keel's error
shape that no worker sees. Any other URL, and any other address, goes through.
It runs in make security (marker ``load``), which has nginx.
"""

import json
import threading
import time
from urllib.parse import urlsplit

import pytest

from testing.http import LiveClient
from testing.proxy import HostProxy

pytestmark = [pytest.mark.load, pytest.mark.django_db(transaction=True)]

BURST, RATE = 20, 5  # nginx.conf's limit_req: a burst of 20, then 5 a second
PASSWORD_URLS = [
    "/api/auth/token/",
    "/api/auth/register/",
    "/api/auth/password/change/",
    "/admin/login/",
]


@pytest.fixture
def proxy(live_server):
    with HostProxy(f"127.0.0.1:{urlsplit(live_server.url).port}") as proxy:
        yield proxy


def log_lines(proxy, source, path):
    """Return nginx's access log lines of requests from source for path."""
    return [
        line
        for line in proxy.log.read_text().splitlines()
        if line.startswith(f'{source} "') and f" {path} HTTP/1.1" in line
    ]


def reached_backend(proxy, source, path):
    """Return how many requests from source for path nginx passed to the backend."""
    return sum("upstream=-" not in line for line in log_lines(proxy, source, path))


def burst(proxy, path, count, source):
    """
    Send count POSTs to path at once from source; return their answers (status,
    headers, body) and the seconds from the first sent to the last answered.
    """
    client = LiveClient.on_port(proxy.https_port, source=source, tls=True)
    start = threading.Barrier(count)
    answers = []

    def one():
        start.wait()
        status, headers, body = client.post_json(path, {"username": "x"})
        answers.append((status, headers, body))

    threads = [threading.Thread(target=one) for _ in range(count)]
    for thread in threads:
        thread.start()
    began = time.monotonic()
    for thread in threads:
        thread.join()
    return answers, time.monotonic() - began


@pytest.mark.parametrize("path", PASSWORD_URLS)
def test_a_burst_on_a_password_url_is_refused_in_the_proxy(
    proxy, path, record_property
):
    answers, seconds = burst(proxy, path, 60, source="127.0.5.1")
    # The burst and the first at the rate, and 5 more for each second that
    # sending the 60 took (on two cores, a second or more with TLS). Those
    # the backend answers may be 429s of its own: keel counts each attempt
    # per address before it looks at the body.
    passed = reached_backend(proxy, "127.0.5.1", path)
    assert len(log_lines(proxy, "127.0.5.1", path)) == 60
    assert BURST <= passed <= BURST + 1 + RATE * seconds, (passed, seconds)
    from_nginx = [(h, b) for _, h, b in answers if h.get("Retry-After") == "1"]
    assert len(from_nginx) >= 60 - passed
    for headers, body in from_nginx:
        assert json.loads(body)["code"] == "throttled"
        assert headers["Content-Type"] == "application/json"
    record_property("passed_of_60", passed)
    record_property("seconds", round(seconds, 2))


def test_other_urls_and_other_addresses_are_not_limited(proxy):
    flooder, other = "127.0.5.2", "127.0.5.3"
    burst(proxy, "/api/auth/token/", 60, source=flooder)
    # The flooding address reads the API as before...
    client = LiveClient.on_port(proxy.https_port, source=flooder, tls=True)
    statuses = {client.request("GET", "/healthz")[0] for _ in range(40)}
    assert statuses == {200}
    burst(proxy, "/api/auth/token/refresh/", 40, source=flooder)
    assert reached_backend(proxy, flooder, "/api/auth/token/refresh/") == 40
    # ...and another address logs in as before.
    burst(proxy, "/api/auth/token/", BURST, source=other)
    assert reached_backend(proxy, other, "/api/auth/token/") == BURST
