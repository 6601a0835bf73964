"""
The endpoints under /api/auth/: JWT issue, refresh and logout, the signed-in
user, password change, sign-up, and the flows through an email link (password
reset, email verification, email change).

Each view validates its input, calls one service and serializes the result.
"""

from typing import cast

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema

from django.conf import settings
from django.http import Http404
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import JWTAuthentication
from accounts.guesses import RefundGuessOnBadInput, refund_password_guess
from accounts.models import User
from accounts.password_checks import password_check_slot
from accounts.services import (
    EmailNotVerified,
    TokenPair,
    email_verification_resend,
    email_verify,
    password_reset_confirm,
    password_reset_request,
    token_blacklist,
    token_obtain,
    token_refresh,
    user_change_password,
    user_confirm_email_change,
    user_register,
    user_update,
)
from accounts.throttles import (
    PasswordGuessIpThrottle,
    PasswordGuessUsernameThrottle,
    RefreshThrottle,
    RegisterThrottle,
)
from accounts.throttles_email import EmailAddressThrottle, EmailIpThrottle
from core import fields
from core.schema import ErrorSerializer

# Input is checked against the model's limits before a service sees it, so that
# the schema states them.
EMAIL_MAX_LENGTH = cast(int, User._meta.get_field("email").max_length)
USERNAME_MAX_LENGTH = cast(int, User._meta.get_field("username").max_length)


class UserOutputSerializer(serializers.Serializer[User]):
    """The user as the API shows it; user_output() renders it without DRF's cost."""

    id = serializers.IntegerField()
    username = serializers.CharField()
    email = serializers.EmailField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    date_joined = serializers.DateTimeField()
    email_verified = serializers.BooleanField()
    pending_email = serializers.CharField(
        help_text="The address asked for on PATCH, until its link is opened; "
        "empty when none."
    )


_DATE_TIME = serializers.DateTimeField()


def user_output(user: User) -> dict[str, object]:
    """
    Return UserOutputSerializer's representation of user, built directly.

    GET /api/auth/me/ is the hottest endpoint, and a serializer instance costs
    more than the rest of the request; a test keeps the two identical.
    """
    return {
        "id": user.pk,
        "username": user.username,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "date_joined": _DATE_TIME.to_representation(user.date_joined),
        "email_verified": user.email_verified,
        "pending_email": user.pending_email,
    }


class TokenPairOutputSerializer(serializers.Serializer[TokenPair]):
    access = serializers.CharField()
    refresh = serializers.CharField()


class RefreshInputSerializer(serializers.Serializer[dict[str, str]]):
    refresh = fields.CharField()


class PublicApi(APIView):
    """
    An endpoint anyone may call: the credentials travel in the body.

    No authentication runs, so a stale Authorization header cannot get in the
    way of logging in again; a 401 still names the Bearer scheme.
    """

    authentication_classes = ()
    permission_classes: tuple[type[BasePermission], ...] = (AllowAny,)

    def get_authenticate_header(self, request: Request) -> str:
        return JWTAuthentication().authenticate_header(request)


# Realistic values for the docs' examples (Swagger UI pre-fills try-it-out).
_ACCESS = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwi"
    "ZXhwIjoxNzY0NzYwMDAwLCJ1c2VyX2lkIjoiNDIifQ.8mB4aN0sY2S6vQ1rL5pX9cT3uW7zE0kH2jF4dG6iJ8o"
)
_REFRESH = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoicmVmcmVzaCIs"
    "ImV4cCI6MTc2NDg0NjQwMCwidXNlcl9pZCI6IjQyIn0.Q1w2E3r4T5y6U7i8O9p0A1s2D3f4G5h6J7k8L9z0X1c"
)
TOKEN_PAIR_EXAMPLE = OpenApiExample(
    "A token pair",
    value={"access": _ACCESS, "refresh": _REFRESH},
    response_only=True,
)
REFRESH_EXAMPLE = OpenApiExample(
    "A refresh token", value={"refresh": _REFRESH}, request_only=True
)
USER_EXAMPLE = OpenApiExample(
    "A user",
    value={
        "id": 42,
        "username": "ada",
        "email": "ada@example.com",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "date_joined": "2026-01-15T09:30:00+07:00",
        "email_verified": True,
        "pending_email": "",
    },
    response_only=True,
)
EMAIL_EXAMPLE = OpenApiExample(
    "An address", value={"email": "ada@example.com"}, request_only=True
)
LINK_EXAMPLE = OpenApiExample(
    "The uid and token of a link",
    value={"uid": "NDI", "token": "cz8k1v-3f2a9b7c6d5e4f3a2b1c0d9e8f7a6b5c"},
    request_only=True,
)

