"""The URLconf walker: every route, with the view that answers it."""

from collections.abc import Iterator
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver


def routes(
    resolver: URLResolver | None = None, prefix: str = ""
) -> Iterator[tuple[str, URLPattern]]:
    """Yield (route, pattern) for every URL pattern, includes followed."""
    for pattern in (resolver or get_resolver()).url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from routes(pattern, route)
        elif isinstance(pattern, URLPattern):
            yield route, pattern


def api_views(
    resolver: URLResolver | None = None,
) -> Iterator[tuple[str, type[Any]]]:
    """Yield (route, view class) for every class-based view under /api/."""
    for route, pattern in routes(resolver):
        # Plain function views (the JSON 404) have no view class to check.
        view_class = getattr(pattern.callback, "view_class", None)
        if route.startswith("api/") and view_class is not None:
            yield route, view_class
