"""
URLs under /api/, one include per domain app.

/api/ itself has no view, and any path no app claims ends in a JSON 404 (the
last pattern), so a client never sees Django's HTML error page, even with
debug on.
"""

from django.urls import URLPattern, URLResolver, include, path, re_path

from api.apis import DocsApi, SchemaApi
from core.views import not_found

urlpatterns: list[URLPattern | URLResolver] = [
    path("auth/", include("accounts.urls")),
    # make app: new apps' URLs go above this line.
    path("schema/", SchemaApi.as_view(), name="schema"),
    path("docs/", DocsApi.as_view(url_name="schema"), name="docs"),
    # Must stay last: it claims every path the patterns above do not.
    re_path(r"^(?P<path>.*)$", not_found),
]
