"""Keep the authentication cache true: drop a user's entry when it changes."""

from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from accounts.models import User
from accounts.selectors import user_cache_key


@receiver(post_save, sender=User)
@receiver(post_delete, sender=User)
def drop_cached_user(sender: type[User], instance: User, **kwargs: Any) -> None:
    key = user_cache_key(instance.pk)
    cache.delete(key)
    # Again once committed: a request that read the old row before the commit
    # may have cached it again in between.
    transaction.on_commit(lambda: cache.delete(key))
