"""Pagination for list endpoints: client-chosen page sizes, with a ceiling."""

from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination as DRFPageNumberPagination
from rest_framework.request import Request


class PageNumberPagination(DRFPageNumberPagination):
    """
    Page numbers with ``?page_size=``; a larger size than the ceiling is cut.

    The schema says page_size is an integer, so text that is not one is refused
    with 400, where DRF would quietly use the default; an integer below 1 still
    gets the default.
    """

    page_size_query_param = "page_size"
    max_page_size = 100

    def get_page_size(self, request: Request) -> int | None:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is not None:
            try:
                int(raw)
            except ValueError:
                raise ValidationError(
                    {self.page_size_query_param: [_("A valid integer is required.")]}
                ) from None
        return super().get_page_size(request)
