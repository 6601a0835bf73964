"""Huge or nonsense page parameters are cut or refused, never a 500."""

import pytest

from django.test import RequestFactory
from rest_framework.exceptions import NotFound
from rest_framework.request import Request

from accounts.models import User
from core.pagination import PageNumberPagination

pytestmark = pytest.mark.django_db


def paginate(query):
    request = Request(RequestFactory().get("/api/things/", query))
    return PageNumberPagination().paginate_queryset(
        User.objects.order_by("pk"), request
    )


@pytest.fixture(autouse=True)
def users():
    User.objects.bulk_create(User(username=f"user{n}") for n in range(120))


@pytest.mark.parametrize("size", ["1000000", str(10**30), "-5", "abc", "\x00"])
def test_page_size_is_capped_or_defaulted(size):
    assert len(paginate({"page_size": size})) in (50, 100)


def test_page_size_above_ceiling_is_cut_to_ceiling():
    assert len(paginate({"page_size": str(10**30)})) == 100


@pytest.mark.parametrize("page", [str(10**30), "0", "-1", "x\x00"])
def test_page_out_of_range_is_404(page):
    with pytest.raises(NotFound):
        paginate({"page": page})
