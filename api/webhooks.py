"""Webhooks: the customer's endpoints, the outbox of deliveries, signing and sending.

Events reach the outbox (`WebhookDelivery`) in two ways, both durable:
- order paid and invoice issued: written by `webhooks_order_paid` inside the payment's
  transaction, so they exist exactly when the payment does;
- mailbox expiring, expired, cancelled and usage above 90%: the lifecycle jobs already
  write, in their own transactions, a row for each of these (a reminder, a status event,
  a usage alert); `webhooks_collect` turns those rows into deliveries, once per endpoint
  and event (a unique key), reading each source from a cursor.
Sending happens after commit and from a beat job every minute; a broker outage only
delays it. Each request is signed: `X-PecShop-Signature: t=<unix time>,v1=<hex>` where
v1 = HMAC-SHA256(secret, "<t>.<body>"); receivers reject a stale `t` (replays).
"""

import hashlib
import hmac
import json
import logging
import secrets
import time
import urllib.error
import urllib.request
import uuid
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from api.models import (
    DeliveryStatus,
    WebhookCursor,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEventType,
)

logger = logging.getLogger(__name__)

RETRY_FOR = timedelta(hours=24)
FIRST_RETRY = timedelta(minutes=1)
LONGEST_WAIT = timedelta(hours=2)
TIMEOUT_SECONDS = 10
CLAIM_FOR = timedelta(minutes=2)
BODY_KEPT = 2000
SIGNATURE_HEADER = "X-PecShop-Signature"
TOLERANCE_SECONDS = 300  # what the README's receiver accepts


class WebhookError(Exception):
    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


# --- endpoints -------------------------------------------------------------------------------


def webhook_endpoint_create(*, customer, url: str, events: list[str]) -> WebhookEndpoint:
    url = (url or "").strip()
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise WebhookError("Indica un indirizzo http:// o https:// valido.", field="url") from None
    if len(url) > 500:
        raise WebhookError("L'indirizzo può avere al massimo 500 caratteri.", field="url")
    events = [e for e in WebhookEventType.values if e in set(events or [])]
    if not events:
        raise WebhookError("Scegli almeno un evento.", field="events")
    return WebhookEndpoint.objects.create(
        customer=customer, url=url, events=events, secret="whsec_" + secrets.token_hex(24)
    )


def webhook_endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    endpoint.active = False
    endpoint.save(update_fields=["active"])


# --- the outbox ------------------------------------------------------------------------------


def _event(event_type: str, data: dict, now: datetime) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "type": event_type,
        "created": now.isoformat(),
        "data": data,
    }


def _enqueue(customer_id: int, event_type: str, key: str, data: dict, *, now=None) -> int:
    """Outbox rows for every live endpoint of the customer that chose this event."""
    now = now or timezone.now()
    endpoints = [
        e
        for e in WebhookEndpoint.objects.filter(customer_id=customer_id, active=True)
        if event_type in e.events
    ]
    if not endpoints:
        return 0
    event = _event(event_type, data, now)
    rows = WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                endpoint=e,
                event_id=event["id"],
                event_key=key,
                event_type=event_type,
                payload=event,
                next_attempt_at=now,
                created_at=now,
            )
            for e in endpoints
        ],
        ignore_conflicts=True,
    )
    transaction.on_commit(_send_soon)
    return len(rows)


def _send_soon() -> None:
    from api.tasks import send_due_webhooks

    try:
        send_due_webhooks.delay()
    except Exception:  # noqa: BLE001 - the beat job sends it anyway
        logger.warning("webhooks: broker unavailable, the beat job will send them")


def _money(value) -> str:
    return f"{value:.2f}"


def _site(name: str, *args) -> str:
    return settings.SITE_URL + reverse(name, args=args)


