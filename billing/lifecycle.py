"""The daily jobs that touch orders, the whole day in order, and the invariants check.

`run_lifecycle(today=...)` is what Celery beat runs every night (`billing.tasks.
run_lifecycle_day`) and what `manage.py run_lifecycle --today` runs by hand. Every step is
idempotent and safe to kill, so the whole day can be run again at any time: what was done
is not done twice, what was left is finished.
"""

import logging
import time
from collections.abc import Callable
from datetime import date, timedelta

from django.conf import settings
from django.db.models import Count, Exists, Max, Min, OuterRef, Q
from payments import PaymentStatus

from billing.models import (
    Invoice,
    ItemKind,
    Order,
    OrderEvent,
    OrderItem,
    OrderStatus,
    Payment,
    PaymentMethod,
)
from billing.services.autorenew import AUTORENEW_DAYS, autorenew_mailbox
from billing.services.card_expiry import card_expiry_notices
from billing.services.orders import OrderTransitionError, order_cancel
from mailboxes import lifecycle as mailbox_jobs
from mailboxes.models import Mailbox, MailboxStatus
from mailboxes.services import provisioning_retry_pending

logger = logging.getLogger(__name__)

REASON_UNPAID = "bonifico non ricevuto entro {days} giorni"


def _reason_mailbox_gone(addresses: list[str]) -> str:
    if len(addresses) == 1:
        return (
            f"la casella {addresses[0]} non può più ricevere quanto ordinato (scaduta o cancellata)"
        )
    return (
        f"le caselle {', '.join(addresses)} non possono più ricevere quanto ordinato "
        "(scadute o cancellate)"
    )


def cancel_unpaid_orders(*, today: date, batch_size: int = 500) -> dict[str, int]:
    """Bank-transfer orders still unpaid after BANK_TRANSFER_DAYS are cancelled, as staff
    would cancel them (`order_cancel`: the reserved addresses are freed, the customer is
    told). One order per transaction: a transfer registered meanwhile wins the order's
    lock, or finds it cancelled and is flagged for a refund."""
    days = settings.BANK_TRANSFER_DAYS
    due = Order.objects.filter(
        status=OrderStatus.AWAITING_PAYMENT,
        payment_method=PaymentMethod.BANK_TRANSFER,
        placed_on__lt=today - timedelta(days=days),
    ).order_by("pk")
    counts = {"cancelled": 0}
    after = 0
    while ids := list(due.filter(pk__gt=after).values_list("pk", flat=True)[:batch_size]):
        for pk in ids:
            try:
                order_cancel(
                    order=Order(pk=pk), today=today, reason=REASON_UNPAID.format(days=days)
                )
            except OrderTransitionError:
                continue  # paid or cancelled meanwhile
            counts["cancelled"] += 1
        after = ids[-1]
    return counts


# An order item its mailbox can no longer take.
_UNFULFILLABLE = Q(mailbox__status=MailboxStatus.CANCELLED) | Q(
    kind__in=[ItemKind.ADDON, ItemKind.UPGRADE], mailbox__status=MailboxStatus.EXPIRED
)


