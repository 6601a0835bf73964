"""
Django's Redis cache, with one Redis client per connection pool.

Django's ``RedisCacheClient`` builds a new ``redis.Redis`` for every cache
operation, and redis-py's constructor fills in its table of response callbacks
(about 170 entries) each time: measured here, that was 29 % of the instructions
of ``GET /api/auth/me/``, which reads its user from the cache. A ``redis.Redis``
holds no connection of its own (each command borrows one from the pool), so the
client made for a pool is kept and reused for as long as the pool is.
"""

from collections.abc import Callable
from typing import Any

import redis as redis_py

from django.core.cache.backends import redis


class RedisCacheClient(redis.RedisCacheClient):
    # Django's own attributes, which django-stubs leaves out.
    _client: type[redis_py.Redis]
    _get_connection_pool: Callable[[bool], redis_py.ConnectionPool]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, redis_py.Redis] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> redis_py.Redis:
        pool = self._get_connection_pool(write)
        # Keyed by the pool's identity: Django keeps every pool it makes, and
        # another pool (another server) gets its own client.
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients.setdefault(
                id(pool), self._client(connection_pool=pool)
            )
        return client


class RedisCache(redis.RedisCache):
    _cache: RedisCacheClient

    def __init__(self, server: str | list[str], params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient
