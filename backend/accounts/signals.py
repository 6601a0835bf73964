"""Keep the authentication cache true: drop a user's entry when it changes."""

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


def _drop(key: str) -> None:
    try:
        cache.delete(key)
    except Exception as error:  # the change itself has happened already
        # The write stands; a cache that cannot be reached also serves nothing,
        # and the entry expires within KEEL_AUTH_CACHE_SECONDS.
        logger.error(
            "could not drop a cached user", key=key, error=type(error).__name__
        )


# No sender: a proxy model of User sends its own class, and must drop it too.
@receiver(post_save)
@receiver(post_delete)
def drop_cached_user(sender: type[Model], instance: Model, **kwargs: Any) -> None:
    if not isinstance(instance, User):
        return
    key = user_cache_key(instance.pk)
    _drop(key)
    # Again once committed: a request that read the old row before the commit
    # may have cached it again in between.
    transaction.on_commit(lambda: _drop(key))
