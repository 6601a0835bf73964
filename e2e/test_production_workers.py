"""production: two job workers share the queue, and each job runs exactly once.

The stack runs PROD_WORKERS workers (KEEL_WORKER_REPLICAS). A batch of password
reset mails is queued from a backend replica. Every job must succeed (keel's
worker deletes a job that did; a failed one stays), each must be started by one
worker alone (each worker logs "Starting job <task>[<id>]"), and each address
must get one message at the SMTP server. Both workers must have taken part: a
batch that one worker happened to drain alone proves nothing about the other,
so another batch is queued then.
"""

import json
import re
import secrets
from collections import Counter

from e2e.mail import wait_for_worker
from e2e.shell import exec_in, podman, run, wait_until
from e2e.stacks import PROD_WORKERS, SMTP_HOST, Stack
from e2e.timings import Timings

JOBS = 24
BATCHES = 3

# Users made in one statement with one hash (a password hash per user would
# cost seconds), then a reset mail queued for each.
QUEUE_BATCH = """
import json, os, secrets
from django.contrib.auth.hashers import make_password
from accounts.models import User
from accounts.tasks import send_password_reset
tag, count = os.environ["E2E_TAG"], int(os.environ["E2E_JOBS"])
password = make_password(secrets.token_urlsafe(18))
emails = [f"e2e-jobs-{tag}-{i}@example.com" for i in range(count)]
User.objects.bulk_create(
    User(username=email.split("@")[0], email=email, password=password)
    for email in emails
)
jobs = {email: send_password_reset.defer(email=email) for email in emails}
print("e2e-result", json.dumps(jobs))
"""

# The jobs of these ids still in the queue, and their status.
JOBS_LEFT = """
import json, os
from procrastinate.contrib.django.models import ProcrastinateJob
ids = json.loads(os.environ["E2E_JOB_IDS"])
left = ProcrastinateJob.objects.filter(id__in=ids).values_list("id", "status")
print("e2e-result", json.dumps(dict(left)))
"""
STARTED = re.compile(r"Starting job accounts\.send_password_reset\[(\d+)\]")


def manage_py_shell(container: str, script: str, **env: str) -> object:
    """
    Return the JSON that script printed after "e2e-result", run by manage.py
    shell in the container (its log lines share stdout).
    """
    out = exec_in(
        container, "python", "manage.py", "shell", "-v", "0", "-c", script, env=env
    ).stdout  # fmt: skip
    [result] = [line for line in out.splitlines() if line.startswith("e2e-result ")]
    return json.loads(result.removeprefix("e2e-result "))


def jobs_left(backend: str, jobs: dict[str, int]) -> dict[str, str]:
    ids = json.dumps(list(jobs.values()))
    left = manage_py_shell(backend, JOBS_LEFT, E2E_JOB_IDS=ids)
    assert isinstance(left, dict)
    return left


def started_by(workers: list[str], jobs: dict[str, int]) -> dict[str, Counter[int]]:
    """Return, for each worker, how often it started each of these jobs."""
    ids = set(jobs.values())
    return {
        worker: Counter(
            job
            for job in map(int, STARTED.findall(podman("logs", worker)))
            if job in ids
        )
        for worker in workers
    }


def messages_to(smtp: str, email: str) -> int:
    log = run("podman", "logs", smtp, check=False).stdout
    blocks = log.split("---------- MESSAGE FOLLOWS ----------")[1:]
    return sum(email in block for block in blocks)


def test_each_job_is_run_by_exactly_one_of_the_workers(
    production: Stack, timings: Timings
) -> None:
    workers = production.replicas("worker")
    assert len(workers) == PROD_WORKERS
    for worker in workers:
        wait_for_worker(worker)
    backend = production.container("backend")

    jobs: dict[str, int] = {}
    for _ in range(BATCHES):
        batch = manage_py_shell(
            backend, QUEUE_BATCH, E2E_TAG=secrets.token_hex(4), E2E_JOBS=f"{JOBS}"
        )
        assert isinstance(batch, dict)
        jobs.update(batch)
        wait_until(
            f"{len(jobs)} reset mails sent",
            lambda: (
                not any(
                    status in ("todo", "doing")
                    for status in jobs_left(backend, jobs).values()
                )
            ),
            timeout=120,
        )
        starts = started_by(workers, jobs)
        if all(starts.values()):
            break

    assert jobs_left(backend, jobs) == {}, "a job failed, or is still queued"
    assert sum(starts.values(), Counter()) == Counter(jobs.values())
    split = sorted(sum(counts.values()) for counts in starts.values())
    assert all(split), f"one worker ran every job of {BATCHES} batches: {split}"
    smtp = production.container(SMTP_HOST)
    received = {email: messages_to(smtp, email) for email in jobs}
    assert received == dict.fromkeys(jobs, 1)
    timings.figure(
        f"{len(jobs)} reset mails over {PROD_WORKERS} workers: each job started "
        f"once, by one worker; split {split}"
    )
