"""
keel's URLs plus the benchmark's own views, for comparison.

``/api/bench/drf/`` is the startproject peer's bare DRF view (AllowAny, no
authentication) under keel's settings and middleware, so the two differ only
by keel's stack; ``/bench/db/`` adds one ORM query to a Django view.
"""

from django.http import HttpRequest, JsonResponse
from django.urls import include, path
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User


def one_query(request: HttpRequest) -> JsonResponse:
    """Return one user's name: the cost of one ORM query."""
    user = User.objects.values("id", "username").order_by("id").first()
    return JsonResponse({"user": user})


class HelloApi(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        return Response({"status": "ok"})


urlpatterns = [
    path("api/bench/drf/", HelloApi.as_view()),
    path("bench/db/", one_query),
    path("", include("configs.urls")),
]
