"""keel's user model, the AUTH_USER_MODEL from the first migration."""

from django.contrib.auth.models import AbstractUser


class User(AbstractUser):
    """A user; keel's own model, so fields can be added by a plain migration."""
