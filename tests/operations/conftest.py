import pytest

from tests.operations.redis_server import RedisServer


def reset_broker_pools(app):
    """Forget the broker connections, so the next task goes to the broker now configured.
    kombu keeps its pools in a process-wide registry: it is emptied (closing a pool and
    keeping it registered would hand the closed pool to the next test)."""
    from kombu import pools
    from kombu.asynchronous import set_event_loop

    # A worker started in this process by an earlier test leaves its event loop as kombu's
    # global one; publishing through a stopped loop queues messages that never leave.
    set_event_loop(None)
    pools.reset()
    app._pool = None
    if "amqp" in app.__dict__:
        app.amqp._producer_pool = None


def point_cache_at(settings, url: str) -> None:
    settings.CACHES = {
        "default": {
            "BACKEND": "pecshop.cache.ReusingRedisCache",
            "LOCATION": url,
            "OPTIONS": dict(settings.REDIS_CACHE_OPTIONS),
        }
    }
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"


@pytest.fixture
def broker_url():
    """Set the Celery broker for the test; the previous one comes back afterwards."""
    from django.conf import settings

    from pecshop.celery import app

    saved = (app.conf.broker_url, app.conf.broker_transport_options, app.conf.task_always_eager)

    def use(url: str) -> None:
        # The project's tasks are shared tasks: they resolve against the current app, which
        # a worker started by an earlier test may have changed.
        app.set_current()
        app.set_default()
        app.conf.broker_url = url
        app.conf.broker_transport_options = dict(settings.REDIS_BROKER_OPTIONS)
        app.conf.task_always_eager = False
        reset_broker_pools(app)

    yield use
    app.conf.broker_url, app.conf.broker_transport_options, app.conf.task_always_eager = saved
    reset_broker_pools(app)


@pytest.fixture
def own_redis(tmp_path, settings, broker_url):
    """The shop's cache, sessions and Celery broker on a redis-server of this test."""
    server = RedisServer(tmp_path)
    server.start()
    point_cache_at(settings, f"redis://127.0.0.1:{server.port}/1")
    broker_url(server.url)
    yield server
    server.stop()
