"""The expiry job through a real Celery worker on Redis, not eager (CI sets REDIS_URL)."""

import os
import time
import uuid
from datetime import date

import pytest

from mailboxes.models import AddOnStatus, EventKind, Mailbox, MailboxEvent, MailboxStatus

pytestmark = [
    pytest.mark.celery_worker,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture(autouse=True)
def _catalogue(transactional_db):
    """A transactional test starts from a flushed database: seed the catalogue first,
    before the fixtures that read it."""
    from tests.conftest import ensure_catalogue

    ensure_catalogue()


@pytest.fixture
def redis_worker():
    """A worker thread of the project's Celery app, consuming a queue of its own on the
    Redis broker of REDIS_URL; tasks are sent through the broker, not run in place."""
    if not os.environ.get("REDIS_URL"):
        pytest.skip("needs a Redis broker: set REDIS_URL (CI does)")
    from celery.contrib.testing.worker import start_worker

    from pecshop.celery import app

    assert app.conf.broker_url.startswith("redis://")
    # The suite's autouse fixture makes tasks eager; this test wants the real path.
    app.conf.task_always_eager = False
    queue = f"lifecycle-test-{uuid.uuid4().hex[:8]}"
    with start_worker(
        app, pool="solo", perform_ping_check=False, queues=[queue], shutdown_timeout=30
    ):
        yield queue
    with app.connection_for_write() as connection:
        connection.default_channel.queue_delete(queue)


def wait_for(condition, seconds=30.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_the_expiry_job_runs_through_a_real_worker_on_redis(make_mailbox, redis_worker):
    from mailboxes.tasks import expire_mailboxes_day

    mailbox = make_mailbox(extras={"CONSERVAZIONE": 5, "SPAZIO": 1})  # committed: no test txn

    result = expire_mailboxes_day.apply_async(args=["2027-05-25"], queue=redis_worker)

    assert result.__class__.__name__ == "AsyncResult"  # sent to the broker, not run here
    assert wait_for(lambda: Mailbox.objects.get(pk=mailbox.pk).status == MailboxStatus.EXPIRED), (
        "the worker did not expire the mailbox"
    )
    mailbox.refresh_from_db()
    assert mailbox.expired_on == date(2027, 5, 25)
    assert set(mailbox.addons.values_list("status", flat=True)) == {AddOnStatus.EXPIRED}
    assert (
        MailboxEvent.objects.filter(
            mailbox=mailbox, kind=EventKind.STATUS, to_status="expired"
        ).count()
        == 1
    )
