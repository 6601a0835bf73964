"""keel's URLs plus a bare Django view and a one-query view, for comparison."""

from django.http import HttpRequest, JsonResponse
from django.urls import include, path

from accounts.models import User


def bare(request: HttpRequest) -> JsonResponse:
    """Return a constant: the cost of Django and keel's middleware alone."""
    return JsonResponse({"status": "ok"})


def one_query(request: HttpRequest) -> JsonResponse:
    """Return one user's name: the cost of one ORM query on top of bare."""
    user = User.objects.values("id", "username").order_by("id").first()
    return JsonResponse({"user": user})


urlpatterns = [
    path("bench/bare/", bare),
    path("bench/db/", one_query),
    path("", include("configs.urls")),
]
