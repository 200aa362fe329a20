"""Error reporting: with a DSN, an exception in a view and in a task reach Sentry with the
request or task context; with none, nothing is set up and nothing is sent."""

import os
import subprocess
import sys
from pathlib import Path
from wsgiref.util import setup_testing_defaults

import pytest
import sentry_sdk
from django.http import HttpResponse
from django.test import override_settings
from django.urls import include, path
from sentry_sdk.transport import Transport

from pecshop.celery import app
from pecshop.observability import sentry_init

ROOT = Path(__file__).resolve().parent.parent.parent
DSN = "https://public@sentry.example.invalid/42"


class FakeTransport(Transport):
    """Keeps the envelopes instead of sending them."""

    envelopes: list = []

    def capture_envelope(self, envelope):
        FakeTransport.envelopes.append(envelope)

    def flush(self, timeout, callback=None):
        return None

    def kill(self):
        return None


def events() -> list[dict]:
    out = []
    for envelope in FakeTransport.envelopes:
        for item in envelope.items:
            if item.type == "event":
                out.append(item.payload.json)
    return out


def broken_view(request):
    raise RuntimeError("la pagina si è rotta")


urlpatterns = [
    path("rotta/", broken_view),
    path("ok/", lambda request: HttpResponse("ok")),
    path("", include("pecshop.urls")),
]


@app.task(name="tests.sentry.broken_task")
def broken_task(order_id):
    raise ValueError(f"il compito per l'ordine {order_id} si è rotto")


@pytest.fixture
def reporting():
    FakeTransport.envelopes = []
    yield
    sentry_sdk.get_client().close()
    sentry_sdk.get_global_scope().set_client(None)
    sentry_sdk.get_isolation_scope().set_client(None)
    sentry_sdk.get_current_scope().set_client(None)
    FakeTransport.envelopes = []


def wsgi_get(path: str, query: str, **headers) -> str:
    """A request through Django's WSGI handler, as gunicorn makes it."""
    from django.core.wsgi import get_wsgi_application

    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": query, **headers}
    setup_testing_defaults(environ)
    environ["HTTP_HOST"] = "testserver"
    status = []
    body = get_wsgi_application()(environ, lambda s, h, e=None: status.append(s))
    b"".join(body)
    return status[0]


def raise_in_view_and_task():
    with override_settings(ROOT_URLCONF=__name__, DEBUG=False):
        status = wsgi_get("/rotta/", "q=1", HTTP_X_REQUEST_ID="req-abcdef123456")
    assert status.startswith("500")
    with pytest.raises(ValueError):
        broken_task.apply(args=[17], throw=True)
    sentry_sdk.flush()


@pytest.mark.django_db
def test_a_view_and_a_task_exception_reach_sentry_with_their_context(reporting):
    assert sentry_init(dsn=DSN, environment="test", transport=FakeTransport)

    raise_in_view_and_task()

    captured = events()
    view = next(e for e in captured if "pagina si è rotta" in str(e["exception"]))
    assert view["request"]["url"] == "http://testserver/rotta/"
    assert view["request"]["method"] == "GET"
    assert view["request"]["query_string"] == "q=1"
    assert view["tags"]["request_id"] == "req-abcdef123456"
    assert view["environment"] == "test"

    task = next(e for e in captured if "compito per l'ordine 17" in str(e["exception"]))
    job = task["extra"]["celery-job"]
    assert job["task_name"] == "tests.sentry.broken_task"
    assert job["args"] == "[Filtered]"  # arguments may hold personal data: not sent
    assert task["tags"]["celery_task_id"]


@pytest.mark.django_db
def test_without_a_dsn_nothing_is_captured(reporting, monkeypatch):
    sent = []
    monkeypatch.setattr(
        sentry_sdk.transport.HttpTransport, "capture_envelope", lambda self, e: sent.append(e)
    )

    assert sentry_init(dsn="") is False
    raise_in_view_and_task()

    assert not sentry_sdk.get_client().is_active()
    assert sent == [] and FakeTransport.envelopes == []


@pytest.mark.parametrize(("dsn", "active"), [("", "False"), (DSN, "True")])
def test_the_settings_switch_sentry_on_only_with_sentry_dsn(dsn, active):
    env = {k: v for k, v in os.environ.items() if k != "SENTRY_DSN"}
    if dsn:
        env["SENTRY_DSN"] = dsn
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); import sentry_sdk; "
            "print(sentry_sdk.get_client().is_active())",
        ],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "pecshop.settings"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == active


def check_ins() -> list[dict]:
    return [
        item.payload.json
        for envelope in FakeTransport.envelopes
        for item in envelope.items
        if item.type == "check_in"
    ]


@pytest.mark.django_db
def test_the_nightly_run_checks_in_to_its_cron_monitor_ok_or_error(reporting, monkeypatch):
    from billing import lifecycle
    from billing.tasks import run_lifecycle_day

    assert sentry_init(dsn=DSN, environment="test", transport=FakeTransport)

    run_lifecycle_day.apply(args=["2027-05-25"], throw=True)
    sentry_sdk.flush()
    ok = check_ins()
    assert [c["status"] for c in ok] == ["in_progress", "ok"]
    assert ok[0]["monitor_slug"] == "lifecycle-day"
    assert ok[0]["monitor_config"]["schedule"] == {"type": "crontab", "value": "0 4 * * *"}
    assert ok[0]["monitor_config"]["timezone"] == "Europe/Rome"

    def broken(**kwargs):
        raise RuntimeError("database gone")

    monkeypatch.setattr(lifecycle, "lifecycle_steps", broken)
    FakeTransport.envelopes = []
    with pytest.raises(RuntimeError):
        run_lifecycle_day.apply(args=["2027-05-26"], throw=True)
    sentry_sdk.flush()
    assert [c["status"] for c in check_ins()] == ["in_progress", "error"]
