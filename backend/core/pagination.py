"""Pagination for list endpoints: client-chosen page sizes, with a ceiling."""

from rest_framework.pagination import PageNumberPagination as DRFPageNumberPagination


class PageNumberPagination(DRFPageNumberPagination):
    """Page numbers with ``?page_size=``; a larger size than the ceiling is cut."""

    page_size_query_param = "page_size"
    max_page_size = 100
