"""Helpers that make users and speak to the auth endpoints, for the tests."""

import re
from urllib.parse import parse_qs, urlsplit

from rest_framework.test import APIClient

from accounts.models import User

PASSWORD = "correct horse battery"
TOKEN_URL = "/api/auth/token/"
REFRESH_URL = "/api/auth/token/refresh/"
BLACKLIST_URL = "/api/auth/token/blacklist/"
ME_URL = "/api/auth/me/"
PASSWORD_CHANGE_URL = "/api/auth/password/change/"
REGISTER_URL = "/api/auth/register/"
RESET_URL = "/api/auth/password/reset/"
RESET_CONFIRM_URL = "/api/auth/password/reset/confirm/"
VERIFY_URL = "/api/auth/email/verify/"
VERIFY_RESEND_URL = "/api/auth/email/verify/resend/"
EMAIL_CHANGE_CONFIRM_URL = "/api/auth/email/change/confirm/"


def make_user(username="alice", password=PASSWORD, **fields):
    fields.setdefault("email", f"{username}@example.com")
    return User.objects.create_user(username=username, password=password, **fields)


def login(client, username="alice", password=PASSWORD, **extra):
    return client.post(
        TOKEN_URL, {"username": username, "password": password}, format="json", **extra
    )


def bearer(access):
    """Return an API client that sends access as its bearer token."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def link_params(message, page):
    """Return the uid and token of the link to page in a sent message."""
    (url,) = set(re.findall(rf"https?://\S+/{page}\?\S+", message.body))
    query = parse_qs(urlsplit(url).query)
    return {"uid": query["uid"][0], "token": query["token"][0]}
