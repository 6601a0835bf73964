"""keel's user model, the AUTH_USER_MODEL from the first migration."""

from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from accounts.validators import validate_single_script

USERNAME_TAKEN = _("A user with that username already exists.")
EMAIL_TAKEN = _("A user with that email address already exists.")

# The database's names of the constraints a save can break, and the field each
# guards, so that a race lost at the insert still names the field.
UNIQUE_CONSTRAINT_FIELDS = {
    "accounts_user_username_key": "username",
    "accounts_user_username_ci_unique": "username",
    "accounts_user_email_ci_unique": "email",
}


class UserQuerySet(models.QuerySet["User"]):
    def update(self, **kwargs: Any) -> int:
        """
        Update the rows, and drop the authentication cache's copy of each.

        QuerySet.update() sends no signal, so accounts.signals cannot see it:
        ``User.objects.filter(...).update(is_active=False)`` would leave every
        deactivated user served from the cache until their entry expired.
        """
        from accounts.signals import drop_cached_users

        pks = list(self.values_list("pk", flat=True)) if _auth_cached() else []
        updated = super().update(**kwargs)
        drop_cached_users(pks)
        return updated


def _auth_cached() -> bool:
    from django.conf import settings

    return bool(settings.KEEL["AUTH_CACHE_SECONDS"])


class UserManager(DjangoUserManager["User"]):
    """Django's user manager, on a QuerySet whose update() keeps the cache true."""

    def get_queryset(self) -> UserQuerySet:
        return UserQuerySet(self.model, using=self._db)


class User(AbstractUser):
    """A user; keel's own model, so fields can be added by a plain migration."""

    username = models.CharField(
        _("username"),
        max_length=150,
        unique=True,
        help_text=_(
            "Required. 150 characters or fewer. Letters of one script, digits and "
            "@/./+/-/_ only."
        ),
        validators=[AbstractUser.username_validator, validate_single_script],
        error_messages={"unique": USERNAME_TAKEN},
    )
    # Set when the user opened a verification link sent to `email`.
    email_verified = models.BooleanField(default=False)
    # An address the user asked to change to; `email` changes only when a link
    # sent there is opened (accounts.services.user_confirm_email_change).
    pending_email = models.EmailField(blank=True, default="")

    objects: ClassVar[UserManager] = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            # `Alice` is `alice`: one account per name and per address, in any
            # case, kept by PostgreSQL's unique indexes on lower().
            models.UniqueConstraint(
                Lower("username"),
                name="accounts_user_username_ci_unique",
                violation_error_code="username_taken",
                violation_error_message=USERNAME_TAKEN,
            ),
            # An account may have no address (""), so many may share that one.
            models.UniqueConstraint(
                Lower("email"),
                condition=~models.Q(email=""),
                name="accounts_user_email_ci_unique",
                violation_error_code="email_taken",
                violation_error_message=EMAIL_TAKEN,
            ),
            # Every username is in NFKC, whichever code saved it, so a fullwidth
            # or ligature spelling cannot stand beside the plain name.
            models.CheckConstraint(
                condition=models.Q(
                    username=models.Func(
                        models.F("username"),
                        template="normalize(%(expressions)s, NFKC)",
                        output_field=models.CharField(),
                    )
                ),
                name="accounts_user_username_nfkc",
                violation_error_code="username_not_nfkc",
                violation_error_message=_("Usernames are stored in NFKC form."),
            ),
        ]

    def validate_constraints(self, exclude: Any = None) -> None:
        # Django reports a constraint on an expression under no field; the API
        # and the admin forms name the field whose value is taken.
        try:
            super().validate_constraints(exclude=exclude)
        except ValidationError as error:
            raise ValidationError(_errors_by_field(error)) from error


_FIELD_OF_CODE = {"username_taken": "username", "email_taken": "email"}


def _errors_by_field(error: ValidationError) -> dict[str, list[ValidationError]]:
    errors: dict[str, list[ValidationError]] = {}
    for name, messages in error.error_dict.items():
        for message in messages:
            field = _FIELD_OF_CODE.get(str(message.code), name)
            errors.setdefault(field, []).append(message)
    return errors


class ThrottleCount(models.Model):
    """
    One throttle's count of attempts under one key, while its period is open.

    Written only by accounts.counts with one atomic upsert per attempt; a closed
    row is reused by the next attempt or deleted by the periodic prune.
    """

    key = models.CharField(max_length=255, primary_key=True)
    count = models.PositiveIntegerField()
    closes_at = models.DateTimeField(db_index=True)

    class Meta:
        db_table = "accounts_throttle_count"

    def __str__(self) -> str:
        return f"{self.key}: {self.count}"
