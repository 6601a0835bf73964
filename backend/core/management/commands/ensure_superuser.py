"""
``manage.py ensure_superuser``: create the superuser the environment names.

With DJANGO_SUPERUSER_USERNAME set (and _PASSWORD, optionally _EMAIL: the
variables of Django's ``createsuperuser --noinput``), the user is created
unless it exists; an existing user is left exactly as it is, so running it at
every start is safe. Without the variable it does nothing. ``migrate_locked``
runs it after migrating, so ``make dev``, ``make serve`` and the container's
entrypoint all do.
"""

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError, transaction


class Command(BaseCommand):
    help = (
        "Create the superuser named by DJANGO_SUPERUSER_USERNAME unless it exists "
        "(password from DJANGO_SUPERUSER_PASSWORD)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        wanted = settings.KEEL["SUPERUSER"]
        username = wanted["USERNAME"]
        if not username:
            return
        user_model = get_user_model()
        # The name as the user model stores it (NFKC), and found in any case, as
        # the model's unique constraint compares it.
        username = user_model.normalize_username(username)
        lookup = {user_model.USERNAME_FIELD: username}
        exists = {f"{user_model.USERNAME_FIELD}__iexact": username}
        if user_model._default_manager.filter(**exists).exists():
            self.stdout.write(f"ensure_superuser: {username} exists, left as it is.")
            return
        try:
            # A replica starting beside this one may create it first.
            with transaction.atomic():
                user_model._default_manager.create_superuser(
                    email=wanted["EMAIL"] or "",
                    password=wanted["PASSWORD"],
                    **lookup,
                )
        except IntegrityError as error:
            if not user_model._default_manager.filter(**exists).exists():
                # Not the race above: another user has DJANGO_SUPERUSER_EMAIL.
                raise CommandError(
                    f"ensure_superuser: cannot create {username}: another user "
                    "has the address DJANGO_SUPERUSER_EMAIL names. Set another."
                ) from error
            self.stdout.write(f"ensure_superuser: {username} exists, left as it is.")
            return
        self.stdout.write(f"ensure_superuser: created the superuser {username}.")
