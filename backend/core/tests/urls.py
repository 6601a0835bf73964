"""Views that raise each kind of error, mounted under /api/ for the error tests."""

from typing import Any

from django.db import OperationalError
from django.urls import include, path
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from core import fields

# The root URLconf's error views, so that the tests see the same errors.
handler400 = "core.views.bad_request"
handler403 = "core.views.permission_denied"
handler404 = "core.views.page_not_found"
handler500 = "core.views.server_error"


class EchoApi(APIView):
    """Echo a validated name."""

    permission_classes = [AllowAny]

    class InputSerializer(serializers.Serializer[Any]):
        name = fields.CharField(max_length=50)

    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(serializer.validated_data)


class BrokenApi(APIView):
    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        raise RuntimeError("boom: DJANGO_SECRET_KEY must never leak")


class DatabaseDownApi(APIView):
    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        raise OperationalError("connection refused")


class OnePerMinute(AnonRateThrottle):
    rate = "1/min"


class ThrottledApi(APIView):
    permission_classes = [AllowAny]
    throttle_classes = [OnePerMinute]

    def get(self, request: Request) -> Response:
        return Response({"ok": True})


urlpatterns = [
    path("api/test/echo/", EchoApi.as_view()),
    path("api/test/broken/", BrokenApi.as_view()),
    path("api/test/database-down/", DatabaseDownApi.as_view()),
    path("api/test/throttled/", ThrottledApi.as_view()),
    path("", include("configs.urls")),
]
