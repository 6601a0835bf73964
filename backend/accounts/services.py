"""
Writes for accounts: sign-up, profile and password changes, JWT issue, and the
flows that go through an email link (password reset, verification, email
change).

A service that sends mail defers the job in the transaction of its change
(Procrastinate's Django connector uses Django's connection), so the job exists
exactly when the change committed.
"""

from typing import Any, NoReturn, TypedDict

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.models import update_last_login
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from rest_framework.exceptions import (
    APIException,
    AuthenticationFailed,
    PermissionDenied,
)
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import (
    BlacklistedToken,
    OutstandingToken,
)
from rest_framework_simplejwt.utils import datetime_from_epoch

from accounts import tasks
from accounts.models import (
    EMAIL_TAKEN,
    UNIQUE_CONSTRAINT_FIELDS,
    USERNAME_TAKEN,
    User,
)
from accounts.selectors import user_for_token
from accounts.tokens import (
    RefreshToken,
    email_change_tokens,
    email_verification_tokens,
    password_reset_tokens,
    user_for_uid,
)

# The fields a user may change on themselves; the rest are the admin's.
SELF_EDITABLE_FIELDS = ("email", "first_name", "last_name")


class InvalidLink(APIException):
    """A link's uid or token is bad, expired or used: one answer for all."""

    status_code = 400
    default_detail = _("The link is invalid, expired or used already.")
    default_code = "invalid_link"


class EmailNotVerified(PermissionDenied):
    default_detail = _("Confirm your email address first: open the link sent to it.")
    default_code = "email_not_verified"


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
    # Said only to the holder of the right password, so it reveals nothing more.
    if settings.KEEL["REQUIRE_VERIFIED_EMAIL"] and not user.email_verified:
        raise EmailNotVerified()
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
            tasks.send_email_verification.defer(user_id=user.pk)
    except IntegrityError as error:
        # Another request took the username or the address between the check
        # and the insert.
        _raise_taken(error)
    return user


def _raise_taken(error: IntegrityError) -> NoReturn:
    """Raise the field error for the unique constraint error broke, else error."""
    diag = getattr(error.__cause__, "diag", None)
    field = UNIQUE_CONSTRAINT_FIELDS.get(getattr(diag, "constraint_name", None) or "")
    if field is None:
        raise error
    raise ValidationError(
        {field: EMAIL_TAKEN if field == "email" else USERNAME_TAKEN}
    ) from error


def _email_taken(*, user: User, email: str) -> bool:
    return User.objects.filter(email__iexact=email).exclude(pk=user.pk).exists()


def user_update(*, user: User, data: dict[str, Any]) -> User:
    """
    Set the self-editable fields present in data; any other key is ignored.

    A new email does not replace the address at once: it becomes the pending
    address, a link to confirm it goes there and a notice to the old one, and
    user_confirm_email_change makes the change. Asking for the current address
    cancels a pending change.
    """
    changed = [name for name in SELF_EDITABLE_FIELDS if name in data]
    for name in changed:
        if name != "email":
            setattr(user, name, data[name])
    if "email" in changed:
        changed[changed.index("email")] = "pending_email"
        new_email = User.objects.normalize_email(data["email"])
        user.pending_email = "" if new_email == user.email else new_email
        if user.pending_email and _email_taken(user=user, email=new_email):
            # Said to a signed-in user only, and checked again at the change.
            raise ValidationError({"email": EMAIL_TAKEN})
    if not changed:
        return user
    try:
        user.full_clean(
            exclude=[
                field.name
                for field in User._meta.concrete_fields
                if field.name not in changed
            ]
        )
    except ValidationError as error:
        # The client sent `email`; pending_email is where it waits.
        errors = error.message_dict
        if "pending_email" in errors:
            errors["email"] = errors.pop("pending_email")
        raise ValidationError(errors) from error
    with transaction.atomic():
        user.save(update_fields=changed)
        if "pending_email" in changed and user.pending_email:
            tasks.send_email_change_confirmation.defer(user_id=user.pk)
            if user.email:
                tasks.send_email_change_notice.defer(
                    user_id=user.pk, old_email=user.email, new_email=user.pending_email
                )
    return user


def _user_for_link(
    *, uid: str, token: str, tokens: PasswordResetTokenGenerator
) -> User:
    user = user_for_uid(uid)
    if user is None or not tokens.check_token(user, token):
        raise InvalidLink()
    return user


def password_reset_request(*, email: str) -> None:
    """
    Defer the job that mails a reset link to this address's accounts.

    The job, not the request, looks the address up: the request does the same
    work, in the same time, for an address with an account and one without.
    """
    tasks.send_password_reset.defer(email=email)


@transaction.atomic
def password_reset_confirm(*, uid: str, token: str, new_password: str) -> None:
    """
    Set the password of the user uid names, if token is their reset token.

    Raise InvalidLink for a bad, expired or used link, or ValidationError for a
    password the validators reject. The new password revokes every token the
    user held (their digest is of the old hash) and spends the link (its hash
    is too); opening the link proved the address, so it is verified.
    """
    user = _user_for_link(uid=uid, token=token, tokens=password_reset_tokens)
    try:
        validate_password(new_password, user)
    except ValidationError as error:
        raise ValidationError({"new_password": error.messages}) from error
    user.set_password(new_password)
    user.email_verified = True
    user.save(update_fields=["password", "email_verified"])


def email_verify(*, uid: str, token: str) -> None:
    """Mark the address of the user uid names verified, or raise InvalidLink."""
    user = _user_for_link(uid=uid, token=token, tokens=email_verification_tokens)
    user.email_verified = True
    user.save(update_fields=["email_verified"])


def email_verification_resend(*, email: str) -> None:
    """Defer the job that mails a verification link to this address's accounts."""
    tasks.resend_email_verification.defer(email=email)


def user_confirm_email_change(*, uid: str, token: str) -> None:
    """Make the pending address of the user uid names theirs, now verified."""
    user = _user_for_link(uid=uid, token=token, tokens=email_change_tokens)
    # Another account may have taken the address since it was asked for.
    if _email_taken(user=user, email=user.pending_email):
        raise ValidationError({"email": EMAIL_TAKEN})
    user.email = user.pending_email
    user.pending_email = ""
    user.email_verified = True
    try:
        with transaction.atomic():
            user.save(update_fields=["email", "pending_email", "email_verified"])
    except IntegrityError as error:
        _raise_taken(error)


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
