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
]
