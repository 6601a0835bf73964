"""Views of the api app itself: the API's description (schema and docs)."""

from typing import Any

from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from django.conf import settings
from django.http import Http404
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response


class ApiDocsSwitch:
    """Answer 404 when KEEL_API_DOCS=0, read at each request; errors in JSON."""

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        if not settings.KEEL["API_DOCS"]:
            raise Http404
        super().initial(request, *args, **kwargs)  # type: ignore[misc]

    def finalize_response(
        self, request: Request, response: Any, *args: Any, **kwargs: Any
    ) -> Any:
        """
        Render an error as keel's JSON, not with the view's own renderer.

        Swagger UI's renderer is an HTML template, which would turn the JSON
        error (a 500 when static files were never collected, or the 404 of
        KEEL_API_DOCS=0) into an HTML page.
        """
        if isinstance(response, Response) and response.exception:
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(  # type: ignore[misc]
            request, response, *args, **kwargs
        )


class SchemaApi(ApiDocsSwitch, SpectacularAPIView):
    """The OpenAPI 3 schema; 404 when KEEL_API_DOCS=0."""

    schema = None  # The description does not describe itself.
    permission_classes = [AllowAny]


class DocsApi(ApiDocsSwitch, SpectacularSwaggerSplitView):
    """
    Swagger UI for the schema, its assets served by keel; 404 when docs are off.

    The split view serves the page's start-up script at ``?script=`` rather
    than inline, and the template links the page's CSS, so that the page runs
    under keel's Content-Security-Policy (core.middleware) as it is.
    """

    schema = None
    permission_classes = [AllowAny]
    template_name = "api/docs.html"
