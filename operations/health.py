"""Health checks: one registry, read by /readyz, the staff page and `manage.py health`.

A check is a function returning a short message (and optionally figures) when all is well
and raising `Unhealthy` (or any exception) when not. `register` adds one; `register_backlog`
adds a check of an outbox-like table in a few lines:

    from operations import health
    health.register_backlog(
        "sdi", "documenti da trasmettere allo SdI",
        lambda: SdiTransmission.objects.filter(state=SdiState.QUEUED),
    )

(called from the app's `AppConfig.ready`). A backlog fails when its oldest item has waited
longer than HEALTH_BACKLOG_MAX_AGE_MINUTES or it holds more than HEALTH_BACKLOG_MAX_COUNT.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

logger = logging.getLogger(__name__)


class Unhealthy(Exception):
    """What is wrong, in words for the operator."""


@dataclass
class Check:
    name: str
    label: str
    run: Callable[[], "str | tuple[str, dict]"]
    default: bool = True  # part of /readyz when no check is named


@dataclass
class Result:
    name: str
    label: str
    ok: bool
    message: str
    seconds: float
    data: dict = field(default_factory=dict)

    def as_dict(self, *, detail: bool) -> dict:
        out = {"ok": self.ok, "label": self.label, "seconds": round(self.seconds, 3)}
        if self.ok or detail:
            out["message"] = self.message
            out.update(self.data)
        else:
            out["message"] = "non disponibile"
        return out


CHECKS: dict[str, Check] = {}


def register(name: str, label: str, *, default: bool = True):
    def decorate(function):
        CHECKS[name] = Check(name, label, function, default)
        return function

    return decorate


def run_checks(names: list[str] | None = None) -> list[Result]:
    """Run the named checks (default: those marked default), each on its own: one failing
    or raising never hides another."""
    chosen = [CHECKS[n] for n in names] if names else [c for c in CHECKS.values() if c.default]
    results = []
    for check in chosen:
        started = time.perf_counter()
        data: dict = {}
        try:
            outcome = check.run()
            message, data = outcome if isinstance(outcome, tuple) else (outcome, {})
            ok = True
        except Exception as error:  # noqa: BLE001 - a failing dependency is the answer
            ok = False
            message = (
                str(error) if isinstance(error, Unhealthy) else f"{type(error).__name__}: {error}"
            )
            logger.warning("health check %s failed: %s", check.name, message)
        results.append(
            Result(check.name, check.label, ok, message, time.perf_counter() - started, data)
        )
    return results


# --- the dependencies ------------------------------------------------------------------------


@register("database", "database")
def check_database():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return "risponde"


@register("cache", "cache")
def check_cache():
    # Straight to Redis: the shop's cache client turns errors into misses, which is right
    # for pages and wrong for a health check.
    from django.core.cache import cache
    from django.core.cache.backends.redis import RedisCacheClient

    client = getattr(cache, "_cache", None)
    if isinstance(client, RedisCacheClient):
        client.get_client(write=True).ping()
        return "Redis risponde"
    key = "health:cache"
    value = str(time.time())
    cache.set(key, value, 30)
    if cache.get(key) != value:
        raise Unhealthy("la cache non restituisce quanto scritto")
    return "scrive e legge"


@register("broker", "broker (Celery)")
def check_broker():
    from pecshop.celery import app

    with app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1, interval_start=0, timeout=2)
        connection.default_channel  # noqa: B018 - opens the channel: the broker answers
    return "raggiungibile"


def worker_destination() -> list[str] | None:
    name = getattr(settings, "HEALTH_WORKER_NAME", "") or ""
    return [name] if name else None


@register("worker", "worker (Celery)")
def check_worker():
    from pecshop.celery import app

    destination = worker_destination()
    # Stop at the first answer needed (one worker, or the named one) instead of waiting the
    # whole timeout for workers that may exist: a probe answers in milliseconds.
    replies = app.control.ping(
        timeout=settings.HEALTH_WORKER_TIMEOUT, destination=destination, limit=1
    )
    if not replies:
        raise Unhealthy("nessun worker ha risposto al ping")
    names = sorted(name for reply in replies for name in reply)
    return f"{len(names)} worker: {', '.join(names)}", {"workers": names}


@register("nightly", "ultima esecuzione notturna")
def check_nightly():
    from operations.models import LifecycleRun, RunStatus

    last = (
        LifecycleRun.objects.filter(status=RunStatus.DONE)
        .order_by("-finished_at")
        .values("day", "finished_at", "run_id")
        .first()
    )
    if last is None:
        raise Unhealthy("nessuna esecuzione completata del ciclo di vita")
    age = timezone.now() - last["finished_at"]
    hours = age.total_seconds() / 3600
    data = {"age_hours": round(hours, 2), "day": last["day"].isoformat()}
    if age > timedelta(hours=settings.HEALTH_NIGHTLY_MAX_AGE_HOURS):
        raise Unhealthy(
            f"l'ultima esecuzione completata ({last['day']:%d/%m/%Y}) è di {hours:.0f} ore fa "
            f"(limite {settings.HEALTH_NIGHTLY_MAX_AGE_HOURS})"
        )
    return f"completata {hours:.1f} ore fa (giorno {last['day']:%d/%m/%Y})", data


@register("beat", "Celery beat", default=False)
def check_beat():
    """For the beat container: beat rewrites its schedule file after every task it sends
    (CELERY_BEAT_SYNC_EVERY = 1) and the outbox sweep is sent every minute."""
    from pathlib import Path

    base = Path(settings.CELERY_BEAT_SCHEDULE_FILENAME)
    files = [p for p in base.parent.glob(base.name + "*") if p.is_file()]
    if not files:
        raise Unhealthy(f"nessun file di pianificazione {base}")
    age = time.time() - max(p.stat().st_mtime for p in files)
    if age > settings.HEALTH_BEAT_MAX_AGE_MINUTES * 60:
        raise Unhealthy(f"pianificazione ferma da {age / 60:.0f} minuti")
    return f"pianificazione aggiornata {age:.0f} s fa", {"age_seconds": round(age)}


# --- backlogs of the outboxes ----------------------------------------------------------------


def register_backlog(
    name: str, label: str, pending: Callable, *, created_field: str = "created_at"
) -> None:
    """A check of the rows `pending()` returns (a queryset of what is not done yet)."""

    def run():
        from django.db.models import Min

        queryset = pending()
        figures = queryset.aggregate(oldest=Min(created_field))
        count = queryset.count()
        oldest = figures["oldest"]
        minutes = (timezone.now() - oldest).total_seconds() / 60 if oldest else 0.0
        data = {"count": count, "oldest_minutes": round(minutes, 1)}
        limit = settings.HEALTH_BACKLOG_MAX_AGE_MINUTES
        if count > settings.HEALTH_BACKLOG_MAX_COUNT:
            raise Unhealthy(f"{count} in coda (limite {settings.HEALTH_BACKLOG_MAX_COUNT})")
        if minutes > limit:
            raise Unhealthy(
                f"{count} in coda, il più vecchio da {minutes:.0f} minuti (limite {limit})"
            )
        return (f"{count} in coda" if count else "nessuno in coda"), data

    CHECKS[name] = Check(name, label, run)


def _provisioning_pending():
    from mailboxes.models import ProvisioningCall, ProvisioningStatus

    return ProvisioningCall.objects.exclude(status=ProvisioningStatus.DONE)


def _emails_pending():
    from outbox.models import EmailStatus, OutboundEmail

    return OutboundEmail.objects.exclude(status=EmailStatus.SENT)


register_backlog("provisioning", "chiamate alla piattaforma di posta", _provisioning_pending)
register_backlog("emails", "e-mail in uscita", _emails_pending)
