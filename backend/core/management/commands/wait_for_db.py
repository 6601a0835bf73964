"""
``manage.py wait_for_db``: wait until the database answers a query.

The container's entrypoint runs it before migrating and serving, because
Podman 4 ignores ``depends_on: condition: service_healthy`` and Kubernetes has
no start order at all.
"""

import time
from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS

from core.health import database_error

RETRY_INTERVAL = 0.5


class Command(BaseCommand):
    help = (
        "Wait until the database answers SELECT 1; exit 1 with the reason after "
        "--timeout seconds."
    )
    # Waiting needs no system checks; migrate runs them right after.
    requires_system_checks = ()

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--timeout",
            type=int,
            default=60,
            help="Seconds to keep trying (default 60; 0 tries once).",
        )

    def handle(self, *args: Any, timeout: int, **options: Any) -> None:
        if timeout < 0:
            raise CommandError(f"--timeout must be 0 or more; got {timeout}.")
        config = settings.DATABASES[DEFAULT_DB_ALIAS]
        # Whatever is printed, the password never is, even inside a host name.
        password = str(config.get("PASSWORD") or "")
        where = f"{config['HOST']}:{config['PORT']}"
        if password:
            where = where.replace(password, "***")
        deadline = time.monotonic() + timeout
        announced = False
        while True:
            # Each attempt is bounded by DB_CONNECT_TIMEOUT (default 5 s).
            error = database_error(detail=True)
            if error is None:
                if announced:
                    self.stdout.write(f"wait_for_db: the database at {where} is up.")
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise CommandError(
                    f"the database at {where} did not answer within {timeout} s: "
                    f"{error}. Check that it is running and that DB_HOST and "
                    f"DB_PORT point at it; KEEL_DB_WAIT_TIMEOUT sets how long the "
                    f"container waits."
                )
            if not announced:
                self.stdout.write(
                    f"wait_for_db: waiting up to {timeout} s for the database at "
                    f"{where}: {error}"
                )
                announced = True
            time.sleep(min(RETRY_INTERVAL, remaining))
