"""
``manage.py migrate_locked``: ``migrate`` under a PostgreSQL advisory lock.

Every replica's entrypoint runs it at start. The lock makes the second of two
replicas starting together wait until the first has migrated, then find
nothing left to apply, instead of racing it through the same migrations.

Still under the lock, it then creates the superuser the environment names
(``ensure_superuser``, a no-op without DJANGO_SUPERUSER_USERNAME), so that a
first login needs no step of its own, in the container and on the host alike.

Behind a PgBouncer in transaction pooling (DB_POOLER_HOST), a session-level
lock would be taken on whichever server connection ran that one statement and
then held by no one in particular; so the lock and the migrations use
PostgreSQL itself, the alias settings.KEEL["DIRECT_DATABASE"] names.
"""

from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connections

# Any constant 64-bit key works; PostgreSQL scopes advisory locks per database.
# This one is "keelmigr" in ASCII, so it can be recognised in pg_locks.
MIGRATION_LOCK_ID = int.from_bytes(b"keelmigr", "big")


class Command(BaseCommand):
    help = (
        "Run migrate while holding a PostgreSQL advisory lock (one at a time), "
        "then ensure_superuser."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--database",
            default=settings.KEEL["DIRECT_DATABASE"],
            help="The database alias to migrate (default: the one that reaches "
            "PostgreSQL directly, past any PgBouncer).",
        )

    def handle(self, *args: Any, database: str, **options: Any) -> None:
        connection = connections[database]
        with connection.cursor() as cursor:
            # No DB_STATEMENT_TIMEOUT here: the lock is waited for as long as
            # another replica migrates, and a migration (an index on a big
            # table) takes what it takes; cancelling one half-way would leave
            # a non-atomic migration half-applied. It runs once, at start, in
            # a process of its own, never on a request's path.
            cursor.execute("SET statement_timeout = 0")
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [MIGRATION_LOCK_ID])
            (acquired,) = cursor.fetchone()
            if not acquired:
                self.stdout.write(
                    "migrate_locked: another process is migrating; waiting for it."
                )
                # A session-level lock: held across migrate's own transactions.
                cursor.execute("SELECT pg_advisory_lock(%s)", [MIGRATION_LOCK_ID])
        try:
            call_command(
                "migrate",
                database=database,
                interactive=False,
                verbosity=options["verbosity"],
                stdout=self.stdout,
                stderr=self.stderr,
            )
            call_command("ensure_superuser", stdout=self.stdout, stderr=self.stderr)
        finally:
            # Ending the session would release the lock too; a long-lived
            # connection is why it is released explicitly.
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [MIGRATION_LOCK_ID])
