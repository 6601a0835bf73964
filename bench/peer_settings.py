"""
The peer baseline: keel's app with Simple JWT's stock authentication.

This is how cookiecutter-django and its peers ship an authenticated API: the
stock JWTAuthentication, which loads the whole user row on every request.
"""

from bench.settings import *  # noqa: F403

REST_FRAMEWORK = {
    **REST_FRAMEWORK,  # noqa: F405
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
    ],
}
