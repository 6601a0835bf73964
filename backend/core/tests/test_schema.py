"""The OpenAPI description: complete, valid, and its docs served by keel alone."""

import re
import sys
from html.parser import HTMLParser

import pytest
from drf_spectacular.validation import validate_schema

from django.core.management import call_command

from core.schema import NOT_ONLY_WHITESPACE
from testing.urls import api_views, routes

pytestmark = pytest.mark.django_db

# Paths under /api/ that describe the API rather than being part of it.
UNDESCRIBED = {"/api/schema/", "/api/docs/"}
# The errors any request can meet: a Host keel does not serve, a service down.
EVERYWHERE = {"400", "503"}


@pytest.fixture
def schema(client):
    response = client.get(
        "/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json"
    )
    assert response.status_code == 200
    return response.json()


def api_routes():
    """Yield every concrete route of the URLconf under /api/, as a schema path."""
    for route, _ in routes():
        route = "/" + route.lstrip("^").rstrip("$")
        if route.startswith("/api/") and "(?P<path>" not in route:  # not the 404
            yield re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)


def test_schema_is_valid_openapi_3(schema):
    assert schema["openapi"].startswith("3.")
    validate_schema(schema)


def test_schema_generation_has_no_warnings():
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")


def test_every_api_endpoint_is_in_the_schema(schema):
    missing = set(api_routes()) - UNDESCRIBED - set(schema["paths"])
    assert not missing


def test_every_operation_is_described_with_its_errors(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert operation.get("description") or operation.get("summary"), (
                f"{method.upper()} {path} has no description: give its view a docstring"
            )
            # 400 and 503 go on every operation; it must name its own too.
            errors = [
                c for c in operation["responses"] if c >= "400" and c not in EVERYWHERE
            ]
            assert errors, f"{method.upper()} {path} documents no error of its own"


def test_every_api_view_has_a_docstring_of_its_own():
    # drf-spectacular falls back to a base class's docstring, which would
    # describe a new endpoint with its parent's words.
    for route, view in api_views():
        if f"/{route}" in UNDESCRIBED:
            continue
        assert (vars(view).get("__doc__") or "").strip(), (
            f"{view.__name__} ({route}) needs a docstring: it is the endpoint's "
            "description in the schema"
        )


def test_bodies_are_described_as_json_only(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if "requestBody" in operation:
                media_types = set(operation["requestBody"]["content"])
                assert media_types == {"application/json"}, f"{method} {path}"


def test_required_text_fields_say_they_may_not_be_blank(schema):
    login = schema["components"]["schemas"]["TokenObtainRequest"]["properties"]
    assert login["username"] == {
        "type": "string",
        "minLength": 1,
        "pattern": NOT_ONLY_WHITESPACE,
    }
    # A password is not trimmed: spaces are characters like any other.
    assert login["password"] == {"type": "string", "minLength": 1}
    me = schema["components"]["schemas"]["PatchedMeRequest"]["properties"]
    assert "pattern" not in me["first_name"]  # it may be blank


def test_not_only_whitespace_pattern_is_what_drf_trims():
    # The pattern holds for a lone character exactly when str.strip() keeps it.
    # Both in Python and in ECMA-262 it is a plain class of escapes: no \s.
    pattern = re.compile(NOT_ONLY_WHITESPACE)
    assert "\\s" not in NOT_ONLY_WHITESPACE
    every = "".join(map(chr, range(sys.maxunicode + 1)))
    # One pass over every character: what the class does not match is exactly
    # what str.strip() drops.
    assert pattern.sub("", every) == "".join(c for c in every if not c.strip())


class AssetCollector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("src", "href") and value:
                self.urls.append(value)


def test_docs_load_with_no_network_beyond_keel(live):
    status, _, body = live.request("GET", "/api/docs/")
    assert status == 200
    page = body.decode()
    collector = AssetCollector()
    collector.feed(page)
    assert collector.urls
    assert DOCS_SCRIPT in collector.urls
    script = live.request("GET", DOCS_SCRIPT)[2].decode()
    for text in (page, script):
        assert "http://" not in text
        assert "https://" not in text
    assert '"validatorUrl": null' in script
    for url in collector.urls:
        assert url.startswith("/"), url
        assert live.request("GET", url)[0] == 200, url


def test_api_docs_are_off_with_the_setting(client, settings):
    settings.KEEL = {**settings.KEEL, "API_DOCS": False}
    assert client.get("/api/schema/").status_code == 404
    assert client.get("/api/docs/").status_code == 404


def test_every_operation_has_a_summary_for_the_docs_list(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert operation.get("summary"), f"{method.upper()} {path}"


def test_every_body_has_a_realistic_example(schema):
    """Swagger UI shows these beside each body and pre-fills try-it-out."""
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            bodies = [operation.get("requestBody", {}).get("content", {})]
            bodies += [
                response.get("content", {})
                for code, response in operation["responses"].items()
                if code.startswith("2")
            ]
            for content in bodies:
                for media in content.values():
                    assert media.get("examples"), f"{method.upper()} {path}"


def test_the_bearer_token_is_the_first_way_to_authorize(schema):
    schemes = list(schema["components"]["securitySchemes"].values())
    assert schemes[0]["scheme"] == "bearer"
    assert len(schemes) > 1, "the session cookie is offered too, second"


# Swagger UI's start-up script, with its settings: the page loads it from
# here rather than inline, for the Content-Security-Policy.
DOCS_SCRIPT = "/api/docs/?script="


def test_docs_keep_the_token_across_reloads(client):
    script = client.get(DOCS_SCRIPT).content.decode()
    assert '"persistAuthorization": true' in script
