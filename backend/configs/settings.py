"""
Settings for keel, read from the environment and nowhere else.

Real environment variables win over the env file (backend/.env by default, or
the file named by DJANGO_ENV_FILE; an empty DJANGO_ENV_FILE reads none). Every
problem found is reported at once, naming the variable, never a secret's value.
"""

import os
from pathlib import Path

from configs.env import KEY_GENERATION_HINT, Env, read_environment

BASE_DIR = Path(__file__).resolve().parent.parent

_env_file_name = os.environ.get("DJANGO_ENV_FILE", str(BASE_DIR / ".env"))
ENV_FILE = Path(_env_file_name) if _env_file_name else None
env = Env(read_environment(os.environ, ENV_FILE))

DEBUG = env.flag("DJANGO_DEBUG", default=False)
SECRET_KEY = env.required("DJANGO_SECRET_KEY", hint=KEY_GENERATION_HINT)
ALLOWED_HOSTS = env.csv("DJANGO_ALLOWED_HOSTS")
CORS_ALLOWED_ORIGINS = env.origins("CORS_ALLOWED_ORIGINS")
CSRF_TRUSTED_ORIGINS = env.origins("CSRF_TRUSTED_ORIGINS")

for _name, _value in (
    ("DJANGO_ALLOWED_HOSTS", ALLOWED_HOSTS),
    ("CORS_ALLOWED_ORIGINS", CORS_ALLOWED_ORIGINS),
    ("CSRF_TRUSTED_ORIGINS", CSRF_TRUSTED_ORIGINS),
):
    env.require_when(
        not DEBUG, _name, _value, why="when DJANGO_DEBUG is off (comma-separated)"
    )

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
    "accounts",
    "api",
]

MIDDLEWARE = [
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Serves the admin's static files from the server itself, before any
    # middleware that would spend time on them.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "configs.urls"
WSGI_APPLICATION = "configs.wsgi.application"
ASGI_APPLICATION = "configs.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": env.required("DB_NAME"),
        "USER": env.required("DB_USER"),
        "PASSWORD": env.text("DB_PASSWORD"),
        "HOST": env.required("DB_HOST"),
        "PORT": env.integer("DB_PORT", default=5432, minimum=1, maximum=65535),
        "CONN_MAX_AGE": env.integer("DB_CONN_MAX_AGE", default=60),
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {
            "connect_timeout": env.integer("DB_CONNECT_TIMEOUT", default=5, minimum=1)
        },
    }
}

REDIS_URL = env.text("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_USER_MODEL = "accounts.User"

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation"
        ".UserAttributeSimilarityValidator"
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
# The database always stores UTC (USE_TZ); the zone only sets display and local dates.
TIME_ZONE = env.time_zone("DJANGO_TIME_ZONE", default="Asia/Ho_Chi_Minh")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Filled by collectstatic when the image is built; hashed names, compressed copies.
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
# Pages link only the hashed names; the originals would double the image's share.
WHITENOISE_KEEP_ONLY_HASHED_FILES = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.flag("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

# keel's own settings, in one namespace.
KEEL = {
    # The env-sync check compares these: backend/.env, backend/db.env beside it
    # and the compose file at the project's root, one level up.
    "ENV_FILE": ENV_FILE,
    "DB_ENV_FILE": ENV_FILE.with_name("db.env") if ENV_FILE else None,
    "COMPOSE_FILE": ENV_FILE.parent.parent / "podman-compose.yml" if ENV_FILE else None,
    "MONGO_URL": env.text("MONGO_URL"),
    "MONGO_DB": env.text("MONGO_DB"),
}

env.raise_for_problems()