def cancel_unfulfillable_orders(*, today: date, batch_size: int = 500) -> dict[str, int]:
    """Orders awaiting payment for a mailbox that can no longer take them are cancelled, so
    that nobody pays for what cannot be delivered: any order for a cancelled mailbox (an
    automatic renewal that failed before the end of the grace period, say), and add-ons or
    upgrades for a mailbox that has expired (only a renewal is possible then). New
    mailboxes' orders are left to `cancel_unpaid_orders`. The whole order goes, since it
    could no longer be fulfilled as placed; the e-mail names the mailboxes."""
    gone = OrderItem.objects.filter(_UNFULFILLABLE, order=OuterRef("pk"))
    due = (
        Order.objects.filter(status=OrderStatus.AWAITING_PAYMENT)
        .filter(Exists(gone))
        .exclude(items__kind=ItemKind.NEW_MAILBOX)
        .order_by("pk")
    )
    counts = {"cancelled": 0}
    after = 0
    while ids := list(due.filter(pk__gt=after).values_list("pk", flat=True)[:batch_size]):
        addresses: dict[int, list[str]] = {}
        for order_id, address in (
            OrderItem.objects.filter(_UNFULFILLABLE, order_id__in=ids)
            .values_list("order_id", "mailbox__address")
            .order_by("mailbox__address")
        ):
            addresses.setdefault(order_id, []).append(address)
        for pk in ids:
            if pk not in addresses:
                continue  # its mailbox was renewed meanwhile
            try:
                order_cancel(
                    order=Order(pk=pk), today=today, reason=_reason_mailbox_gone(addresses[pk])
                )
            except OrderTransitionError:
                continue  # paid or cancelled meanwhile
            counts["cancelled"] += 1
        after = ids[-1]
    return counts


def auto_renew(*, today: date, batch_size: int = 500) -> dict[str, int]:
    """Automatic renewals due today: from 7 days before the expiry up to the expiry day,
    one charge a day until one succeeds (see billing.services.autorenew)."""
    due = Mailbox.objects.filter(
        status=MailboxStatus.ACTIVE,
        auto_renew=True,
        cancel_at_expiry=False,
        expires_on__gte=today,
        expires_on__lte=today + timedelta(days=AUTORENEW_DAYS),
    ).order_by("pk")
    counts: dict[str, int] = {}
    after = 0
    while ids := list(due.filter(pk__gt=after).values_list("pk", flat=True)[:batch_size]):
        for pk in ids:
            try:
                outcome = autorenew_mailbox(mailbox_id=pk, today=today)
            except Exception:  # noqa: BLE001 - one mailbox's failure must not stop the others
                logger.exception("automatic renewal of mailbox %s failed", pk)
                outcome = "error"
            counts[outcome] = counts.get(outcome, 0) + 1
        after = ids[-1]
    return counts


def lifecycle_steps(
    *, today: date, batch_size: int = mailbox_jobs.BATCH_SIZE
) -> list[tuple[str, Callable[[], dict]]]:
    """The day's jobs in the order they must run.

    Scheduled tier and quantity changes first (they belong to the term that starts today);
    automatic renewals before the expiry, so a charge that succeeds on the expiry day still
    saves the mailbox; reminders after both, so a mailbox renewed or expired today gets the
    reminder that is true tonight.
    """
    return [
        (
            "apply_term_changes",
            lambda: mailbox_jobs.apply_term_changes(today=today, batch_size=batch_size),
        ),
        ("auto_renew", lambda: auto_renew(today=today)),
        ("card_expiry_notices", lambda: card_expiry_notices(today=today)),
        (
            "expire_mailboxes",
            lambda: mailbox_jobs.expire_mailboxes(today=today, batch_size=batch_size),
        ),
        ("end_grace", lambda: mailbox_jobs.end_grace(today=today, batch_size=batch_size)),
        ("cancel_unpaid_orders", lambda: cancel_unpaid_orders(today=today)),
        ("cancel_unfulfillable_orders", lambda: cancel_unfulfillable_orders(today=today)),
        ("reminders", lambda: mailbox_jobs.reminders(today=today, batch_size=batch_size)),
        ("send_reminders", lambda: mailbox_jobs.reminders_send(today=today)),
        ("usage_alerts", lambda: mailbox_jobs.usage_alerts(today=today, batch_size=batch_size)),
        ("send_usage_alerts", lambda: mailbox_jobs.usage_alerts_send(today=today)),
        ("retry_provisioning", lambda: {"done": provisioning_retry_pending()}),
    ]


