"""
OpenAPI generation: drf-spectacular's schema plus the errors keel can return.

Every operation documents the error responses its view can produce, in the
one error shape, so clients and schemathesis see each status code, and each
request field documents the rules DRF enforces on it.
"""

from typing import Any

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import Direction, OpenApiResponse

from rest_framework import serializers
from rest_framework.permissions import AllowAny


class ErrorSerializer(serializers.Serializer[Any]):
    """
    keel's error body (core.exceptions): ``detail`` and ``code``, or, for a
    validation error (400), one list of messages per bad field instead.
    """

    detail = serializers.CharField(required=False)
    code = serializers.CharField(required=False)


ERROR_DESCRIPTIONS = {
    "400": (
        "Invalid input: one list of messages per bad field (`non_field_errors` "
        "for the rest); or `detail` and `code` for a malformed body or a Host "
        "header this server does not answer."
    ),
    "401": "Missing, invalid or expired credentials.",
    "403": "Authenticated, but not allowed to do this.",
    "404": "Not found.",
    "413": "Request body too large.",
    "415": "Unsupported media type: send application/json.",
    "429": "Too many requests; retry after the `Retry-After` header's seconds.",
    "503": (
        "Temporarily unavailable, retry after the `Retry-After` header's "
        "seconds: PostgreSQL or Redis does not answer (`service_unavailable`), "
        "or, on an endpoint that checks a password, this worker's password "
        "checks are all busy (`password_checks_busy`)."
    ),
}


# DRF trims text fields (str.strip()) before its blank check, so a required
# text field must hold a character that is not whitespace: the schema says so.
# The class lists what str.isspace() calls whitespace. A pattern's \s would not
# do: ECMA-262, JSON Schema's regex dialect, leaves out \x1c-\x1f and \x85.
NOT_ONLY_WHITESPACE = (
    r"[^\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
)


def bearer_scheme_first(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """
    Put the bearer-token schemes before the others (a postprocessing hook).

    drf-spectacular sorts schemes by name, so Swagger UI's Authorize dialog
    would offer the admin's session cookie first; API clients use the token.
    """
    schemes = result.get("components", {}).get("securitySchemes")
    if schemes:
        result["components"]["securitySchemes"] = dict(
            sorted(schemes.items(), key=lambda item: item[1].get("scheme") != "bearer")
        )
    return result


class AutoSchema(SpectacularAutoSchema):
    def get_summary(self) -> str | None:
        """Return the operation's summary, else the first line of its description."""
        summary: str | None = super().get_summary()
        if summary:
            return summary
        description: str = self.get_description()
        first_line = description.strip().split("\n", 1)[0].strip()
        return first_line.removesuffix(".") or None

    def get_serializer_name(self, serializer: Any, direction: Direction) -> str:
        """
        Prefix a view's nested serializer (``MeApi.InputSerializer``) with it.

        A request body's component gets the suffix "Request" from drf-spectacular
        (COMPONENT_SPLIT_REQUEST), so "Input" is dropped: ``MeRequest``.
        """
        name: str = super().get_serializer_name(serializer, direction)
        owner, _, nested = type(serializer).__qualname__.rpartition(".")
        if owner and nested == name:
            name = owner.removesuffix("Api") + name
        if direction == "request":
            name = name.removesuffix("Serializer").removesuffix("Input")
        return name

    def _map_serializer_field(
        self, field: Any, direction: Direction, bypass_extensions: bool = False
    ) -> Any:
        """Add what DRF enforces on a request's text field beyond minLength 1."""
        schema = super()._map_serializer_field(  # type: ignore[no-untyped-call]
            field, direction, bypass_extensions
        )
        if (
            direction == "request"
            and isinstance(field, serializers.CharField)
            and field.trim_whitespace
            and not field.allow_blank
            and isinstance(schema, dict)
            and schema.get("type") == "string"
        ):
            schema.setdefault("pattern", NOT_ONLY_WHITESPACE)
        return schema

    def _get_response_bodies(self, direction: Direction = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        for code in self._error_codes():
            responses.setdefault(
                code,
                self._get_response_for_code(  # type: ignore[no-untyped-call]
                    OpenApiResponse(ErrorSerializer, ERROR_DESCRIPTIONS[code]),
                    code,
                    direction=direction,
                ),
            )
        return responses

    def _error_codes(self) -> list[str]:
        # Any request can meet a Host header keel does not serve (400) or an
        # unavailable database or cache (503).
        codes = ["400", "503"]
        if self.method in ("POST", "PUT", "PATCH"):
            codes += ["413", "415"]
        # Any view that authenticates answers a bad Authorization header with 401.
        if self.view.get_authenticators():
            codes.append("401")
        if not any(isinstance(p, AllowAny) for p in self.view.get_permissions()):
            codes.append("403")
        if "{" in self.path:
            codes.append("404")
        if self.view.get_throttles():
            codes.append("429")
        return sorted(codes)