def webhooks_order_paid(*, order, invoice) -> None:
    """Called inside the payment's transaction: order.paid and invoice.issued."""
    _enqueue(
        order.customer_id,
        WebhookEventType.ORDER_PAID,
        f"order.paid:{order.pk}",
        {
            "order": {
                "number": order.number,
                "status": order.status,
                "net": _money(order.net),
                "vat": _money(order.vat),
                "total": _money(order.total),
                "paid_at": order.paid_at.isoformat() if order.paid_at else None,
                "mailbox_ids": sorted(
                    {i.mailbox_id for i in order.items.all() if i.mailbox_id is not None}
                ),
            }
        },
    )
    if invoice is not None:
        _enqueue(
            order.customer_id,
            WebhookEventType.INVOICE_ISSUED,
            f"invoice.issued:{invoice.pk}",
            {
                "invoice": {
                    "id": invoice.pk,
                    "number": invoice.display_number,
                    "kind": invoice.kind,
                    "issued_on": invoice.issued_on.isoformat(),
                    "order_number": order.number,
                    "net": _money(invoice.net),
                    "vat": _money(invoice.vat),
                    "total": _money(invoice.total),
                    "pdf_url": _site("api_v1:invoice_pdf", invoice.pk),
                    "xml_url": _site("api_v1:invoice_xml", invoice.pk),
                }
            },
        )


def _mailbox_data(mailbox) -> dict:
    return {
        "id": mailbox.pk,
        "address": mailbox.address,
        "status": mailbox.status,
        "expires_on": mailbox.expires_on.isoformat() if mailbox.expires_on else None,
    }


def _advance(source: str, rows, handle) -> int:
    """Hand each new row of a source to `handle`, then move the cursor past them."""
    count = 0
    with transaction.atomic():
        cursor, _ = WebhookCursor.objects.select_for_update().get_or_create(source=source)
        last = cursor.last_id
        for row in rows(cursor.last_id):
            count += handle(row)
            last = max(last, row.pk)
        cursor.last_id = last
        cursor.save(update_fields=["last_id"])
    return count


def webhooks_collect(*, today: date | None = None, batch_size: int = 1000) -> dict[str, int]:
    """Turn the lifecycle jobs' rows into deliveries, for customers with endpoints."""
    from mailboxes.models import EventKind, MailboxEvent, ReminderSent, UsageAlert

    customers = set(
        WebhookEndpoint.objects.filter(active=True).values_list("customer_id", flat=True)
    )
    if not customers:
        # Nothing to deliver: skip what happened while nobody listened.
        for source, model in (("mailbox_event", MailboxEvent), ("reminder", ReminderSent)):
            top = model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
            WebhookCursor.objects.update_or_create(source=source, defaults={"last_id": top})
        return {"expired": 0, "cancelled": 0, "expiring": 0, "usage": 0}
    created = {"expired": 0, "cancelled": 0, "expiring": 0, "usage": 0}

    def events(after):
        return (
            MailboxEvent.objects.filter(pk__gt=after, mailbox__customer_id__in=customers)
            .filter(
                kind=EventKind.STATUS,
                mailbox_addon__isnull=True,
                to_status__in=["expired", "cancelled"],
            )
            .select_related("mailbox")
            .order_by("pk")[:batch_size]
        )

    def on_event(event) -> int:
        kind = "expired" if event.to_status == "expired" else "cancelled"
        event_type = (
            WebhookEventType.MAILBOX_EXPIRED
            if kind == "expired"
            else WebhookEventType.MAILBOX_CANCELLED
        )
        n = _enqueue(
            event.mailbox.customer_id,
            event_type,
            f"{event_type}:{event.pk}",
            {"mailbox": _mailbox_data(event.mailbox), "on": event.data.get("on")},
        )
        created[kind] += n
        return n

    def reminders(after):
        return (
            ReminderSent.objects.filter(pk__gt=after, mailbox__customer_id__in=customers)
            .filter(kind__startswith="before_")
            .select_related("mailbox")
            .order_by("pk")[:batch_size]
        )

    def on_reminder(reminder) -> int:
        days = int(reminder.kind.removeprefix("before_"))
        n = _enqueue(
            reminder.mailbox.customer_id,
            WebhookEventType.MAILBOX_EXPIRING,
            f"mailbox.expiring:{reminder.pk}",
            {
                "mailbox": _mailbox_data(reminder.mailbox),
                "expires_on": reminder.expires_on.isoformat(),
                "days_left": days,
            },
        )
        created["expiring"] += n
        return n

    _advance("mailbox_event", events, on_event)
    _advance("reminder", reminders, on_reminder)

    # Usage alerts are rows updated in place: a crossing of 90% is (alert, day it changed).
    alerts = UsageAlert.objects.filter(
        level__gte=90, mailbox__customer_id__in=customers
    ).select_related("mailbox")
    if today is not None:
        alerts = alerts.filter(changed_on__gte=today - timedelta(days=2))
    for alert in alerts.order_by("pk")[:batch_size]:
        created["usage"] += _enqueue(
            alert.mailbox.customer_id,
            WebhookEventType.USAGE_ABOVE_90,
            f"usage:{alert.pk}:{alert.changed_on.isoformat()}",
            {
                "mailbox": _mailbox_data(alert.mailbox),
                "quota": alert.quota,
                "used_mb": alert.used_mb,
                "quota_gb": alert.quota_gb,
                "level": alert.level,
            },
        )
    return created


