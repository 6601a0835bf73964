"""
Django's makemigrations, run without a database.

``make lint`` checks with it that every model change has its migration
(``--check --dry-run``), and ``make app`` writes a new app's first migration.
makemigrations reads only the models and the migration files; the one thing
it asks a database is whether the history applied there is consistent, a
question about a deployment rather than the code, which Django skips for the
dummy backend. So no PostgreSQL need run, on any machine.
"""

import os
import sys
from pathlib import Path

BACKEND = Path(__file__).resolve().parent.parent / "backend"


def main(argv: list[str]) -> None:
    sys.path.insert(0, str(BACKEND))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "configs.settings")
    from django.conf import settings
    from django.core.management import execute_from_command_line

    # Connections are made from this dict on first use, which is after this.
    settings.DATABASES["default"] = {"ENGINE": "django.db.backends.dummy"}
    execute_from_command_line(["manage.py", "makemigrations", *argv])


if __name__ == "__main__":
    main(sys.argv[1:])
