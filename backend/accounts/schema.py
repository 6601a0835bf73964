"""OpenAPI description of keel's JWT authentication (drf-spectacular extension)."""

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme


class JWTScheme(SimpleJWTScheme):  # type: ignore[no-untyped-call]
    """Describe accounts.authentication.JWTAuthentication as a bearer JWT."""

    target_class = "accounts.authentication.JWTAuthentication"
    name = "jwtAuth"
