"""
keel's settings with testing.tasks among the worker's tasks: a worker that a
test starts with DJANGO_SETTINGS_MODULE=testing.worker_settings runs them.
"""

from configs.settings import *  # noqa: F403

PROCRASTINATE_IMPORT_PATHS = ["testing.tasks"]