# --- signing and sending -----------------------------------------------------------------------


def sign(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify(secret: str, header: str, body: bytes, *, now: float | None = None) -> bool:
    """The receiver's check (the README shows the same in a few lines)."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((now or time.time()) - timestamp) > TOLERANCE_SECONDS:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), parts.get("v1", ""))


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, 8 ... minutes after each failed attempt, at most 2 hours."""
    return min(FIRST_RETRY * (2 ** max(attempts - 1, 0)), LONGEST_WAIT)


def _post(url: str, body: bytes, headers: dict) -> tuple[int, str]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            return response.status, response.read(BODY_KEPT).decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read(BODY_KEPT).decode("utf-8", "replace")


def webhook_deliver(*, delivery_id: int, now: datetime | None = None) -> str:
    """One attempt for one due delivery, claimed so that no two workers send it at once.
    Returns "delivered", "retry", "failed" or "skipped" (not due, or claimed elsewhere)."""
    now = now or timezone.now()
    claimed = WebhookDelivery.objects.filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
        pk=delivery_id,
        status=DeliveryStatus.PENDING,
        next_attempt_at__lte=now,
    ).update(claimed_until=now + CLAIM_FOR)
    if not claimed:
        return "skipped"
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    body = json.dumps(delivery.payload, ensure_ascii=False, separators=(",", ":")).encode()
    timestamp = int(now.timestamp())
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "PecShop-Webhooks/1",
        "X-PecShop-Event": delivery.event_type,
        "X-PecShop-Delivery": str(delivery.pk),
        "X-PecShop-Timestamp": str(timestamp),
        SIGNATURE_HEADER: f"t={timestamp},v1={sign(delivery.endpoint.secret, timestamp, body)}",
    }
    status, text, error = None, "", ""
    try:
        status, text = _post(delivery.endpoint.url, body, headers)
    except (OSError, ValueError) as problem:
        error = f"{type(problem).__name__}: {problem}"[:500]
    delivery.attempts += 1
    delivery.last_attempt_at = now
    delivery.response_status = status
    delivery.response_body = text
    delivery.error = error
    delivery.claimed_until = None
    if status is not None and 200 <= status < 300:
        delivery.status, delivery.delivered_at, outcome = DeliveryStatus.DELIVERED, now, "delivered"
    elif now + backoff(delivery.attempts) > delivery.created_at + RETRY_FOR:
        delivery.status, outcome = DeliveryStatus.FAILED, "failed"
    else:
        delivery.next_attempt_at, outcome = now + backoff(delivery.attempts), "retry"
    delivery.save()
    return outcome


def webhooks_send_due(*, now: datetime | None = None, limit: int = 500) -> dict[str, int]:
    now = now or timezone.now()
    counts = {"delivered": 0, "retry": 0, "failed": 0, "skipped": 0}
    due = WebhookDelivery.objects.filter(
        status=DeliveryStatus.PENDING, next_attempt_at__lte=now
    ).order_by("next_attempt_at", "pk")
    for pk in list(due.values_list("pk", flat=True)[:limit]):
        counts[webhook_deliver(delivery_id=pk, now=now)] += 1
    return counts


def webhook_resend(*, delivery: WebhookDelivery, now: datetime | None = None) -> WebhookDelivery:
    """The same event (same id and body) again, as a new delivery sent now."""
    now = now or timezone.now()
    copy = WebhookDelivery.objects.create(
        endpoint=delivery.endpoint,
        event_id=delivery.event_id,
        event_key=delivery.event_key,
        event_type=delivery.event_type,
        payload=delivery.payload,
        next_attempt_at=now,
        created_at=now,
        resend_of=delivery,
    )
    webhook_deliver(delivery_id=copy.pk, now=now)
    copy.refresh_from_db()
    return copy
