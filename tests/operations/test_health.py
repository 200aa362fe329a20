"""Liveness stays 200 whatever is down; readiness fails and names the dependency."""

import json
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from operations import health
from operations.models import LifecycleRun, RunStatus
from tests.operations.conftest import point_cache_at
from tests.operations.redis_server import free_port


def done_run(hours_ago: float) -> LifecycleRun:
    finished = timezone.now() - timedelta(hours=hours_ago)
    return LifecycleRun.objects.create(
        day=timezone.localdate(finished),
        started_at=finished - timedelta(minutes=2),
        finished_at=finished,
        status=RunStatus.DONE,
    )


def ready(client, *checks, **headers):
    query = "&".join(f"check={c}" for c in checks)
    return client.get(f"/readyz?{query}" if query else "/readyz", **headers)


@pytest.fixture
def worker(own_redis):
    """A real worker of the shop's Celery app on the test's own Redis."""
    from celery.contrib.testing.worker import start_worker

    from pecshop.celery import app

    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        yield


@pytest.mark.django_db(transaction=True)
def test_readiness_is_200_and_json_when_every_dependency_answers(worker, client):
    done_run(hours_ago=3)

    response = ready(client)

    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ok"
    assert body["failing"] == []
    assert set(body["checks"]) == {
        "database",
        "cache",
        "broker",
        "worker",
        "nightly",
        "provisioning",
        "emails",
        "sdi",
    }
    assert body["checks"]["nightly"]["age_hours"] == pytest.approx(3, abs=0.1)
    assert body["checks"]["emails"]["count"] == 0
    assert client.get("/healthz").status_code == 200


@pytest.mark.django_db
def test_the_cache_down_fails_readiness_naming_it_and_pages_still_answer(client, settings):
    point_cache_at(settings, f"redis://127.0.0.1:{free_port()}/0")

    response = ready(client, "database", "cache")

    assert response.status_code == 503
    assert response.json()["failing"] == ["cache"]
    assert response.json()["checks"]["database"]["ok"] is True
    assert client.get("/healthz").status_code == 200
    assert client.get("/").status_code == 200  # the catalogue: a cache miss, not an error


@pytest.mark.django_db
def test_the_broker_down_fails_readiness_naming_broker_and_worker(client, broker_url):
    broker_url(f"redis://127.0.0.1:{free_port()}/0")

    response = ready(client, "database", "broker", "worker")

    assert response.status_code == 503
    assert response.json()["failing"] == ["broker", "worker"]
    assert client.get("/healthz").status_code == 200


@pytest.mark.django_db
def test_no_worker_fails_readiness_naming_the_worker(client, own_redis, settings):
    settings.HEALTH_WORKER_TIMEOUT = 0.5

    response = ready(client, "broker", "worker")

    assert response.status_code == 503
    assert response.json()["failing"] == ["worker"]
    assert response.json()["checks"]["broker"]["ok"] is True


@pytest.mark.django_db(transaction=True)
def test_the_database_down_fails_readiness_naming_it_and_liveness_stays_200(client):
    if connection.vendor != "postgresql":
        pytest.skip("moves the PostgreSQL connection to a closed port")
    saved = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = str(free_port())
    try:
        live = client.get("/healthz")
        response = ready(client, "database", "nightly")
    finally:
        connection.close()
        connection.settings_dict["PORT"] = saved

    assert live.status_code == 200
    assert response.status_code == 503
    assert response.json()["failing"] == ["database", "nightly"]


@pytest.mark.django_db
def test_a_nightly_run_older_than_a_day_fails_readiness(client):
    done_run(hours_ago=30)
    LifecycleRun.objects.create(day=timezone.localdate(), started_at=timezone.now())  # running

    response = ready(client, "nightly")

    assert response.status_code == 503
    assert response.json()["failing"] == ["nightly"]
    done_run(hours_ago=1)
    assert ready(client, "nightly").status_code == 200


@pytest.mark.django_db
def test_never_run_nightly_fails_readiness(client):
    assert ready(client, "nightly").json()["failing"] == ["nightly"]


