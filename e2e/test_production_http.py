"""production: the HTTP contract and the static files."""

import pytest

from e2e.http import HTTPS, request
from e2e.stacks import Stack


def test_admin_redirects_to_its_login(production: Stack) -> None:
    response = request(production.endpoint, "GET", "/admin/", headers=HTTPS)
    assert response.status == 302
    assert response.headers["Location"].startswith("/admin/login/")


def test_plain_http_is_redirected_to_https_by_the_proxy(production: Stack) -> None:
    # A forged X-Forwarded-Proto changes nothing: plain HTTP is never passed on.
    response = request(production.http_port, "GET", "/admin/?next=1", headers=HTTPS)
    assert response.status == 301
    assert response.headers["Location"] == (
        f"https://127.0.0.1:{production.port}/admin/?next=1"
    )


def test_the_backend_itself_still_redirects_plain_http_as_debug_is_off(
    production: Stack,
) -> None:
    (backend, *_) = production.replicas("backend")
    response = request(8000, "GET", "/admin/", host=production.address(backend))
    assert response.status == 301
    assert response.headers["Location"].startswith("https://")


@pytest.mark.parametrize("path", ["/api/", "/"])
def test_unrouted_paths_are_404(production: Stack, path: str) -> None:
    assert request(production.endpoint, "GET", path, headers=HTTPS).status == 404


def test_hashed_stylesheet_is_served_compressed_and_cacheable(
    production: Stack,
) -> None:
    page = request(production.endpoint, "GET", "/admin/login/", headers=HTTPS)
    marker = 'href="/static/admin/css/base.'
    assert marker in page.body.decode(), "the login page links no hashed base.css"
    hashed = page.body.decode().split(marker, 1)[1].split('"', 1)[0]
    asset = request(
        production.endpoint, "GET", f"/static/admin/css/base.{hashed}",
        headers={**HTTPS, "Accept-Encoding": "gzip"},
    )  # fmt: skip
    assert asset.status == 200
    assert "immutable" in asset.headers.get("Cache-Control", "")
    assert asset.headers.get("Content-Encoding") == "gzip"
