"""
``manage.py probe_worker``: is a Procrastinate worker alive?

A worker beats its heartbeat in ``procrastinate_workers`` every 10 s while its
event loop runs; a worker that hung or died stops. The worker's container
healthcheck and Kubernetes probes run this: exit 0 when a heartbeat is younger
than --within seconds, 1 otherwise, saying why.
"""

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connection

from core.health import database_error


class Command(BaseCommand):
    help = (
        "Exit 0 when a Procrastinate worker beat its heartbeat within --within "
        "seconds (default 30), 1 otherwise."
    )
    requires_system_checks = ()

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--within", type=int, default=30)

    def handle(self, *args: Any, within: int, **options: Any) -> None:
        unavailable = database_error()
        if unavailable:
            raise CommandError(
                f"worker probe: the database does not answer: {unavailable}"
            )
        try:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*), EXTRACT(EPOCH FROM NOW() - max(last_heartbeat))"
                    " FROM procrastinate_workers"
                    " WHERE last_heartbeat > NOW() - make_interval(secs => %s)",
                    [within],
                )
                alive, age = cursor.fetchone()
        except DatabaseError as error:
            raise CommandError(
                f"worker probe: cannot read procrastinate_workers "
                f"({type(error).__name__}); are the migrations applied?"
            ) from error
        if not alive:
            raise CommandError(f"worker probe: no worker heartbeat in {within} s")
        self.stdout.write(f"{alive} worker(s) alive; last heartbeat {age:.1f} s ago")
