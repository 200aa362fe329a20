"""Parallel test runs (pytest-xdist): each worker gets its own Redis database.

Loaded with `-p tests.workers` (pyproject.toml), before the Django settings are read, so
the settings, the Celery app and any subprocess a test starts all see the worker's own
REDIS_URL. PostgreSQL needs nothing here: pytest-django gives each worker its own test
database (test_<name>_gw0, ...). Worker N uses the Redis database after REDIS_URL's own
plus N + 1: the tests flush their database, so two workers must never share one.
"""

import os
from urllib.parse import urlsplit, urlunsplit

REDIS_DATABASES = 16  # redis-server's default


def worker_redis_url(url: str, worker: str) -> str:
    """REDIS_URL for xdist worker `worker` ("gw0", "gw1", ...)."""
    parts = urlsplit(url)
    base = int(parts.path.strip("/") or 0)
    number = base + 1 + int(worker.removeprefix("gw"))
    if number >= REDIS_DATABASES:
        raise RuntimeError(
            f"{worker}: Redis database {number} does not exist; run fewer workers "
            f"or point REDIS_URL at a lower database"
        )
    return urlunsplit(parts._replace(path=f"/{number}"))


_worker = os.environ.get("PYTEST_XDIST_WORKER")
if _worker and os.environ.get("REDIS_URL"):
    os.environ["REDIS_URL"] = worker_redis_url(os.environ["REDIS_URL"], _worker)
