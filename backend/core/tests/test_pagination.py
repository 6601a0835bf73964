"""Huge or nonsense page parameters are cut or refused, never a 500."""

import pytest

from django.test import RequestFactory
from rest_framework.exceptions import NotFound, ValidationError
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


@pytest.mark.parametrize(("size", "rows"), [("1000000", 100), ("-5", 50), ("0", 50)])
def test_page_size_is_capped_or_defaulted(size, rows):
    assert len(paginate({"page_size": size})) == rows


@pytest.mark.parametrize("size", ["abc", "\x00", "null", "1.5", ""])
def test_page_size_that_is_not_an_integer_is_a_field_error(size):
    with pytest.raises(ValidationError) as error:
        paginate({"page_size": size})
    assert list(error.value.detail) == ["page_size"]


def test_page_size_above_ceiling_is_cut_to_ceiling():
    assert len(paginate({"page_size": str(10**30)})) == 100


@pytest.mark.parametrize("page", [str(10**30), "0", "-1", "x\x00"])
def test_page_out_of_range_is_404(page):
    with pytest.raises(NotFound):
        paginate({"page": page})
