"""The debug error page (DEBUG on) shows no credential, whatever its name."""

from typing import Any

import pytest

from django.test import Client

from core.debug import SafeExceptionReporterFilter

pytestmark = [pytest.mark.urls("core.tests.urls"), pytest.mark.django_db]

SECRET = "s3cr3t-Pa55word"
# Variables whose value carries a credential under a name Django's filter does
# not know, each with the part that must still show (so the page is checked).
CREDENTIAL_URLS = {
    "MONGO_URL": (
        f"mongodb://keel:{SECRET}@mongo.internal:27017/keel",
        "mongo.internal",
    ),
    "REDIS_URL": (f"redis://:{SECRET}@redis.internal:6379/0", "redis.internal"),
    "DATABASE_URL": (f"postgres://keel:{SECRET}@db.internal/keel", "db.internal"),
    "AMQP_URL": (f"amqps://{SECRET}@mq.internal/vhost", "mq.internal"),
    "UPSTREAM_URL": (
        f"https://api.example.com/v1?user=keel&password={SECRET}",
        "api.example.com",
    ),
    "ELASTIC_HOSTS": (f"https://a:{SECRET}@es1:9200,https://es2:9200", "es1:9200"),
    "SENTRY_DSN": (f"https://{SECRET}@o1.ingest.sentry.io/1", "SENTRY_DSN"),
}


@pytest.fixture
def debug_page(settings):
    """Return the technical 500 page of a request that carries CREDENTIAL_URLS."""
    settings.DEBUG = True
    settings.KEEL = {**settings.KEEL, "MONGO_URL": CREDENTIAL_URLS["MONGO_URL"][0]}
    settings.REDIS_URL = CREDENTIAL_URLS["REDIS_URL"][0]
    settings.CACHES = {
        **settings.CACHES,
        "sessions": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": CREDENTIAL_URLS["REDIS_URL"][0],
        },
    }
    # A development server (runserver, wsgiref) puts the process's environment
    # in request.META, so the page lists it there.
    environment: dict[str, Any] = {
        name: url for name, (url, _shown) in CREDENTIAL_URLS.items()
    }
    client = Client(raise_request_exception=False)
    response = client.get("/test/broken-page/", **environment)
    assert response.status_code == 500
    page = response.content.decode()
    assert "Traceback" in page and "mongo_url" in page  # the technical page
    return page


def test_debug_page_masks_credentials_in_urls_and_shows_the_rest(
    debug_page, record_property
):
    assert SECRET not in debug_page
    for name, (_url, shown) in CREDENTIAL_URLS.items():
        assert name in debug_page
        assert shown in debug_page
    record_property("variables", len(CREDENTIAL_URLS))
    record_property("shown", debug_page.count(SECRET))


@pytest.mark.parametrize(
    "value, masked",
    [
        ("mongodb://u:secret@h/db", "mongodb://********************@h/db"),
        ("redis://:p@ss@h:6379/0", "redis://********************@h:6379/0"),
        (
            "https://h/?a=1&api_key=k&b=2",
            "https://h/?a=1&api_key=********************&b=2",
        ),
        ("https://keel.example.com/reset", "https://keel.example.com/reset"),
        ("user@example.com", "user@example.com"),
    ],
)
def test_mask_hides_a_urls_credentials_only(value, masked):
    assert SafeExceptionReporterFilter().mask(value) == masked
