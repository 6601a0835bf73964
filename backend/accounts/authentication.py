"""
DRF authentication for keel's API: a bearer access token, checked every time.

Two things keep this cheap. A token's signature and claims are verified once
per process and remembered (a bounded LRU keyed by the token's exact bytes),
its expiry checked again on every use; and with Redis the user comes from the
shared cache that accounts.selectors keeps true. Revocation (deactivation,
deletion, a new password) is still checked on every request.
"""

from functools import lru_cache

from django.contrib.auth.models import AbstractBaseUser
from rest_framework_simplejwt import authentication
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import Token
from rest_framework_simplejwt.utils import aware_utcnow

from accounts.selectors import user_for_token
from accounts.tokens import AccessToken


# Process-global; core.state's reset clears it (accounts.apps registers that).
@lru_cache(maxsize=4096)
def verified_access_token(raw_token: bytes) -> AccessToken:
    """Return raw_token verified; an invalid token raises and is not remembered."""
    return AccessToken(raw_token)  # type: ignore[arg-type]  # Simple JWT types it wrong


class JWTAuthentication(authentication.JWTAuthentication):
    """
    Authenticate ``Authorization: Bearer <access token>``.

    The token's user is checked on every request, so deactivating a user,
    deleting them or changing their password locks their access tokens out at
    once. The rule is user_for_token's, which the refresh and logout endpoints
    share.
    """

    def get_validated_token(self, raw_token: bytes) -> Token:
        try:
            token = verified_access_token(raw_token)
            token.check_exp(current_time=aware_utcnow())
        except TokenError:
            # Simple JWT's own path builds the detailed 401.
            return super().get_validated_token(raw_token)
        return token

    # Simple JWT types the result as a TypeVar that no argument binds, which no
    # concrete return type matches.
    def get_user(self, validated_token: Token) -> AbstractBaseUser:  # type: ignore[override]
        return user_for_token(token=validated_token)
