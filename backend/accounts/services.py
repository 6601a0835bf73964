"""Writes for accounts: sign-up, profile and password changes, and JWT issue."""

from typing import Any, TypedDict

from django.contrib.auth import authenticate
from django.contrib.auth.models import update_last_login
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import (
    BlacklistedToken,
    OutstandingToken,
)
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import datetime_from_epoch

from accounts.models import User
from accounts.selectors import user_for_token

# The fields a user may change on themselves; the rest are the admin's.
SELF_EDITABLE_FIELDS = ("email", "first_name", "last_name")


class TokenPair(TypedDict):
    access: str
    refresh: str


def token_pair_for(user: User) -> TokenPair:
    """Return a new access and refresh token for user (the refresh is outstanding)."""
    refresh = RefreshToken.for_user(user)
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def token_obtain(*, username: str, password: str) -> TokenPair:
    """Return a token pair for the user these credentials belong to."""
    user = authenticate(username=username, password=password)
    if not isinstance(user, User):
        # ModelBackend returns None alike for an unknown user, a wrong password and
        # an inactive user, having hashed a password in each case: one answer for
        # all three, in about the same time.
        raise AuthenticationFailed(
            _("No active account found with the given credentials"),
            code="no_active_account",
        )
    if api_settings.UPDATE_LAST_LOGIN:
        update_last_login(User, user)
    return token_pair_for(user)


def _usable_refresh_token(raw: str) -> tuple[RefreshToken, User]:
    """Return raw as a refresh token and its user, or raise InvalidToken."""
    try:
        token = RefreshToken(raw)  # type: ignore[arg-type]
    except TokenError as error:
        raise InvalidToken(error.args[0]) from error
    return token, user_for_token(token=token)


def _blacklist_once(token: RefreshToken, user: User) -> None:
    """
    Blacklist token, or raise InvalidToken if it is blacklisted already.

    Simple JWT checks the blacklist and writes to it in two steps, so parallel
    requests with one token can all pass the check. Here the write is the check:
    BlacklistedToken.token is one-to-one, so PostgreSQL's unique index lets one
    insert per token commit; a concurrent insert waits for the first
    transaction to end, then fails.
    """
    outstanding, _created = OutstandingToken.objects.get_or_create(
        jti=token[api_settings.JTI_CLAIM],
        defaults={
            "user": user,
            "token": str(token),
            "created_at": token.current_time,
            "expires_at": datetime_from_epoch(token["exp"]),
        },
    )
    try:
        with transaction.atomic():
            BlacklistedToken.objects.create(token=outstanding)
    except IntegrityError as error:
        raise InvalidToken(_("Token is blacklisted")) from error


@transaction.atomic
def token_refresh(*, refresh: str) -> TokenPair:
    """Spend refresh, once, on a new token pair; raise InvalidToken otherwise."""
    token, user = _usable_refresh_token(refresh)
    _blacklist_once(token, user)
    return token_pair_for(user)


@transaction.atomic
def token_blacklist(*, refresh: str) -> None:
    """Blacklist refresh (log out), or raise InvalidToken if it is not usable."""
    token, user = _usable_refresh_token(refresh)
    _blacklist_once(token, user)


def user_register(*, username: str, email: str, password: str) -> User:
    """Create an active user, or raise ValidationError with every field's errors."""
    user = User(username=username, email=email)
    errors: dict[str, list[str]] = {}
    try:
        # clean() normalizes username and email before uniqueness is checked.
        user.full_clean(exclude=["password"])
    except ValidationError as error:
        errors.update(error.message_dict)
    try:
        validate_password(password, user)
    except ValidationError as error:
        errors["password"] = error.messages
    if errors:
        raise ValidationError(errors)
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as error:
        # Another request took the username between the check and the insert.
        raise ValidationError(
            {"username": User._meta.get_field("username").error_messages["unique"]}
        ) from error
    return user


def user_update(*, user: User, data: dict[str, Any]) -> User:
    """Set the self-editable fields present in data; any other key is ignored."""
    changed = [name for name in SELF_EDITABLE_FIELDS if name in data]
    if not changed:
        return user
    for name in changed:
        setattr(user, name, data[name])
    user.full_clean(
        exclude=[
            field.name
            for field in User._meta.concrete_fields
            if field.name not in changed
        ]
    )
    user.save(update_fields=changed)
    return user


def user_change_password(*, user: User, old_password: str, new_password: str) -> None:
    """
    Set user's password to new_password; every token issued before is revoked.

    Raise ValidationError on a wrong old password or a new one the validators
    reject.
    """
    if not user.check_password(old_password):
        raise ValidationError({"old_password": _("The old password is wrong.")})
    try:
        validate_password(new_password, user)
    except ValidationError as error:
        raise ValidationError({"new_password": error.messages}) from error
    user.set_password(new_password)
    user.save(update_fields=["password"])
