"""URLs under /api/auth/."""

from django.urls import path

from accounts import apis

app_name = "auth"

urlpatterns = [
    path("token/", apis.TokenObtainApi.as_view(), name="token"),
    path("token/refresh/", apis.TokenRefreshApi.as_view(), name="token-refresh"),
    path("token/blacklist/", apis.TokenBlacklistApi.as_view(), name="token-blacklist"),
    path("me/", apis.MeApi.as_view(), name="me"),
    path("password/change/", apis.PasswordChangeApi.as_view(), name="password-change"),
    path("register/", apis.RegisterApi.as_view(), name="register"),
    path("password/reset/", apis.PasswordResetApi.as_view(), name="password-reset"),
    path(
        "password/reset/confirm/",
        apis.PasswordResetConfirmApi.as_view(),
        name="password-reset-confirm",
    ),
    path("email/verify/", apis.EmailVerifyApi.as_view(), name="email-verify"),
    path(
        "email/verify/resend/",
        apis.EmailVerifyResendApi.as_view(),
        name="email-verify-resend",
    ),
    path(
        "email/change/confirm/",
        apis.EmailChangeConfirmApi.as_view(),
        name="email-change-confirm",
    ),
]
