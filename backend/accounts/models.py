"""keel's user model, the AUTH_USER_MODEL from the first migration."""

from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """A user; keel's own model, so fields can be added by a plain migration."""

    # Set when the user opened a verification link sent to `email`.
    email_verified = models.BooleanField(default=False)
    # An address the user asked to change to; `email` changes only when a link
    # sent there is opened (accounts.services.user_confirm_email_change).
    pending_email = models.EmailField(blank=True, default="")
