"""Logs, request ids and error reporting: how the running shop speaks to its operators.

- Every request gets an id (the `X-Request-ID` header from the proxy when it is a sane
  token, else a new one), echoed in the response and put on every log line written while
  the request runs. A Celery task's log lines carry the task's id and name; the nightly
  run's lines carry its run id (`log_context(run_id=...)`).
- `LOG_FORMAT=json` writes one JSON object per line (time, level, logger, message, the ids
  above and any `extra=` fields such as `counts`); `plain` is for people at a terminal.
- `sentry_init` switches on sentry-sdk (Django, Celery with beat monitors, logging) when a
  DSN is given; without one it does nothing at all.
"""

import contextvars
import json
import logging
import re
import uuid
from contextlib import contextmanager, suppress
from datetime import UTC, datetime

_context: contextvars.ContextVar[dict] = contextvars.ContextVar("log_context", default={})  # noqa: B039

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,128}$")
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


def current_context() -> dict:
    return _context.get()


@contextmanager
def log_context(**values):
    """Add `values` to every log line written inside the block (nested blocks add up)."""
    token = _context.set({**_context.get(), **values})
    try:
        yield
    finally:
        _context.reset(token)


class ContextFilter(logging.Filter):
    """Puts the current request/task/run ids on the record, for any formatter."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in _context.get().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                data[key] = value
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, default=str, ensure_ascii=False)


class PlainFormatter(logging.Formatter):
    """The plain line, with the request or run id when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        ids = [
            f"{key}={getattr(record, key)}"
            for key in ("request_id", "task_id", "run_id")
            if getattr(record, key, None)
        ]
        return f"{line} [{' '.join(ids)}]" if ids else line


class RequestIdMiddleware:
    header = "X-Request-ID"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.headers.get(self.header, "")
        request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        request.request_id = request_id
        with log_context(request_id=request_id):
            _sentry_tag("request_id", request_id)
            response = self.get_response(request)
        response[self.header] = request_id
        return response


def _sentry_tag(key: str, value) -> None:
    try:
        import sentry_sdk
    except ImportError:  # pragma: no cover - sentry-sdk is a requirement
        return
    if sentry_sdk.get_client().is_active():
        sentry_sdk.set_tag(key, value)


# --- Celery: the task's id and name on its log lines ---------------------------------------

_task_tokens: dict[str, contextvars.Token] = {}


def _task_started(task_id=None, task=None, **kwargs):
    _task_tokens[task_id] = _context.set(
        {**_context.get(), "task_id": task_id, "task_name": getattr(task, "name", "")}
    )


def _task_finished(task_id=None, **kwargs):
    token = _task_tokens.pop(task_id, None)
    if token is not None:
        # ValueError: set in another context (an eager task inside a request).
        with suppress(ValueError):
            _context.reset(token)


def connect_celery_signals() -> None:
    from celery.signals import task_postrun, task_prerun

    task_prerun.connect(_task_started, weak=False, dispatch_uid="pecshop-log-task-start")
    task_postrun.connect(_task_finished, weak=False, dispatch_uid="pecshop-log-task-end")


# --- Sentry ----------------------------------------------------------------------------------


def sentry_init(
    *,
    dsn: str,
    environment: str = "production",
    release: str | None = None,
    traces_sample_rate: float = 0.0,
    transport=None,
) -> bool:
    """Switch on error reporting; with an empty DSN nothing is set up and nothing is sent.

    Django (errors with the request), Celery (failed tasks with their name, id and
    arguments; beat's schedule becomes cron monitors, so a nightly run that fails or does
    not start on time raises an alert) and logging (ERROR lines become events)."""
    if not dsn:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration
    from sentry_sdk.integrations.logging import LoggingIntegration

    options = {}
    if transport is not None:
        options["transport"] = transport
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release or None,
        traces_sample_rate=traces_sample_rate,
        integrations=[
            DjangoIntegration(),
            # Beat's entries become cron monitors; the nightly run reports its own check-ins
            # (`nightly_monitor`), with its schedule, margin and longest expected runtime.
            CeleryIntegration(
                monitor_beat_tasks=True,
                propagate_traces=True,
                exclude_beat_tasks=[NIGHTLY_MONITOR],
            ),
            LoggingIntegration(level=logging.INFO, event_level=logging.ERROR),
        ],
        **options,
    )
    return True


NIGHTLY_MONITOR = "lifecycle-day"


def nightly_monitor():
    """Check-ins of the nightly run to the Sentry cron monitor "lifecycle-day": in progress,
    then ok or error. Sentry alerts when a check-in is an error, or when none arrives within
    the margin after the scheduled time (a missed night). Without a DSN it does nothing."""
    import sentry_sdk
    from django.conf import settings

    schedule = settings.CELERY_BEAT_SCHEDULE[NIGHTLY_MONITOR]["schedule"]
    crontab = f"{schedule._orig_minute} {schedule._orig_hour} * * *"
    return sentry_sdk.monitor(
        monitor_slug=NIGHTLY_MONITOR,
        monitor_config={
            "schedule": {"type": "crontab", "value": crontab},
            "timezone": settings.CELERY_TIMEZONE,
            "checkin_margin": 30,  # minutes late before a missed night is an alert
            "max_runtime": 120,  # minutes
            "failure_issue_threshold": 1,
            "recovery_threshold": 1,
        },
    )
