import logging
import os
from functools import partial

from celery import Celery

from pecshop.observability import connect_celery_signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pecshop.settings")

app = Celery("pecshop")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Every task's log lines carry its id and name (pecshop.observability).
connect_celery_signals()


logger = logging.getLogger("pecshop.celery")


def enqueue(task, *args, **kwargs) -> bool:
    """Hand a task to the broker; if the broker is down, log it and go on.

    Only for work that has a row of its own in the database (a platform call, an e-mail of
    the outbox) which a periodic sweep finds again: the task is a shortcut, never the only
    record. So a page that committed its change never fails because Redis is down."""
    from kombu.exceptions import OperationalError

    if task.app.conf.task_always_eager:
        task.apply_async(args, kwargs)
        return True
    try:
        task.apply_async(args, kwargs, retry=False)
    except (OperationalError, OSError) as error:
        logger.warning(
            "broker unavailable, %s left for the sweep: %s",
            task.name,
            error,
            extra={"task_name": task.name},
        )
        return False
    return True


def enqueue_on_commit(task, *args, **kwargs) -> None:
    from django.db import transaction

    transaction.on_commit(partial(enqueue, task, *args, **kwargs))
