"""keel's content negotiation picks exactly what DRF's own would."""

import pytest

from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from core.negotiation import ContentNegotiation

RENDERERS = [JSONRenderer(), BrowsableAPIRenderer()]


def choice(negotiation, path="/api/x/", suffix=None, **headers):
    """Return the renderer's class and media type chosen, or "406"."""
    request = Request(APIRequestFactory().get(path, **headers))
    try:
        renderer, media_type = negotiation.select_renderer(request, RENDERERS, suffix)
    except NotAcceptable:
        return "406"
    return type(renderer), media_type


@pytest.mark.parametrize(
    "accept",
    [
        None,
        "*/*",
        "application/json",
        "text/html",
        "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        "application/json; indent=4",
        "application/*",
        "",
    ],
)
@pytest.mark.parametrize("path", ["/api/x/", "/api/x/?format=api", "/api/x/?a=1"])
def test_choice_is_drfs_for_every_accept_header(accept, path):
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}
    ours = choice(ContentNegotiation(), path, **headers)
    assert ours == choice(DefaultContentNegotiation(), path, **headers)


def test_format_suffix_is_drfs():
    ours = choice(ContentNegotiation(), suffix="api", HTTP_ACCEPT="*/*")
    assert ours == choice(DefaultContentNegotiation(), suffix="api", HTTP_ACCEPT="*/*")
    assert ours[0] is BrowsableAPIRenderer


def test_the_usual_request_gets_json_without_drfs_parsing(monkeypatch):
    def parse(*args):
        raise AssertionError("parsed the Accept header")

    monkeypatch.setattr(DefaultContentNegotiation, "_get_parsed_accept_list", parse)
    assert choice(ContentNegotiation()) == (JSONRenderer, "application/json")
    assert (
        choice(ContentNegotiation(), HTTP_ACCEPT="application/json")[0] is JSONRenderer
    )
