"""Django's Redis cache, keeping one client per connection pool, and `forget`.

The stock client builds a new `redis.Redis` object (and its table of response callbacks)
for every cache operation; on pages that read the session from Redis that is a large part
of the request. The client is thread-safe and the pool is the same, so it is kept.
"""

from functools import partial

from django.core.cache import cache
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.db import transaction


class ReusingRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = self._client(connection_pool=self._get_connection_pool(write))
            self._clients[index] = client
        return client


class ReusingRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient


def forget(*keys: str) -> None:
    """Delete cached keys now and again when the current transaction commits: a reader that
    cached the old rows in between (they were not committed yet) loses its copy too."""
    cache.delete_many(keys)
    transaction.on_commit(partial(cache.delete_many, keys))