def run_lifecycle(
    *, today: date, batch_size: int = mailbox_jobs.BATCH_SIZE, report=None
) -> list[tuple[str, dict, float]]:
    """Run the whole day in order; returns (step, counts, seconds) for each step.

    The run is recorded (`operations.LifecycleRun`: its id, steps and counts; the health
    check reads when the last one completed) and writes one summary line per step, with
    the run id, the step and its counts as fields of the line."""
    from django.utils import timezone

    from operations.models import LifecycleRun, RunStatus
    from pecshop.observability import log_context

    run = LifecycleRun.objects.create(day=today, started_at=timezone.now())
    results = []
    with log_context(run_id=str(run.run_id), lifecycle_day=today.isoformat()):
        logger.info("lifecycle %s started", today)
        try:
            for name, step in lifecycle_steps(today=today, batch_size=batch_size):
                started = time.perf_counter()
                counts = step()
                elapsed = time.perf_counter() - started
                results.append((name, counts, elapsed))
                run.steps.append({"step": name, "counts": counts, "seconds": round(elapsed, 3)})
                LifecycleRun.objects.filter(pk=run.pk).update(steps=run.steps)
                logger.info(
                    "lifecycle %s %s: %s in %.1f s",
                    today,
                    name,
                    counts,
                    elapsed,
                    extra={"step": name, "counts": counts, "seconds": round(elapsed, 3)},
                )
                if report is not None:
                    report(name, counts, elapsed)
        except BaseException as error:
            LifecycleRun.objects.filter(pk=run.pk).update(
                status=RunStatus.FAILED,
                finished_at=timezone.now(),
                error=f"{type(error).__name__}: {error}"[:2000],
            )
            logger.exception("lifecycle %s failed after %s steps", today, len(results))
            raise
        LifecycleRun.objects.filter(pk=run.pk).update(
            status=RunStatus.DONE, finished_at=timezone.now()
        )
        logger.info("lifecycle %s done in %.1f s", today, sum(r[2] for r in results))
    return results


# --- invariants -------------------------------------------------------------------------------


def invariant_violations(*, today: date | None = None, limit: int = 100) -> list[str]:
    """Every invariant of mailboxes, orders, payments and invoices that does not hold, one
    line each. `today` adds the checks of what the day's job must have done."""
    out = mailbox_jobs.mailbox_invariant_violations(today=today, limit=limit)

    fulfilled = OrderEvent.objects.filter(order=OuterRef("pk"), kind="fulfilled")
    unfulfilled = (
        Order.objects.filter(status=OrderStatus.PAID).exclude(Exists(fulfilled)).order_by("pk")
    )
    out += mailbox_jobs.violation_lines(
        "ordine pagato ma non evaso",
        list(unfulfilled.values_list("number", flat=True)[:limit]),
        unfulfilled.count(),
        limit,
    )

    loose = Payment.objects.filter(
        status=PaymentStatus.CONFIRMED, applied_at__isnull=True, needs_review=False
    ).order_by("pk")
    out += mailbox_jobs.violation_lines(
        "pagamento confermato, non applicato e non segnalato",
        [
            f"pagamento {pk} dell'ordine {number}"
            for pk, number in loose.values_list("pk", "order__number")[:limit]
        ],
        loose.count(),
        limit,
    )

    years = (
        Invoice.objects.values("year")
        .annotate(n=Count("pk"), distinct=Count("number", distinct=True), low=Min("number"))
        .annotate(high=Max("number"))
        .order_by("year")
    )
    for row in years:
        if row["low"] == 1 and row["high"] == row["n"] == row["distinct"]:
            continue
        numbers = sorted(Invoice.objects.filter(year=row["year"]).values_list("number", flat=True))
        missing = sorted(set(range(1, row["high"] + 1)) - set(numbers))
        repeated = sorted({n for n in numbers if numbers.count(n) > 1})
        if missing:
            shown = ", ".join(str(n) for n in missing[:limit])
            out.append(f"numerazione delle fatture {row['year']}: mancano {shown}")
        if repeated:
            shown = ", ".join(str(n) for n in repeated[:limit])
            out.append(f"numerazione delle fatture {row['year']}: ripetuti {shown}")
    return out
