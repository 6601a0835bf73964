"""WSGI entry point for keel: ``configs.wsgi:application``."""

import os

from django.core.wsgi import get_wsgi_application

from configs.startup import exit_on_configuration_error
from core.wsgi import LivenessProbe

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "configs.settings")

with exit_on_configuration_error():
    # /healthz is answered in front of Django (core.wsgi).
    application = LivenessProbe(get_wsgi_application())
