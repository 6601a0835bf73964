"""
Procrastinate's housekeeping, as periodic jobs of keel's worker.

A worker killed mid-job (SIGKILL, a lost node) leaves its job in ``doing``;
once the worker has missed its heartbeats for 30 s, the job is put back in
the queue, with one more attempt counted. Failed jobs stay for the admin to
show, for 30 days.
"""

from procrastinate.contrib.django import app
from procrastinate.job_context import JobContext

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
