"""Views of the api app itself: the API's description (schema and docs)."""

from typing import Any

from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from django.conf import settings
from django.http import Http404
from rest_framework.permissions import AllowAny
from rest_framework.request import Request


class ApiDocsSwitch:
    """Answer 404 when KEEL_API_DOCS=0, read at each request."""

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        if not settings.KEEL["API_DOCS"]:
            raise Http404
        super().initial(request, *args, **kwargs)  # type: ignore[misc]


class SchemaApi(ApiDocsSwitch, SpectacularAPIView):
    """The OpenAPI 3 schema; 404 when KEEL_API_DOCS=0."""

    schema = None  # The description does not describe itself.
    permission_classes = [AllowAny]


class DocsApi(ApiDocsSwitch, SpectacularSwaggerView):
    """Swagger UI for the schema, its assets served by keel; 404 when docs are off."""

    schema = None
    permission_classes = [AllowAny]
