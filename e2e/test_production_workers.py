"""production: two job workers share the queue, and each job runs exactly once.

The stack runs PROD_WORKERS workers (KEEL_WORKER_REPLICAS). A batch of password
reset mails is queued from a backend replica; every job must be started once
(one ``started`` event, one attempt), every address must get one message at the
SMTP server, and both workers must have taken part: a batch that one worker
happened to drain alone proves nothing about the other, so another is queued.
"""

import json
import secrets
from collections import Counter

from e2e.mail import wait_for_worker
from e2e.shell import exec_in, run, wait_until
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

# Each job's status, attempts and worker, and how often it was started.
JOB_REPORT = """
import json, os
from collections import Counter
from procrastinate.contrib.django.models import ProcrastinateEvent, ProcrastinateJob
ids = json.loads(os.environ["E2E_JOB_IDS"])
started = Counter(
    ProcrastinateEvent.objects.filter(job_id__in=ids, type="started")
    .values_list("job_id", flat=True)
)
print("e2e-result", json.dumps({
    job.id: [job.status, job.attempts, job.worker_id, started[job.id]]
    for job in ProcrastinateJob.objects.filter(id__in=ids)
}))
"""


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


def job_report(backend: str, jobs: dict[str, int]) -> dict[str, list[object]]:
    ids = json.dumps(list(jobs.values()))
    report = manage_py_shell(backend, JOB_REPORT, E2E_JOB_IDS=ids)
    assert isinstance(report, dict)
    return report


def messages_to(email: str) -> int:
    log = run("podman", "logs", SMTP_HOST, check=False).stdout
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
            lambda: all(
                status not in ("todo", "doing")
                for status, *_ in job_report(backend, jobs).values()
            ),
            timeout=120,
        )
        # While the workers run, each finished job keeps its worker's id.
        report = job_report(backend, jobs)
        if len({worker for _, _, worker, _ in report.values()}) == PROD_WORKERS:
            break

    assert {status for status, *_ in report.values()} == {"succeeded"}
    assert Counter(attempts for _, attempts, _, _ in report.values()) == {1: len(jobs)}
    assert Counter(starts for *_, starts in report.values()) == {1: len(jobs)}
    by_worker = Counter(worker for _, _, worker, _ in report.values())
    assert len(by_worker) == PROD_WORKERS, by_worker
    assert {email: messages_to(email) for email in jobs} == dict.fromkeys(jobs, 1)
    timings.figure(
        f"{len(jobs)} jobs over {PROD_WORKERS} workers: each started once, "
        f"split {sorted(by_worker.values())}"
    )