@pytest.mark.django_db
def test_a_backlog_of_old_platform_calls_or_emails_fails_readiness(client, make_mailbox):
    from mailboxes.models import ProvisioningCall, ProvisioningStatus
    from outbox.models import OutboundEmail

    mailbox = make_mailbox()
    ProvisioningCall.objects.update(status=ProvisioningStatus.DONE)
    assert ready(client, "provisioning", "emails").status_code == 200

    call = ProvisioningCall.objects.create(mailbox=mailbox, action="set_quotas")
    ProvisioningCall.objects.filter(pk=call.pk).update(
        created_at=timezone.now() - timedelta(hours=2)
    )
    email = OutboundEmail.objects.create(subject="x", from_email="a@b.it", to=["c@d.it"])
    assert ready(client, "provisioning", "emails").json()["failing"] == ["provisioning"]

    OutboundEmail.objects.filter(pk=email.pk).update(created_at=timezone.now() - timedelta(hours=1))
    body = ready(client, "provisioning", "emails").json()
    assert body["failing"] == ["provisioning", "emails"]


@pytest.mark.django_db
def test_a_new_backlog_is_a_few_lines(client, settings):
    from outbox.models import OutboundEmail

    health.register_backlog(
        "esempio", "righe di esempio", lambda: OutboundEmail.objects.filter(key="esempio")
    )
    try:
        settings.HEALTH_BACKLOG_MAX_COUNT = 0
        assert ready(client, "esempio").status_code == 200
        OutboundEmail.objects.create(key="esempio", subject="x", from_email="a@b.it", to=["c@d.it"])
        assert ready(client, "esempio").json()["failing"] == ["esempio"]
    finally:
        del health.CHECKS["esempio"]


@pytest.mark.django_db
def test_staff_get_a_readable_page_with_the_details(client, admin_user, settings):
    point_cache_at(settings, f"redis://127.0.0.1:{free_port()}/0")
    client.force_login(admin_user)  # the session falls back to the database

    page = client.get("/readyz?format=html&check=cache&check=database")

    assert page.status_code == 503
    html = page.content.decode()
    assert "Stato del servizio" in html
    assert "Non pronto: cache." in html
    assert "Connection refused" in html or "connecting" in html  # details for staff


@pytest.mark.django_db
def test_strangers_see_which_check_fails_but_not_its_details(client, settings):
    point_cache_at(settings, f"redis://127.0.0.1:{free_port()}/0")

    body = ready(client, "cache").json()

    assert body["checks"]["cache"] == {
        "ok": False,
        "label": "cache",
        "seconds": body["checks"]["cache"]["seconds"],
        "message": "non disponibile",
    }
    assert "127.0.0.1" not in json.dumps(body)


def test_an_unknown_check_is_a_400(client):
    response = client.get("/readyz?check=nope")
    assert response.status_code == 400
    assert "nope" in response.json()["error"]


@pytest.mark.django_db
def test_the_health_command_exits_non_zero_naming_the_failure(capsys):
    call_command("health", "--check", "database")
    assert "database: OK" in capsys.readouterr().out
    with pytest.raises(CommandError, match="nightly"):
        call_command("health", "--check", "database", "--check", "nightly")


def test_the_beat_check_reads_the_age_of_the_schedule_file(settings, tmp_path):
    import os
    import time

    settings.CELERY_BEAT_SCHEDULE_FILENAME = str(tmp_path / "celerybeat-schedule")
    assert [r.ok for r in health.run_checks(["beat"])] == [False]  # no file yet
    (tmp_path / "celerybeat-schedule.db").write_bytes(b"x")
    assert [r.ok for r in health.run_checks(["beat"])] == [True]
    old = time.time() - 600
    os.utime(tmp_path / "celerybeat-schedule.db", (old, old))
    assert [r.ok for r in health.run_checks(["beat"])] == [False]


@pytest.mark.django_db
def test_documents_waiting_for_the_sdi_are_a_backlog_readyz_names_when_old(
    client, alice, order_for, pay, settings
):
    from billing.sdi.models import SdiState, SdiTransmission

    settings.HEALTH_WORKER_TIMEOUT = 0.05  # no worker here: /readyz names it at once
    from tests.billing.test_orders import new_mailbox

    assert health.CHECKS["sdi"].label == "documenti da trasmettere allo SdI"
    assert ready(client, "sdi").status_code == 200
    pay(order_for(new_mailbox(alice)))  # the invoice's transmission, queued in its transaction
    transmission = SdiTransmission.objects.get(state=SdiState.QUEUED)
    assert ready(client, "sdi").status_code == 200  # just written: the task sends it

    SdiTransmission.objects.filter(pk=transmission.pk).update(
        created_at=timezone.now() - timedelta(hours=1)
    )
    body = ready(client, "sdi").json()
    assert body["failing"] == ["sdi"]
    assert "sdi" in client.get("/readyz").json()["failing"]  # a default check too

    SdiTransmission.objects.filter(pk=transmission.pk).update(
        state=SdiState.SENT, file_name="IT01234567890_00001.xml"
    )
    assert ready(client, "sdi").status_code == 200
