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
    from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

    from accounts.tasks import flush_expired_tokens
    from accounts.tests.factories import make_user

    user = make_user()
    now = timezone.now()
    for jti, expires in (("old", now - timedelta(days=1)), ("new", now + timedelta(1))):
        OutstandingToken.objects.create(
            user=user, jti=jti, token=jti, created_at=now, expires_at=expires
        )
    flush_expired_tokens(timestamp=0)
    assert list(OutstandingToken.objects.values_list("jti", flat=True)) == ["new"]
