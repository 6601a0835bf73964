"""
The Django peer: a project made by ``django-admin startproject`` at bench time.

Nothing of it is committed. The generated project keeps every default
(middleware, apps, templates) and gets only what Django's deployment checklist
asks for (DEBUG off, ALLOWED_HOSTS) and two views: a plain Django JSON view,
and a bare DRF APIView, so that the table shows what DRF itself costs.
"""

import subprocess
from pathlib import Path

PROJECT = "mysite"

SETTINGS_TAIL = """
# Added by keel's benchmark: Django's deployment checklist, and DRF.
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS += ["rest_framework"]
"""

VIEWS = '''"""The benchmark's two views: a Django JSON view and a bare DRF APIView."""

from django.http import JsonResponse
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView


def hello(request):
    return JsonResponse({"status": "ok"})


class HelloApi(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    def get(self, request):
        return Response({"status": "ok"})
'''

URLS_TAIL = """
# Added by keel's benchmark.
from mysite.views import HelloApi, hello  # noqa: E402

urlpatterns += [path("hello/", hello), path("drf/", HelloApi.as_view())]
"""


def generate(django_admin: Path, directory: Path) -> Path:
    """Generate the peer project in directory and return its package folder."""
    subprocess.run(
        [str(django_admin), "startproject", PROJECT, str(directory)], check=True
    )
    package = directory / PROJECT
    with (package / "settings.py").open("a") as settings:
        settings.write(SETTINGS_TAIL)
    (package / "views.py").write_text(VIEWS)
    with (package / "urls.py").open("a") as urls:
        urls.write(URLS_TAIL)
    return package
