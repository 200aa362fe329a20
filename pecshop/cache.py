"""Django's Redis cache, keeping one client per connection pool, and a counter (`count`).

The stock client builds a new `redis.Redis` object (and its table of response callbacks)
for every cache operation; on pages that read the session from Redis that is a large part
of the request. The client is thread-safe and the pool is the same, so it is kept.

The cache is never needed for a page to work: when Redis does not answer, an operation is
logged and treated as a miss (a read finds nothing, a write is dropped), and for a few
seconds Redis is not asked again, so pages stay fast during an outage. Keys this process
failed to delete or bump meanwhile are deleted when Redis answers again, so no copy from
before the outage outlives a change made during it.
"""

import logging
import threading
import time
from functools import partial, wraps

from django.core.cache import DEFAULT_CACHE_ALIAS, cache, caches
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import RedisError


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


logger = logging.getLogger("pecshop.cache")

# After a failure Redis is left alone for this long (every operation is a miss).
PAUSE_AFTER_ERROR = 2.0
# Keys whose deletion is replayed after an outage, at most (beyond: the oldest are dropped;
# cached copies expire on their own timeout anyway).
MAX_LOST_KEYS = 10_000
# A read returns the default; these are what the other operations return on a miss.
_MISS = {
    "get_many": dict,
    "add": lambda: False,
    "touch": lambda: False,
    "delete": lambda: False,
    "has_key": lambda: False,
    "set": lambda: None,
    "set_many": lambda: [],
    "delete_many": lambda: None,
    "clear": lambda: False,
}
# Operations that change what readers would find: their keys are deleted on recovery.
_INVALIDATING = {"set", "set_many", "delete", "delete_many", "incr", "add", "touch"}


def _keys_of(name: str, args: tuple) -> list:
    if not args:
        return []
    if name in ("set_many",):
        return list(args[0])
    if name in ("delete_many",):
        return list(args[0])
    return [args[0]]


class ResilientRedisCacheClient(ReusingRedisCacheClient):
    """Every operation guarded: a Redis error is a logged miss, never an exception."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._down_until = 0.0
        self._failures = 0
        self._lost: dict = {}
        self._lock = threading.Lock()

    def _guarded(self, name: str, operation, args, kwargs, default):
        if time.monotonic() < self._down_until:
            self._remember(name, args)
            return default()
        try:
            result = operation(*args, **kwargs)
        except RedisError as error:
            with self._lock:
                self._failures += 1
                first = self._failures == 1
                self._down_until = time.monotonic() + PAUSE_AFTER_ERROR
            self._remember(name, args)
            log = logger.error if first else logger.warning
            log("cache unavailable, %s treated as a miss: %s", name, error)
            return default()
        if self._failures:
            self._recovered()
        return result

    def _remember(self, name: str, args) -> None:
        if name not in _INVALIDATING:
            return
        with self._lock:
            for key in _keys_of(name, args):
                self._lost[key] = None
            while len(self._lost) > MAX_LOST_KEYS:
                self._lost.pop(next(iter(self._lost)))

    def _recovered(self) -> None:
        with self._lock:
            failures, self._failures = self._failures, 0
            lost, self._lost = list(self._lost), {}
        logger.warning("cache available again after %s failed operations", failures)
        if lost:
            try:
                super().delete_many(lost)
            except RedisError:
                self._remember("delete_many", (lost,))


def _guard(name):
    original = getattr(ReusingRedisCacheClient, name)
    default = _MISS.get(name)

    @wraps(original)
    def method(self, *args, **kwargs):
        if name == "get":
            # get(key, default)
            fallback = args[1] if len(args) > 1 else kwargs.get("default")
            miss = lambda: fallback  # noqa: E731
        elif name == "incr":
            # A counter nobody can read is missing: the caller's own ValueError path.
            def miss():
                raise ValueError(f"Key {args[0]!r} not found.")
        else:
            miss = default
        return self._guarded(name, partial(original, self), args, kwargs, miss)

    return method


for _name in ("get", *_MISS, "incr"):
    setattr(ResilientRedisCacheClient, _name, _guard(_name))


class ReusingRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ResilientRedisCacheClient

    def count(self, key: str, timeout: int) -> int | None:
        """Add one to the counter `key`, created at 1 and expiring `timeout` seconds after
        its creation: INCR and EXPIRE NX sent together, one round trip (on a connection of
        the pool directly: a pipeline object costs a third more than the commands). None when
        Redis does not answer."""
        key = self.make_and_validate_key(key)
        client = self._cache
        pool = client._get_connection_pool(True)

        def operation():
            connection = pool.get_connection()
            try:
                connection.send_packed_command(
                    connection.pack_commands([("INCR", key), ("EXPIRE", key, timeout, "NX")])
                )
                counted = connection.read_response()
                connection.read_response()
            except RedisError:
                connection.disconnect()  # a reply may be left unread
                raise
            finally:
                pool.release(connection)
            return counted

        return client._guarded("count", operation, (), {}, lambda: None)


def count(key: str, timeout: int) -> int:
    """Add one to the counter `key` in the shared cache (created at 1, gone `timeout`
    seconds after its creation) and return it. With Redis, one round trip; with another
    cache, add and incr. A cache that does not answer counts 1: a limit fails open."""
    if isinstance(caches[DEFAULT_CACHE_ALIAS], ReusingRedisCache):
        counted = cache.count(key, timeout)
        return 1 if counted is None else counted
    if cache.add(key, 1, timeout=timeout):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=timeout)
        return 1
