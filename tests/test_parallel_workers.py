"""Each pytest-xdist worker gets a Redis database of its own (tests/workers.py)."""

import pytest

from tests.workers import worker_redis_url


def test_each_worker_takes_the_database_after_redis_urls_own_plus_its_number():
    assert worker_redis_url("redis://127.0.0.1:6379/0", "gw0") == "redis://127.0.0.1:6379/1"
    assert worker_redis_url("redis://127.0.0.1:6379/0", "gw1") == "redis://127.0.0.1:6379/2"
    assert worker_redis_url("redis://:secret@redis:6379/4", "gw2") == "redis://:secret@redis:6379/7"
    assert worker_redis_url("redis://127.0.0.1:6379", "gw0") == "redis://127.0.0.1:6379/1"


def test_too_many_workers_for_redis_is_a_clear_error():
    with pytest.raises(RuntimeError, match="Redis database 16 does not exist"):
        worker_redis_url("redis://127.0.0.1:6379/10", "gw5")
