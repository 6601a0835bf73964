"""/metrics (core.metrics): off by default, token-only, counts by URL pattern."""

import runpy
import secrets

import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from django.db import OperationalError
from django.db.models import QuerySet
from django.test import Client

from configs.env import ConfigurationError
from core.metrics import UNMATCHED
from testing.environment import BACKEND, production_environment
from testing.tasks import QUEUE
from testing.worker import wait_until

TOKEN = secrets.token_urlsafe(32)


@pytest.fixture
def metrics_on(settings):
    """Install the middleware as KEEL_METRICS=1 does, with a known token."""
    after_log = settings.MIDDLEWARE.index("core.middleware.RequestLogMiddleware") + 1
    settings.MIDDLEWARE = [
        *settings.MIDDLEWARE[:after_log],
        "core.metrics.MetricsMiddleware",
        *settings.MIDDLEWARE[after_log:],
    ]
    settings.KEEL = {**settings.KEEL, "METRICS_TOKEN": TOKEN}
    settings.ROOT_URLCONF = "core.tests.urls"
    return Client()


def requests_counted(route, method="GET", status="200"):
    labels = {"route": route, "method": method, "status": status}
    return REGISTRY.get_sample_value("keel_http_requests_total", labels) or 0.0


def scrape(client, token=TOKEN):
    return client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}")


def test_metrics_are_not_served_unless_turned_on(client):
    assert client.get("/metrics").status_code == 404


@pytest.mark.parametrize(
    "header",
    [None, "Bearer", f"Bearer {TOKEN}x", TOKEN],
    ids=["no-header", "no-token", "wrong-token", "no-scheme"],
)
def test_metrics_need_the_token(metrics_on, header):
    extra = {"HTTP_AUTHORIZATION": header} if header is not None else {}
    response = metrics_on.get("/metrics", **extra)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.django_db  # a scrape reads the task queue
def test_metrics_are_answered_before_host_validation(metrics_on):
    # Like the probes: a scraper reaches the pod by address, with any Host.
    response = metrics_on.get(
        "/metrics", HTTP_HOST="10.0.0.7:8000", HTTP_AUTHORIZATION=f"Bearer {TOKEN}"
    )
    assert response.status_code == 200


@pytest.mark.django_db
def test_requests_are_counted_by_url_pattern_not_by_raw_path(metrics_on):
    me = requests_counted("/api/auth/me/", status="401")
    unmatched = requests_counted(UNMATCHED, status="404")
    healthz = requests_counted("/healthz")
    raw = f"/nothing-here-{secrets.token_hex(4)}/"

    assert metrics_on.get("/api/auth/me/").status_code == 401
    assert metrics_on.get(raw).status_code == 404
    assert metrics_on.get("/healthz").status_code == 200

    assert requests_counted("/api/auth/me/", status="401") == me + 1
    assert requests_counted(UNMATCHED, status="404") == unmatched + 1
    # Probes are answered first, before the request log and the metrics.
    assert requests_counted("/healthz") == healthz
    body = scrape(metrics_on).content.decode()
    assert raw not in body
    assert 'keel_http_request_duration_seconds_bucket{le="0.005",method="GET"' in body


def test_a_database_error_in_an_api_view_is_counted(metrics_on):
    before = REGISTRY.get_sample_value("keel_database_errors_total") or 0.0
    assert metrics_on.get("/api/test/database-down/").status_code == 503
    assert REGISTRY.get_sample_value("keel_database_errors_total") == before + 1


def task_queue(client):
    """Return the task queue's series of a scrape: {(name, labels...): value}."""
    families = text_string_to_metric_families(scrape(client).content.decode())
    return {
        (sample.name, *sample.labels.values()): sample.value
        for family in families
        if family.name.startswith("keel_task_queue_")
        for sample in family.samples
    }


def queue_of_the_tests(client):
    return {key: value for key, value in task_queue(client).items() if QUEUE in key}


@pytest.mark.django_db(transaction=True)
def test_the_task_queue_is_scraped_from_the_database_by_queue_and_status(
    metrics_on, start_worker, tmp_path
):
    from testing import tasks

    def queue(todo, doing, failed):
        return {
            ("keel_task_queue_jobs", QUEUE, "todo"): todo,
            ("keel_task_queue_jobs", QUEUE, "doing"): doing,
            ("keel_task_queue_failed_jobs", QUEUE): failed,
        }

    released = tmp_path / "released"
    with tasks.runs_table():
        assert queue_of_the_tests(metrics_on) == queue(0, 0, 0)
        # Every task's queue has its series, at 0 while empty.
        assert ("keel_task_queue_jobs", "default", "todo") in task_queue(metrics_on)
        tasks.fail.configure(schedule_in={"hours": 1}).batch_defer({}, {})
        tasks.wait_for_file.defer(path=str(released))
        tasks.fail.defer()
        assert queue_of_the_tests(metrics_on) == queue(4, 0, 0)

        worker = start_worker(DJANGO_SETTINGS_MODULE="testing.worker_settings")
        # The two due jobs run: one fails, one waits for the file; the two
        # scheduled in an hour wait.
        assert wait_until(
            lambda: queue_of_the_tests(metrics_on) == queue(2, 1, 1), timeout=30
        ), worker.output()
        released.touch()
        assert wait_until(
            lambda: queue_of_the_tests(metrics_on) == queue(2, 0, 1), timeout=30
        ), worker.output()


def test_a_scrape_answers_without_the_task_queue_when_the_database_fails(
    metrics_on, monkeypatch
):
    def down(*args, **kwargs):
        raise OperationalError("the database is down")

    monkeypatch.setattr(QuerySet, "__iter__", down)
    before = REGISTRY.get_sample_value("keel_database_errors_total") or 0.0
    response = scrape(metrics_on)
    assert response.status_code == 200
    assert b"keel_http_requests_total" in response.content
    assert b"keel_task_queue" not in response.content
    assert REGISTRY.get_sample_value("keel_database_errors_total") == before + 1


def load_settings(monkeypatch, **variables):
    for name, value in {**production_environment(), **variables}.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(BACKEND / "configs" / "settings.py"))


def test_metrics_without_a_token_refuse_to_start_naming_it(monkeypatch):
    short = "short-token-value"
    with pytest.raises(ConfigurationError) as error:
        load_settings(monkeypatch, KEEL_METRICS="1", KEEL_METRICS_TOKEN=short)
    assert "KEEL_METRICS_TOKEN must be set" in str(error.value)
    assert short not in str(error.value)


def test_metrics_on_puts_the_middleware_after_the_request_log(monkeypatch):
    loaded = load_settings(monkeypatch, KEEL_METRICS="1", KEEL_METRICS_TOKEN=TOKEN)
    assert loaded["MIDDLEWARE"][:4] == [
        "core.middleware.SecurityPolicyMiddleware",
        "core.middleware.ProbeMiddleware",
        "core.middleware.RequestLogMiddleware",
        "core.metrics.MetricsMiddleware",
    ]
    off = load_settings(monkeypatch, KEEL_METRICS="0")
    assert "core.metrics.MetricsMiddleware" not in off["MIDDLEWARE"]
