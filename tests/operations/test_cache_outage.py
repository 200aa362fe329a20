"""The shop's cache when Redis does not answer: a logged miss, never an error, and no stale
copy left behind once Redis is back."""

import logging

import pytest

from tests.operations.conftest import point_cache_at
from tests.operations.redis_server import RedisServer


@pytest.fixture
def persistent_redis(tmp_path, settings, monkeypatch):
    """Keeps its data across a restart, like production Redis with its append-only file."""
    from pecshop import cache as shop_cache

    monkeypatch.setattr(shop_cache, "PAUSE_AFTER_ERROR", 0)
    server = RedisServer(tmp_path, persistent=True)
    server.start()
    point_cache_at(settings, f"redis://127.0.0.1:{server.port}/1")
    yield server
    server.stop()


def test_every_operation_is_a_miss_while_redis_is_down(persistent_redis, caplog):
    from django.core.cache import cache

    cache.set("kept", "before")
    persistent_redis.stop()

    with caplog.at_level(logging.WARNING, logger="pecshop.cache"):
        assert cache.get("kept") is None
        assert cache.get("kept", "default") == "default"
        assert cache.get_many(["kept", "other"]) == {}
        assert cache.add("new", 1) is False
        assert cache.set("new", 1) is None
        assert cache.delete("kept") is False
        cache.delete_many(["a", "b"])
        assert cache.has_key("kept") is False
        with pytest.raises(ValueError):
            cache.incr("counter")
    assert "cache unavailable" in caplog.text


def test_a_change_made_during_the_outage_is_not_undone_by_a_stale_copy(persistent_redis):
    from django.core.cache import cache

    cache.set("account:1:version", "old-token")
    cache.set("untouched", "still here")
    persistent_redis.stop()
    cache.delete("account:1:version")  # a change that should drop the token: Redis is down
    persistent_redis.start()

    assert cache.get("untouched") == "still here"  # Redis answers again: the lost delete ...
    assert cache.get("account:1:version") is None  # ... is replayed, the old token is gone


def test_a_counter_counts_in_one_round_trip_expires_and_fails_open(persistent_redis):
    from django.core.cache import cache

    from pecshop.cache import count

    commands = []
    client = cache._cache.get_client(write=True)
    original = client.connection_pool.get_connection

    def counting(*args, **kwargs):
        commands.append(args)
        return original(*args, **kwargs)

    client.connection_pool.get_connection = counting
    try:
        assert [count("hits", 60) for _ in range(3)] == [1, 2, 3]
    finally:
        client.connection_pool.get_connection = original
    assert len(commands) == 3  # one connection use (one pipeline) per count
    assert 0 < client.ttl(cache.make_and_validate_key("hits")) <= 60  # set once, not moved
    assert cache.get("hits") == 3  # an ordinary cache value

    persistent_redis.stop()
    assert count("hits", 60) == 1  # Redis down: the limit lets the request through


def test_a_counter_without_redis_counts_through_the_cache(settings):
    from django.core.cache import cache

    from pecshop.cache import count

    if "Redis" in settings.CACHES["default"]["BACKEND"]:
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.delete("hits")
    assert [count("hits", 60) for _ in range(3)] == [1, 2, 3]
