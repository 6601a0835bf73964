"""
Keep the authentication cache true: drop a user's entry when it changes.

A save or a delete sends a signal; a User QuerySet's update() sends none, and
drops the entries itself (accounts.models.UserQuerySet). Only SQL that bypasses
the ORM leaves an entry to expire, within KEEL_AUTH_CACHE_SECONDS.
"""

from collections.abc import Sequence
from typing import Any

import structlog

from django.core.cache import cache
from django.db import transaction
from django.db.models import Model
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from accounts.models import User
from accounts.selectors import user_cache_key

logger = structlog.get_logger("keel.auth")


def _drop(keys: list[str]) -> None:
    try:
        cache.delete_many(keys)
    except Exception as error:  # the change itself has happened already
        # The write stands; a cache that cannot be reached also serves nothing,
        # and the entry expires within KEEL_AUTH_CACHE_SECONDS.
        logger.error(
            "could not drop a cached user", key=keys[0], error=type(error).__name__
        )


def drop_cached_users(pks: Sequence[object]) -> None:
    """Drop the cached copies of these users, now and once the change commits."""
    if not pks:
        return
    keys = [user_cache_key(pk) for pk in pks]
    _drop(keys)
    # Again once committed: a request that read the old row before the commit
    # may have cached it again in between.
    transaction.on_commit(lambda: _drop(keys))


# No sender: a proxy model of User sends its own class, and must drop it too.
@receiver(post_save)
@receiver(post_delete)
def drop_cached_user(sender: type[Model], instance: Model, **kwargs: Any) -> None:
    if isinstance(instance, User):
        drop_cached_users([instance.pk])
