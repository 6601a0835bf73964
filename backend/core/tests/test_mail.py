"""core.mail: which SMTP failures are retried, and how often."""

import smtplib

import pytest
from procrastinate.jobs import Job

from core.mail import MAIL_RETRY


def job(attempts):
    return Job(
        id=1,
        queue="default",
        lock=None,
        queueing_lock=None,
        task_name="accounts.send_password_reset",
        attempts=attempts,
    )


@pytest.mark.parametrize(
    "error",
    [
        ConnectionRefusedError(111, "refused"),  # the server is down
        TimeoutError("timed out"),
        smtplib.SMTPServerDisconnected("gone"),
        smtplib.SMTPResponseException(421, b"try later"),
        smtplib.SMTPRecipientsRefused({"a@example.com": (450, b"busy")}),
    ],
)
def test_a_passing_failure_is_retried_with_a_growing_wait(error):
    first = MAIL_RETRY.get_retry_decision(exception=error, job=job(0))
    later = MAIL_RETRY.get_retry_decision(exception=error, job=job(5))
    assert first is not None and later is not None
    assert first.retry_at is not None and later.retry_at is not None
    assert later.retry_at > first.retry_at


@pytest.mark.parametrize(
    "error",
    [
        smtplib.SMTPResponseException(550, b"no such mailbox"),
        smtplib.SMTPRecipientsRefused({"a@example.com": (550, b"unknown")}),
        smtplib.SMTPSenderRefused(553, b"sender refused", "keel@example.com"),
        ValueError("a bug, not an outage"),
    ],
)
def test_a_final_refusal_or_a_bug_is_not_retried(error):
    assert MAIL_RETRY.get_retry_decision(exception=error, job=job(0)) is None


def test_attempts_are_bounded():
    error = ConnectionRefusedError(111, "refused")
    assert MAIL_RETRY.get_retry_decision(exception=error, job=job(8)) is not None
    assert MAIL_RETRY.get_retry_decision(exception=error, job=job(10)) is None
