#!/usr/bin/env python
"""Django's command-line utility for keel."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "configs.settings")

    from django.conf import settings
    from django.core.management import execute_from_command_line

    from configs.startup import exit_on_configuration_error

    with exit_on_configuration_error():
        # Load settings now: Django's command runner would otherwise swallow
        # the error and fail later with a less helpful one.
        settings.INSTALLED_APPS  # noqa: B018
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