BAD_CREDENTIALS = OpenApiResponse(
    ErrorSerializer, "Unknown user, wrong password or inactive user (one answer)."
)
UNVERIFIED = OpenApiResponse(
    ErrorSerializer,
    "`email_not_verified`: the password was right, but KEEL_REQUIRE_VERIFIED_EMAIL "
    "is on and the address is not verified.",
)
BAD_LINK = OpenApiResponse(
    ErrorSerializer,
    "`invalid_link`: a bad, expired or used uid and token (one answer for all), "
    "or field errors.",
)
BAD_REFRESH = OpenApiResponse(
    ErrorSerializer, "Invalid, expired, rotated or blacklisted refresh token."
)


class TokenObtainApi(RefundGuessOnBadInput, PublicApi):
    """Exchange a username and password for an access and a refresh token."""

    throttle_classes = (PasswordGuessIpThrottle, PasswordGuessUsernameThrottle)

    class InputSerializer(serializers.Serializer[dict[str, str]]):
        username = fields.CharField()
        password = fields.CharField(trim_whitespace=False)

    @extend_schema(
        summary="Log in: get a token pair",
        request=InputSerializer,
        responses={
            200: TokenPairOutputSerializer,
            401: BAD_CREDENTIALS,
            403: UNVERIFIED,
        },
        examples=[
            OpenApiExample(
                "Username and password",
                value={"username": "ada", "password": "correct-horse-battery-staple"},
                request_only=True,
            ),
            TOKEN_PAIR_EXAMPLE,
        ],
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with password_check_slot(request):
            try:
                tokens = token_obtain(**serializer.validated_data)
            except EmailNotVerified:
                refund_password_guess(request)  # the password was right
                raise
        refund_password_guess(request)
        return Response(TokenPairOutputSerializer(tokens).data)


class TokenRefreshApi(PublicApi):
    """Exchange a refresh token for a new pair; the old refresh token is spent."""

    throttle_classes = (RefreshThrottle,)

    @extend_schema(
        summary="Refresh: trade a refresh token for a new pair",
        request=RefreshInputSerializer,
        responses={200: TokenPairOutputSerializer, 401: BAD_REFRESH},
        examples=[REFRESH_EXAMPLE, TOKEN_PAIR_EXAMPLE],
    )
    def post(self, request: Request) -> Response:
        serializer = RefreshInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        tokens = token_refresh(refresh=serializer.validated_data["refresh"])
        return Response(TokenPairOutputSerializer(tokens).data)


class TokenBlacklistApi(PublicApi):
    """Log out: the refresh token never works again."""

    @extend_schema(
        summary="Log out: revoke a refresh token",
        request=RefreshInputSerializer,
        responses={
            200: OpenApiResponse(description="Logged out; the body is `{}`."),
            401: BAD_REFRESH,
        },
        examples=[REFRESH_EXAMPLE],
    )
    def post(self, request: Request) -> Response:
        serializer = RefreshInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token_blacklist(refresh=serializer.validated_data["refresh"])
        return Response({})


class MeApi(APIView):
    """
    The signed-in user: read it, or change its names and email.

    A new email is not set at once: it shows as `pending_email`, a link to
    confirm it goes there (POST email/change/confirm/) and a notice goes to the
    current address.
    """

    class InputSerializer(serializers.Serializer[User]):
        email = fields.EmailField(required=False, max_length=EMAIL_MAX_LENGTH)
        first_name = fields.CharField(required=False, allow_blank=True, max_length=150)
        last_name = fields.CharField(required=False, allow_blank=True, max_length=150)

    @extend_schema(
        summary="Read the signed-in user",
        responses=UserOutputSerializer,
        examples=[USER_EXAMPLE],
    )
    def get(self, request: Request) -> Response:
        return Response(user_output(cast(User, request.user)))

    @extend_schema(
        summary="Change the signed-in user's email or names",
        request=InputSerializer,
        responses=UserOutputSerializer,
        examples=[
            OpenApiExample(
                "A new email",
                value={"email": "ada.lovelace@example.com"},
                request_only=True,
            ),
            USER_EXAMPLE,
        ],
    )
    def patch(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        user = user_update(
            user=cast(User, request.user), data=dict(serializer.validated_data)
        )
        return Response(user_output(user))


class PasswordChangeApi(RefundGuessOnBadInput, APIView):
    """Change the signed-in user's password; every earlier token stops working."""

    throttle_classes = (PasswordGuessIpThrottle, PasswordGuessUsernameThrottle)

    class InputSerializer(serializers.Serializer[dict[str, str]]):
        old_password = fields.CharField(trim_whitespace=False)
        new_password = fields.CharField(trim_whitespace=False)

    @extend_schema(
        summary="Change the signed-in user's password",
        request=InputSerializer,
        responses={204: OpenApiResponse(description="Password changed.")},
        examples=[
            OpenApiExample(
                "Old and new password",
                value={
                    "old_password": "correct-horse-battery-staple",
                    "new_password": "tr0ub4dor-and-3-more-words",
                },
                request_only=True,
            )
        ],
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with password_check_slot(request):
            user_change_password(
                user=cast(User, request.user), **serializer.validated_data
            )
        refund_password_guess(request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class RegistrationIsOpen(BasePermission):
    """Let anyone in while KEEL_ALLOW_REGISTRATION is on; else the URL is 404."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        if not settings.KEEL["ALLOW_REGISTRATION"]:
            raise Http404
        return True


class RegisterApi(PublicApi):
    """Create a user (no tokens: log in next); 404 unless registration is on."""

    permission_classes = (RegistrationIsOpen,)
    throttle_classes = (RegisterThrottle,)

    class InputSerializer(serializers.Serializer[dict[str, str]]):
        username = fields.CharField(max_length=USERNAME_MAX_LENGTH)
        email = fields.EmailField(max_length=EMAIL_MAX_LENGTH)
        password = fields.CharField(trim_whitespace=False)

    @extend_schema(
        summary="Sign up (when KEEL_ALLOW_REGISTRATION is on)",
        request=InputSerializer,
        responses={
            201: UserOutputSerializer,
            404: OpenApiResponse(ErrorSerializer, "Registration is off."),
        },
        examples=[
            OpenApiExample(
                "A new user",
                value={
                    "username": "ada",
                    "email": "ada@example.com",
                    "password": "correct-horse-battery-staple",
                },
                request_only=True,
            ),
            USER_EXAMPLE,
        ],
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = user_register(**serializer.validated_data)
        return Response(user_output(user), status=status.HTTP_201_CREATED)


class AcceptedOutputSerializer(serializers.Serializer[dict[str, str]]):
    detail = serializers.CharField()


class EmailInputSerializer(serializers.Serializer[dict[str, str]]):
    email = fields.EmailField(max_length=EMAIL_MAX_LENGTH)


class LinkInputSerializer(serializers.Serializer[dict[str, str]]):
    """The uid and token of an email link, as the client app's page got them."""

    uid = fields.CharField(max_length=64)
    token = fields.CharField(max_length=128)


EMAIL_THROTTLES = (EmailIpThrottle, EmailAddressThrottle)


class PasswordResetApi(PublicApi):
    """
    Mail a password-reset link to the accounts with this address.

    Always 202 with the same body, in the same time, whether or not an account
    has the address: the worker looks it up and sends the mail.
    """

    throttle_classes = EMAIL_THROTTLES
    ACCEPTED = "If an account has this address, a reset link is on its way to it."

    @extend_schema(
        summary="Ask for a password-reset link by email",
        request=EmailInputSerializer,
        responses={202: AcceptedOutputSerializer},
        examples=[
            EMAIL_EXAMPLE,
            OpenApiExample(
                "Accepted",
                value={"detail": ACCEPTED},
                response_only=True,
                status_codes=["202"],
            ),
        ],
    )
    def post(self, request: Request) -> Response:
        serializer = EmailInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        password_reset_request(email=serializer.validated_data["email"])
        return Response({"detail": self.ACCEPTED}, status=status.HTTP_202_ACCEPTED)


class PasswordResetConfirmApi(PublicApi):
    """
    Set a new password with the uid and token of a reset link.

    The link works once and expires after DJANGO_PASSWORD_RESET_TIMEOUT; every
    token the user held stops working.
    """

    class InputSerializer(LinkInputSerializer):
        new_password = fields.CharField(trim_whitespace=False)

    @extend_schema(
        summary="Set a new password with a reset link",
        request=InputSerializer,
        responses={204: OpenApiResponse(description="Password set."), 400: BAD_LINK},
        examples=[
            OpenApiExample(
                "A reset link and a new password",
                value={
                    "uid": "NDI",
                    "token": "cz8k1v-3f2a9b7c6d5e4f3a2b1c0d9e8f7a6b5c",
                    "new_password": "a brand new passphrase",
                },
                request_only=True,
            )
        ],
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        password_reset_confirm(**serializer.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class EmailVerifyApi(PublicApi):
    """Mark an address verified with the uid and token of a verification link."""

    @extend_schema(
        summary="Verify an address with its link",
        request=LinkInputSerializer,
        responses={
            204: OpenApiResponse(description="Address verified."),
            400: BAD_LINK,
        },
        examples=[LINK_EXAMPLE],
    )
    def post(self, request: Request) -> Response:
        serializer = LinkInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        email_verify(**serializer.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class EmailVerifyResendApi(PublicApi):
    """
    Mail a new verification link to the unverified accounts with this address.

    Public, as a user who may not log in before verifying needs it; always 202
    with the same body, whether or not an account has the address.
    """

    throttle_classes = EMAIL_THROTTLES
    ACCEPTED = (
        "If an unverified account has this address, a verification link is on "
        "its way to it."
    )

    @extend_schema(
        summary="Ask for a new verification link by email",
        request=EmailInputSerializer,
        responses={202: AcceptedOutputSerializer},
        examples=[
            EMAIL_EXAMPLE,
            OpenApiExample(
                "Accepted",
                value={"detail": ACCEPTED},
                response_only=True,
                status_codes=["202"],
            ),
        ],
    )
    def post(self, request: Request) -> Response:
        serializer = EmailInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        email_verification_resend(email=serializer.validated_data["email"])
        return Response({"detail": self.ACCEPTED}, status=status.HTTP_202_ACCEPTED)


class EmailChangeConfirmApi(PublicApi):
    """Make the pending address the user's, with the link sent to that address."""

    @extend_schema(
        summary="Confirm an email change with its link",
        request=LinkInputSerializer,
        responses={
            204: OpenApiResponse(description="Address changed, and verified."),
            400: BAD_LINK,
        },
        examples=[LINK_EXAMPLE],
    )
    def post(self, request: Request) -> Response:
        serializer = LinkInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user_confirm_email_change(**serializer.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)
