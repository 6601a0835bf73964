"""DRF authentication for keel's API: a bearer access token, checked every time."""

from django.contrib.auth.models import AbstractBaseUser
from rest_framework_simplejwt import authentication
from rest_framework_simplejwt.tokens import Token

from accounts.selectors import user_for_token


class JWTAuthentication(authentication.JWTAuthentication):
    """
    Authenticate ``Authorization: Bearer <access token>``.

    The token's user is loaded on every request, so deactivating a user, deleting
    them or changing their password locks their access tokens out at once. The
    rule is user_for_token's, which the refresh and logout endpoints share.
    """

    # Simple JWT types the result as a TypeVar that no argument binds, which no
    # concrete return type matches.
    def get_user(self, validated_token: Token) -> AbstractBaseUser:  # type: ignore[override]
        return user_for_token(token=validated_token)
