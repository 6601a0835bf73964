"""
A bounded load run against the production server on real PostgreSQL.

64 connections on GET /api/auth/me/ for KEEL_LOAD_SECONDS (60 by default)
with pre-issued tokens, beside a 16-connection flood of failed logins, must
end with no non-2xx answer and no socket error. It takes a minute, so it runs
in ``make security`` (marker ``load``), not in ``make test``.
"""

import json
import os
import shutil
import signal

import pytest
from bench.run import figures, wrk

from configs.tests.test_server import start_production_server, stop
from testing.http import LiveClient

pytestmark = [pytest.mark.load, pytest.mark.django_db(transaction=True)]

SECONDS = int(os.environ.get("KEEL_LOAD_SECONDS", "60"))


def login(port, username, password):
    client = LiveClient.on_port(port, timeout=30)
    status, _, body = client.post_json(
        "/api/auth/token/", {"username": username, "password": password}
    )
    assert status == 200, body
    return json.loads(body)["access"]


def test_me_under_load_beside_a_login_flood_has_no_errors(
    tmp_path, settings, record_property
):
    if shutil.which("wrk") is None:
        pytest.skip("needs wrk (apt-get install wrk); make security installs it")
    password = "a long load-test passphrase"
    server, port, log = start_production_server(tmp_path, settings, {"load": password})
    try:
        token = login(port, "load", password)
        base = f"http://127.0.0.1:{port}"
        me = wrk(
            f"{base}/api/auth/me/",
            connections=64,
            seconds=SECONDS,
            authorization=f"Bearer {token}",
        )
        flood = wrk(
            f"{base}/api/auth/token/",
            connections=16,
            seconds=SECONDS,
            body=json.dumps({"username": "load", "password": "wrong " + password}),
        )
        me_figures, flood_figures = figures(me), figures(flood)
        # A graceful stop, so that every worker closes its database connection.
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    finally:
        stop(server)
    record_property("rps", round(me_figures["rps"]))
    record_property("p99_ms", round(me_figures["p99_ms"], 1))
    record_property("requests", me_figures["requests"])
    record_property("flood_rps", round(flood_figures["rps"]))
    assert me_figures["requests"] > 0
    assert me_figures["errors"] == 0, log.read_text()[-2000:]
