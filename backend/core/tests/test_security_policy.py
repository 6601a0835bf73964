"""
Content-Security-Policy and Permissions-Policy: the admin and the API docs
still load everything they use under the policy, and nothing else would run.
"""

import base64
import hashlib
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from django.contrib.staticfiles import finders
from django.test import Client

from accounts.tests.factories import make_user
from core.middleware import PERMISSIONS_POLICY

pytestmark = pytest.mark.django_db

# The element and attribute that load each kind of resource, and its directive.
# A <link> is by its rel: a stylesheet is style-src, an icon img-src.
LOADS = {"script": "script-src", "img": "img-src", "iframe": "frame-src"}
# Script types a browser does not run (data blocks), which no policy governs.
DATA_BLOCK_TYPES = {"application/json", "text/template"}


class Resources(HTMLParser):
    """Collect what an HTML page loads or runs, as (directive, source) pairs."""

    def __init__(self) -> None:
        super().__init__()
        self.loads: list[tuple[str, str]] = []
        self.inline: list[tuple[str, str]] = []  # (directive, the element's text)
        self.handlers: list[str] = []  # on* and style attributes
        self._open: tuple[str, dict[str, str]] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = {name: value or "" for name, value in attrs}
        for name in attributes:
            if name.startswith("on") or name == "style":
                self.handlers.append(f"<{tag} {name}=...>")
        if tag == "link":
            rel = attributes.get("rel", "")
            directive = "style-src" if "stylesheet" in rel else "img-src"
            if "stylesheet" in rel or "icon" in rel:
                self.loads.append((directive, attributes["href"]))
        elif tag in LOADS and "src" in attributes:
            self.loads.append((LOADS[tag], attributes["src"]))
        elif tag in ("script", "style"):
            self._open = (tag, attributes)
            self._text = []

    def handle_data(self, data):
        if self._open is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        if self._open is not None and self._open[0] == tag:
            attributes = self._open[1]
            if tag == "style" or attributes.get("type") not in DATA_BLOCK_TYPES:
                directive = "style-src" if tag == "style" else "script-src"
                self.inline.append((directive, "".join(self._text)))
            self._open = None


def directives(policy: str) -> dict[str, list[str]]:
    parsed = {}
    for directive in policy.split(";"):
        name, *sources = directive.split()
        parsed[name] = sources
    return parsed


def allows(policy: dict[str, list[str]], directive: str, url: str) -> bool:
    """Return whether policy lets a page on the test server load url."""
    sources = policy.get(directive, policy["default-src"])
    parts = urlsplit(url)
    if parts.scheme == "data":
        return "data:" in sources
    same_origin = not parts.scheme and not parts.netloc and url.startswith("/")
    return same_origin and "'self'" in sources


def inline_allowed(policy: dict[str, list[str]], directive: str, text: str) -> bool:
    digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
    return f"'sha256-{digest}'" in policy[directive]


def assert_page_runs_under_its_policy(client, url):
    """Assert everything url's page loads is allowed, exists, and nothing else."""
    response = client.get(url, HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    policy = directives(response["Content-Security-Policy"])
    page = Resources()
    page.feed(response.content.decode())
    assert page.loads, url
    for directive, source in page.loads:
        assert allows(policy, directive, source), (url, directive, source)
        path = urlsplit(source).path
        if path.startswith("/static/"):
            assert finders.find(path.removeprefix("/static/")), source
        else:
            assert client.get(source).status_code == 200, source
    for directive, text in page.inline:
        assert inline_allowed(policy, directive, text), (url, directive, text[:80])
    assert page.handlers == [], url
    return page


@pytest.fixture
def admin_client():
    client = Client()
    client.force_login(make_user("root", is_staff=True, is_superuser=True))
    return client


def test_admin_login_page_loads_its_assets_under_the_policy(client, record_property):
    page = assert_page_runs_under_its_policy(client, "/admin/login/")
    record_property("admin_login_assets", len(page.loads))


def test_api_docs_page_loads_its_assets_and_script_under_the_policy(
    client, record_property
):
    page = assert_page_runs_under_its_policy(client, "/api/docs/")
    scripts = [source for directive, source in page.loads if directive == "script-src"]
    start = client.get(scripts[-1])  # Swagger UI's start-up, once inline
    assert start["Content-Type"].startswith("application/javascript")
    assert b"SwaggerUIBundle" in start.content
    record_property("docs_assets", len(page.loads))


@pytest.mark.parametrize(
    "url",
    [
        "/admin/",
        "/admin/accounts/user/",
        "/admin/accounts/user/add/",
        "/admin/procrastinate/procrastinatejob/",
        "/api/auth/me/",  # the browsable API, to a signed-in browser
    ],
)
def test_signed_in_admin_pages_run_under_the_policy(admin_client, url):
    assert_page_runs_under_its_policy(admin_client, url)


def test_the_policy_runs_no_inline_script_and_allows_no_other_origin(client):
    policy = directives(client.get("/admin/login/")["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert not any("unsafe" in s or "*" in s for v in policy.values() for s in v)
    assert not inline_allowed(policy, "script-src", "alert(1)")


@pytest.mark.parametrize("url", ["/api/auth/me/", "/readyz", "/admin/login/"])
def test_every_response_carries_the_permissions_policy(client, url):
    response = client.get(url)
    assert response["Permissions-Policy"] == PERMISSIONS_POLICY
    assert "camera=()" in PERMISSIONS_POLICY and "geolocation=()" in PERMISSIONS_POLICY


def test_json_responses_carry_no_content_security_policy(client):
    assert "Content-Security-Policy" not in client.get("/api/auth/me/")
