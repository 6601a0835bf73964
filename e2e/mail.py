"""The worker in a stack: alive by its probe, and a reset mail through it."""

import json
import secrets

from e2e.http import HTTPS, Endpoint, request
from e2e.shell import exec_in, run, wait_until


def wait_for_worker(worker: str) -> float:
    """Return the seconds until the worker's own healthcheck passed."""

    def alive() -> bool:
        probe = exec_in(worker, "python", "manage.py", "probe_worker", check=False)
        return probe.returncode == 0

    return wait_until(f"{worker}'s heartbeat (probe_worker)", alive, timeout=120)


def reset_mail_arrives(
    port: int | Endpoint,
    backend: str,
    worker: str,
    smtp: str,
    host: str = "127.0.0.1",
) -> float:
    """
    Make a user, ask host:port for a password reset over HTTP and return the
    seconds until the SMTP container logged the message with its reset link.
    """
    wait_for_worker(worker)
    username = f"e2e-reset-{secrets.token_hex(4)}"
    email = f"{username}@example.com"
    exec_in(
        backend, "python", "manage.py", "createsuperuser", "--noinput",
        env={
            "DJANGO_SUPERUSER_USERNAME": username,
            "DJANGO_SUPERUSER_PASSWORD": secrets.token_urlsafe(18),
            "DJANGO_SUPERUSER_EMAIL": email,
        },
    )  # fmt: skip
    response = request(
        port, "POST", "/api/auth/password/reset/",
        body=json.dumps({"email": email}).encode(),
        headers={**HTTPS, "Content-Type": "application/json"},
        host=host,
    )  # fmt: skip
    assert response.status == 202, response.body

    def logged() -> bool:
        out = run("podman", "logs", smtp, check=False).stdout
        return email in out and "/reset-password?uid=" in out

    return wait_until(f"the reset mail to {email} in {smtp}", logged, timeout=120)
