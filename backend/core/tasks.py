"""
Procrastinate's housekeeping and the daily backup, as periodic jobs of keel's
worker.

A worker killed mid-job (SIGKILL, a lost node) leaves its job in ``doing``;
once the worker has missed its heartbeats for 30 s, the job is put back in
the queue, with one more attempt counted. Failed jobs stay for the admin to
show, for 30 days.

The backup runs pg_dump where the worker runs (core.backups, as make backup
does) when KEEL_BACKUP_DIR is set, and does nothing otherwise.
"""

from pathlib import Path

import structlog
from procrastinate.contrib.django import app
from procrastinate.job_context import JobContext

from django.conf import settings
from django.db import connections

from core import backups

logger = structlog.get_logger("keel.backup")

# Procrastinate's default: a worker beats every 10 s and is stalled after 30 s.
STALLED_AFTER_SECONDS = 30
KEEP_FAILED_JOBS_HOURS = 30 * 24


@app.periodic(cron="* * * * *")
@app.task(
    name="core.retry_stalled_jobs",
    queueing_lock="core.retry_stalled_jobs",
    pass_context=True,
)
async def retry_stalled_jobs(context: JobContext, timestamp: int) -> None:
    manager = context.app.job_manager
    for job in await manager.get_stalled_jobs(
        seconds_since_heartbeat=STALLED_AFTER_SECONDS
    ):
        await manager.retry_job(job)


@app.periodic(cron="41 3 * * *")
@app.task(
    name="core.delete_old_jobs",
    queueing_lock="core.delete_old_jobs",
    pass_context=True,
)
async def delete_old_jobs(context: JobContext, timestamp: int) -> None:
    await context.app.job_manager.delete_old_jobs(
        nb_hours=KEEP_FAILED_JOBS_HOURS, include_failed=True, include_cancelled=True
    )


# The scheduler needs the cron when the worker loads its tasks, after settings.
@app.periodic(cron=settings.KEEL["BACKUP"]["SCHEDULE"])
@app.task(name="core.backup_database", queueing_lock="core.backup_database")
def backup_database(timestamp: int) -> None:
    """Write a backup of the database to KEEL_BACKUP_DIR and prune old ones."""
    options = settings.KEEL["BACKUP"]
    if not options["DIR"]:
        return
    dump = backups.backup(
        # pg_dump needs a session of its own: PostgreSQL, never PgBouncer.
        backups.Host.from_database(
            connections[settings.KEEL["DIRECT_DATABASE"]].settings_dict
        ),
        Path(options["DIR"]),
        keep=options["KEEP"],
    )
    logger.info("backup written", file=dump.name, bytes=dump.stat().st_size)
