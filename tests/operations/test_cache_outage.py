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
