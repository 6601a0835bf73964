"""
The jobs of accounts: its mail, the daily flush of expired JWTs and the prune
of closed throttle counts.

Each mail job is deferred in the transaction of the change that causes it, so
it exists exactly when the change committed, and the worker sends it: never
the request. A job reads the user when it runs, so a link is made from the
user's state at sending time. Jobs that take an address look the user up
themselves, so that a request for an unknown address costs what a known one
costs.
"""

from typing import Any

from procrastinate.contrib.django import app

from django.conf import settings
from django.core.management import call_command

from accounts.counts import prune_closed_counts
from accounts.models import User
from accounts.selectors import users_for_email
from accounts.tokens import (
    email_change_tokens,
    email_verification_tokens,
    password_reset_tokens,
    uid_for,
)
from core.mail import MAIL_RETRY, mail_send


def link(page: str, user: User, token: str) -> str:
    """Return the client app's URL of page for user's uid and token."""
    return f"{settings.KEEL['FRONTEND_URL']}/{page}?uid={uid_for(user)}&token={token}"


def context_for(user: User, **extra: Any) -> dict[str, Any]:
    return {"user": user, "frontend_url": settings.KEEL["FRONTEND_URL"], **extra}


@app.task(name="accounts.send_password_reset", retry=MAIL_RETRY)
def send_password_reset(*, email: str) -> None:
    """Send a reset link to each account with this address; nothing if none."""
    for user in users_for_email(email=email):
        if not user.has_usable_password():
            continue
        token = password_reset_tokens.make_token(user)
        mail_send(
            template="accounts/email/password_reset",
            to=user.email,
            context=context_for(
                user,
                link=link("reset-password", user, token),
                minutes=settings.PASSWORD_RESET_TIMEOUT // 60,
            ),
        )


def _send_verification(user: User) -> None:
    token = email_verification_tokens.make_token(user)
    mail_send(
        template="accounts/email/verify_email",
        to=user.email,
        context=context_for(
            user,
            link=link("verify-email", user, token),
            hours=settings.KEEL["EMAIL_TOKEN_TIMEOUT"] // 3600,
        ),
    )


@app.task(name="accounts.send_email_verification", retry=MAIL_RETRY)
def send_email_verification(*, user_id: int) -> None:
    """Send user_id's verification link, unless verified or gone since."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is not None and user.email and not user.email_verified:
        _send_verification(user)


@app.task(name="accounts.resend_email_verification", retry=MAIL_RETRY)
def resend_email_verification(*, email: str) -> None:
    """Send a verification link to each unverified account with this address."""
    for user in users_for_email(email=email):
        if not user.email_verified:
            _send_verification(user)


@app.task(name="accounts.send_email_change_confirmation", retry=MAIL_RETRY)
def send_email_change_confirmation(*, user_id: int) -> None:
    """Send the link that confirms user_id's pending address, to that address."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or not user.pending_email:
        return
    token = email_change_tokens.make_token(user)
    mail_send(
        template="accounts/email/email_change_confirm",
        to=user.pending_email,
        context=context_for(
            user,
            link=link("confirm-email-change", user, token),
            new_email=user.pending_email,
            hours=settings.KEEL["EMAIL_TOKEN_TIMEOUT"] // 3600,
        ),
    )


@app.task(name="accounts.send_email_change_notice", retry=MAIL_RETRY)
def send_email_change_notice(*, user_id: int, old_email: str, new_email: str) -> None:
    """Tell the old address that a change to new_email was asked for."""
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        return
    mail_send(
        template="accounts/email/email_change_notice",
        to=old_email,
        context=context_for(user, new_email=new_email),
    )


@app.periodic(cron="17 3 * * *")
@app.task(
    name="accounts.flush_expired_tokens", queueing_lock="accounts.flush_expired_tokens"
)
def flush_expired_tokens(timestamp: int) -> None:
    """Delete expired refresh tokens from Simple JWT's tables, daily."""
    call_command("flushexpiredtokens")


@app.periodic(cron="*/10 * * * *")
@app.task(
    name="accounts.prune_throttle_counts",
    queueing_lock="accounts.prune_throttle_counts",
)
def prune_throttle_counts(timestamp: int) -> None:
    """Delete the throttle counts whose period has ended, every ten minutes."""
    prune_closed_counts()
