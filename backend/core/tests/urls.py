"""Views that raise each kind of error, mounted under /api/ for the error tests."""

from collections.abc import Callable
from typing import Any

from redis.exceptions import ConnectionError as RedisConnectionError

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError, connection
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import include, path
from rest_framework import exceptions, serializers
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

    def post(self, request: Request) -> Response:
        # Reads the body first, as a login would, so its secrets are in scope.
        password = request.data.get("password")
        raise RuntimeError(f"boom after reading a body of {len(str(password))} chars")


class DatabaseDownApi(APIView):
    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        raise OperationalError("connection refused")


class SlowQueryApi(APIView):
    """Run a statement of two seconds, longer than the tests' timeout."""

    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(2)")
        return Response({"ok": True})


class OnePerMinute(AnonRateThrottle):
    rate = "1/min"


class ThrottledApi(APIView):
    permission_classes = [AllowAny]
    throttle_classes = [OnePerMinute]

    def get(self, request: Request) -> Response:
        return Response({"ok": True})


# Everything a view can raise, by name: the error tests expect one shape of each.
RAISERS: dict[str, Callable[[], Exception]] = {
    "drf-validation-str": lambda: exceptions.ValidationError("Nope."),
    "drf-validation-list": lambda: exceptions.ValidationError(["One.", "Two."]),
    "drf-validation-dict": lambda: exceptions.ValidationError({"name": "Taken."}),
    "django-validation-message": lambda: DjangoValidationError("Nope."),
    "django-validation-list": lambda: DjangoValidationError(["One.", "Two."]),
    "django-validation-dict": lambda: DjangoValidationError({"name": ["Taken."]}),
    "api-exception-str": lambda: exceptions.APIException("Broken."),
    "api-exception-list": lambda: exceptions.APIException(["One.", "Two."]),
    "api-exception-dict": lambda: exceptions.APIException({"name": "Broken."}),
    "http404": lambda: Http404(),
    "permission-denied": lambda: PermissionDenied(),
    "not-authenticated": lambda: exceptions.NotAuthenticated(),
    "throttled": lambda: exceptions.Throttled(wait=7),
    "parse-error": lambda: exceptions.ParseError(),
    "database-operational": lambda: OperationalError("connection refused"),
    "database-interface": lambda: InterfaceError("connection already closed"),
    "redis": lambda: RedisConnectionError("Error 111 connecting to 10.0.0.1:6379"),
    "unexpected": lambda: RuntimeError("boom: DJANGO_SECRET_KEY must never leak"),
}


class RaiseApi(APIView):
    """Raise the exception RAISERS names."""

    permission_classes = [AllowAny]

    def get(self, request: Request, name: str) -> Response:
        raise RAISERS[name]()


def broken_page(request: HttpRequest) -> HttpResponse:
    """Fail outside /api/, with a credential in a local, as a page would."""
    mongo_url = settings.KEEL["MONGO_URL"]
    raise RuntimeError(f"cannot reach {len(mongo_url)} characters of Mongo")


urlpatterns = [
    path("test/broken-page/", broken_page),
    path("api/test/raise/<str:name>/", RaiseApi.as_view()),
    path("api/test/echo/", EchoApi.as_view()),
    path("api/test/broken/", BrokenApi.as_view()),
    path("api/test/database-down/", DatabaseDownApi.as_view()),
    path("api/test/slow-query/", SlowQueryApi.as_view()),
    path("api/test/throttled/", ThrottledApi.as_view()),
    path("", include("configs.urls")),
]
