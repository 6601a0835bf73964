"""The periodic jobs: what replaced the systemd timers."""

from procrastinate.contrib.django import app


def periodic_crons():
    return {
        task.task.name: task.cron
        for task in app.periodic_registry.periodic_tasks.values()
    }


def test_flushexpiredtokens_runs_daily_and_stalled_jobs_are_retried_every_minute():
    crons = periodic_crons()
    minute, hour, *every_day = crons["accounts.flush_expired_tokens"].split()
    assert every_day == ["*", "*", "*"] and minute.isdigit() and hour.isdigit()
    assert crons["core.retry_stalled_jobs"] == "* * * * *"


def test_the_backup_is_scheduled_by_keel_backup_schedule(settings):
    assert settings.KEEL["BACKUP"]["SCHEDULE"] == "5 3 * * *"
    assert periodic_crons()["core.backup_database"] == "5 3 * * *"


def test_flush_expired_tokens_job_flushes(db):
    from datetime import timedelta

    from django.utils import timezone
    from rest_framework_simplejwt.token_blacklist.models import (
        BlacklistedToken,
        OutstandingToken,
    )

    from accounts.tasks import flush_expired_tokens
    from accounts.tests.factories import make_user

    user = make_user()
    now = timezone.now()
    for jti, expires in (
        ("old", now - timedelta(days=1)),
        ("old and blacklisted", now - timedelta(seconds=1)),
        ("new", now + timedelta(1)),
        ("new and blacklisted", now + timedelta(1)),
    ):
        token = OutstandingToken.objects.create(
            user=user, jti=jti, token=jti, created_at=now, expires_at=expires
        )
        if "blacklisted" in jti:
            BlacklistedToken.objects.create(token=token)
    flush_expired_tokens(timestamp=0)
    assert sorted(OutstandingToken.objects.values_list("jti", flat=True)) == [
        "new",
        "new and blacklisted",
    ]
    # The expired one's blacklist entry went with it; the live one's stays.
    assert list(BlacklistedToken.objects.values_list("token__jti", flat=True)) == [
        "new and blacklisted"
    ]


def test_every_periodic_job_holds_a_queueing_lock_of_its_own():
    # Two workers defer a periodic job once per period regardless (Procrastinate's
    # unique key per task and timestamp); the lock also keeps a late run from
    # being queued beside one still waiting.
    for periodic in app.periodic_registry.periodic_tasks.values():
        if periodic.task.name.startswith("testing."):
            continue
        assert periodic.periodic_id == ""
        assert periodic.task.queueing_lock == periodic.task.name
