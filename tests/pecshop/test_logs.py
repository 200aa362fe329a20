"""Structured logs: JSON lines with the request id; the nightly run's id and counts, one
summary line per step."""

import json
import logging
from datetime import date

import pytest

from billing.lifecycle import lifecycle_steps, run_lifecycle
from operations.models import LifecycleRun, RunStatus
from pecshop.observability import ContextFilter, JsonFormatter, PlainFormatter


@pytest.fixture
def json_lines():
    """What the console handler would print with LOG_FORMAT=json."""
    lines = []

    class Keep(logging.Handler):
        def emit(self, record):
            lines.append(json.loads(self.format(record)))

    handler = Keep()
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    yield lines
    root.removeHandler(handler)


@pytest.mark.django_db
def test_the_lifecycle_day_writes_one_summary_line_per_step_with_its_run_id(json_lines):
    run_lifecycle(today=date(2027, 5, 25))

    run = LifecycleRun.objects.get()
    assert run.status == RunStatus.DONE and run.finished_at is not None
    steps = [name for name, _ in lifecycle_steps(today=date(2027, 5, 25))]
    summaries = [line for line in json_lines if "step" in line]
    assert [line["step"] for line in summaries] == steps
    assert {line["run_id"] for line in summaries} == {str(run.run_id)}
    assert all(isinstance(line["counts"], dict) for line in summaries)
    assert all(line["logger"] == "billing.lifecycle" for line in summaries)
    assert [s["step"] for s in run.steps] == steps


@pytest.mark.django_db
def test_a_failed_lifecycle_run_is_recorded_as_failed(monkeypatch):
    from billing import lifecycle

    def boom():
        raise RuntimeError("disk full")

    monkeypatch.setattr(lifecycle, "lifecycle_steps", lambda **kw: [("expire", boom)])
    with pytest.raises(RuntimeError):
        run_lifecycle(today=date(2027, 5, 25))
    run = LifecycleRun.objects.get()
    assert (run.status, run.error) == (RunStatus.FAILED, "RuntimeError: disk full")


@pytest.mark.django_db
def test_a_request_has_an_id_in_its_log_lines_and_its_response(client, json_lines):
    response = client.get("/readyz?check=database", HTTP_X_REQUEST_ID="proxy-id-12345678")
    assert response["X-Request-ID"] == "proxy-id-12345678"
    logging.getLogger("test").info("outside any request")

    fresh = client.get("/healthz", HTTP_X_REQUEST_ID="bad id with spaces")
    assert len(fresh["X-Request-ID"]) == 32  # a made-up header is replaced by a new id
    assert json_lines[-1]["message"] == "outside any request"
    assert "request_id" not in json_lines[-1]


@pytest.mark.django_db
def test_log_lines_written_during_a_request_carry_its_id(client, json_lines, settings):
    from tests.operations.conftest import point_cache_at
    from tests.operations.redis_server import free_port

    point_cache_at(settings, f"redis://127.0.0.1:{free_port()}/0")
    # the quote API counts its requests per client address in the cache
    client.get("/api/quote?tier=pro&years=1", HTTP_X_REQUEST_ID="proxy-id-87654321")

    cache_lines = [line for line in json_lines if line["logger"] == "pecshop.cache"]
    assert cache_lines, "the cache outage is logged"
    assert {line["request_id"] for line in cache_lines} == {"proxy-id-87654321"}


def test_the_plain_format_names_the_ids_too():
    record = logging.LogRecord("x", logging.INFO, "", 0, "hello", (), None)
    record.run_id = "r-1"
    assert PlainFormatter("%(message)s").format(record) == "hello [run_id=r-1]"


def test_log_format_json_is_what_the_console_handler_uses(settings):
    import subprocess
    import sys

    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); import logging; "
            "logging.getLogger('pecshop').warning('hello', extra={'counts': {'sent': 2}})",
        ],
        env={"LOG_FORMAT": "json", "DJANGO_SETTINGS_MODULE": "pecshop.settings", "PATH": ""},
        cwd=str(settings.BASE_DIR),
        capture_output=True,
        text=True,
        timeout=120,
    )
    line = json.loads(result.stderr.strip().splitlines()[-1])
    assert (line["message"], line["level"], line["counts"]) == ("hello", "WARNING", {"sent": 2})
