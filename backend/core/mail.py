"""
Mail from templates, sent by jobs: a plain-text and an HTML part per message.

A message named ``accounts/email/password_reset`` is three templates:
``..._subject.txt`` (one line), ``....txt`` and ``....html``. A project
overrides any of them with a file of the same path in a template folder that
Django searches first (an app above the one that ships it in INSTALLED_APPS, or
TEMPLATES' DIRS).
"""

import smtplib
from collections.abc import Mapping
from typing import Any

import attr
from procrastinate import RetryStrategy
from procrastinate.jobs import Job
from procrastinate.retry import RetryDecision

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string


def mail_send(*, template: str, to: str, context: Mapping[str, Any]) -> None:
    """Render template's subject, text and HTML with context and send it to to."""
    subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"{template}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
    )
    message.attach_alternative(
        render_to_string(f"{template}.html", context), "text/html"
    )
    message.send()


def is_permanent(exception: BaseException) -> bool:
    """Return whether the SMTP server refused the message for good (a 5xx)."""
    if isinstance(exception, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exception.recipients.values())
    if isinstance(exception, smtplib.SMTPResponseException):
        return bool(exception.smtp_code >= 500)
    return False


@attr.dataclass(kw_only=True)
class MailRetry(RetryStrategy):
    """
    Retry a mail job that failed for a passing reason: the server down or slow
    (a socket error), or a 4xx answer. A 5xx answer (no such mailbox, a sender
    refused) is final: the job fails at once, for the admin to show.
    """

    def get_retry_decision(
        self, *, exception: BaseException, job: Job
    ) -> RetryDecision | None:
        if is_permanent(exception):
            return None
        return super().get_retry_decision(exception=exception, job=job)


# Waits of 2, 4, 8 ... 512 s: ten attempts over about 17 minutes.
MAIL_RETRY = MailRetry(
    max_attempts=10,
    exponential_wait=2,
    retry_exceptions={smtplib.SMTPException, OSError},
)
