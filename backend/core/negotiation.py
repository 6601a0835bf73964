"""
Content negotiation for keel's API: DRF's, with a shortcut for the usual ask.

Almost every API request accepts anything (``*/*``, or no Accept header) or
asks for JSON, and DRF's negotiation parses and ranks the header's media types
on each of them to arrive at the first renderer. Those requests get that
answer directly; any other Accept header, a ``?format=`` or a format suffix
goes through DRF's own negotiation, unchanged.
"""

from collections.abc import Iterable

from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request


class ContentNegotiation(DefaultContentNegotiation):
    def select_renderer(
        self,
        request: Request,
        renderers: Iterable[BaseRenderer],
        format_suffix: str | None = None,
    ) -> tuple[BaseRenderer, str]:
        renderers = list(renderers)
        accept = request.META.get("HTTP_ACCEPT", "*/*")
        if (
            renderers
            and format_suffix is None
            and self.settings.URL_FORMAT_OVERRIDE not in request.query_params
            and (accept == "*/*" or accept == renderers[0].media_type)
        ):
            # DRF's answer for these: the first renderer, with its media type.
            return renderers[0], renderers[0].media_type
        chosen: tuple[BaseRenderer, str] = super().select_renderer(
            request, renderers, format_suffix
        )
        return chosen
