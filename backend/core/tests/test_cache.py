import threading
from typing import cast

from django.core.cache import cache

from core.cache import RedisCache


def client_of_this_thread():
    return cast(RedisCache, cache)._cache.get_client()


def test_every_operation_reuses_the_pools_one_redis_client(redis_cache):
    backend = cast(RedisCache, cache)._cache

    first = backend.get_client()
    assert backend.get_client(write=True) is first
    cache.set("answer", 42)
    assert cache.get("answer") == 42
    assert cache.incr("answer") == 43
    cache.delete("answer")
    assert cache.get("answer") is None
    assert backend.get_client() is first


def test_a_thread_gets_a_client_of_its_own_cache(redis_cache):
    # Django gives each thread its own cache object, so its own pool and client.
    cache.set("shared", "seen")
    clients = []

    def read() -> None:
        clients.append((cache.get("shared"), client_of_this_thread()))

    thread = threading.Thread(target=read)
    thread.start()
    thread.join()

    [(value, client)] = clients
    assert value == "seen"
    assert client is not client_of_this_thread()
