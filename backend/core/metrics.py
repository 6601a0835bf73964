"""
Prometheus metrics: what keel counts, and /metrics, which answers a scrape.

With ``KEEL_METRICS=1`` settings put ``MetricsMiddleware`` near the top of
MIDDLEWARE (off, it is not there and costs nothing). It answers ``/metrics``
before host validation, sessions and the rest, like the probes, and only to a
request bearing ``KEEL_METRICS_TOKEN``; it times and counts every other
request by the URL pattern that resolved it (never the raw path, which would
make a series per user id), its method and its status.

The production server runs several worker processes, so ``bin/serve`` gives
them a shared, emptied PROMETHEUS_MULTIPROC_DIR: each worker writes its own
files there and a scrape, whichever worker takes it, adds them all up.

Other code counts through the small functions below; they are cheap whether
metrics are served or not. The task queue's figures are not counted but read:
each scrape (one with the token) asks PostgreSQL how many jobs each queue holds
in each state, one grouped query over Procrastinate's table, so they are right
whichever process ran the jobs.
"""

import contextlib
import hmac
import os
import time
from collections.abc import Callable, Iterable, Iterator

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from redis.exceptions import RedisError

from django.conf import settings
from django.db import DatabaseError, InterfaceError
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, JsonResponse

# Paths answered by middleware before URL resolution, so with no pattern.
EARLY_PATHS = frozenset({"/healthz", "/readyz"})
UNMATCHED = "unmatched"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

REQUESTS = Counter(
    "keel_http_requests",
    "HTTP requests answered, by URL pattern, method and status.",
    ["route", "method", "status"],
)
LATENCY = Histogram(
    "keel_http_request_duration_seconds",
    "Seconds from the request reaching keel's middleware to its response.",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
DATABASE_ERRORS = Counter(
    "keel_database_errors", "Requests that failed on a PostgreSQL error."
)
CACHE_ERRORS = Counter("keel_cache_errors", "Requests that failed on a Redis error.")
PASSWORD_CHECKS_IN_FLIGHT = Gauge(
    "keel_password_checks_in_flight",
    "Password checks (login, password change) running now, all workers.",
    multiprocess_mode="livesum",
)
PASSWORD_CHECKS_REFUSED = Counter(
    "keel_password_checks_refused",
    "Password checks refused with 503: the client IP's cap or the wait ran out.",
)


def count_backing_service_error(error: BaseException) -> None:
    """Count error if PostgreSQL or Redis raised it."""
    if isinstance(error, DatabaseError | InterfaceError):
        DATABASE_ERRORS.inc()
    elif isinstance(error, RedisError):
        CACHE_ERRORS.inc()


def password_check_refused() -> None:
    PASSWORD_CHECKS_REFUSED.inc()


@contextlib.contextmanager
def password_check_in_flight() -> Iterator[None]:
    """Count a password check as running for as long as the block runs."""
    with PASSWORD_CHECKS_IN_FLIGHT.track_inprogress():
        yield


def route_of(request: HttpRequest) -> str:
    """Return the URL pattern that answered request, never its raw path."""
    match = getattr(request, "resolver_match", None)
    if match is not None and match.route:
        return f"/{match.route}"
    if request.path in EARLY_PATHS:
        return request.path
    return UNMATCHED


class TaskQueueCollector(Collector):
    """Procrastinate's jobs waiting, running and failed, by queue, from PostgreSQL."""

    STATES = ("todo", "doing")

    def collect(self) -> Iterable[Metric]:
        # Imported here: a model cannot be imported before the apps are loaded,
        # and this module is imported while they load.
        from procrastinate.contrib.django import app
        from procrastinate.contrib.django.models import ProcrastinateJob

        try:
            rows = list(
                ProcrastinateJob.objects.filter(status__in=(*self.STATES, "failed"))
                .values_list("queue_name", "status")
                .annotate(count=Count("id"))
                .order_by()
            )
        except (DatabaseError, InterfaceError) as error:
            # The scrape still answers; the queue's series are absent from it.
            count_backing_service_error(error)
            return
        counts = {(queue, status): count for queue, status, count in rows}
        # Every task's queue has its series, at 0 while it is empty.
        queues = sorted({task.queue for task in app.tasks.values()} | {
            queue for queue, _ in counts
        })  # fmt: skip
        jobs = GaugeMetricFamily(
            "keel_task_queue_jobs",
            "Jobs waiting (todo) or running (doing), by queue.",
            labels=["queue", "status"],
        )
        failed = GaugeMetricFamily(
            "keel_task_queue_failed_jobs",
            "Failed jobs kept in the database (for 30 days), by queue.",
            labels=["queue"],
        )
        for queue in queues:
            for status in self.STATES:
                jobs.add_metric([queue, status], counts.get((queue, status), 0))
            failed.add_metric([queue], counts.get((queue, "failed"), 0))
        yield jobs
        yield failed


TASK_QUEUE = CollectorRegistry()
TASK_QUEUE.register(TaskQueueCollector())


def exposition() -> bytes:
    """Return every metric in Prometheus' text format, all workers' summed."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry = REGISTRY
    return generate_latest(registry) + generate_latest(TASK_QUEUE)


class MetricsMiddleware:
    """Answer /metrics to the bearer of KEEL_METRICS_TOKEN; count the rest."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.expected = f"Bearer {settings.KEEL['METRICS_TOKEN']}".encode()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path == "/metrics":
            return self.scrape(request)
        started = time.perf_counter()
        response = self.get_response(request)
        route = route_of(request)
        method = request.method if request.method in METHODS else "other"
        REQUESTS.labels(route, method, str(response.status_code)).inc()
        LATENCY.labels(route, method).observe(time.perf_counter() - started)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        # API views map these to a 503 themselves (core.exceptions counts them);
        # this sees the rest, such as the admin's.
        count_backing_service_error(exception)

    def scrape(self, request: HttpRequest) -> HttpResponse:
        offered = request.META.get("HTTP_AUTHORIZATION", "").encode()
        if not hmac.compare_digest(offered, self.expected):
            response = JsonResponse(
                {
                    "detail": "A valid metrics token is required.",
                    "code": "not_authenticated",
                },
                status=401,
            )
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
        return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
