"""The e-mail outbox: store what the rendering produced, send it once.

Rendering stays where it is (each app builds an `EmailMessage` or `EmailMultiAlternatives`
from its templates); `email_enqueue` stores that message in the caller's transaction and
queues its sending after commit. `email_send` claims a row with a conditional UPDATE
(pending, or failed and due, becomes "sending") and only the claimer sends it; the row is
marked sent when the mail server has taken it. `outbox_sweep` (beat, every minute) sends
what no task took: the broker was down at commit time, or a worker died.
"""

import base64
import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import timedelta
from email.mime.base import MIMEBase

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives, get_connection
from django.db.models import F, Q
from django.utils import timezone

from outbox import attachments as attachment_sources
from outbox.models import EmailStatus, OutboundEmail

logger = logging.getLogger(__name__)

# A claim older than this is taken to be a sender that died: the e-mail is sent again.
STALE_CLAIM = timedelta(minutes=30)
# Failures are retried with a growing pause, up to MAX_ATTEMPTS; then staff decide.
MAX_ATTEMPTS = 10
MAX_PAUSE = timedelta(hours=1)
# The sweep leaves to the after-commit task what was written in the last minute.
SWEEP_GRACE = timedelta(minutes=1)


def _encode_attachment(attachment) -> dict:
    if isinstance(attachment, MIMEBase):
        return {
            "filename": attachment.get_filename() or "allegato",
            "mimetype": attachment.get_content_type(),
            "content_b64": base64.b64encode(attachment.get_payload(decode=True) or b"").decode(),
        }
    filename, content, mimetype = attachment
    if isinstance(content, str):
        content = content.encode()
    return {
        "filename": filename,
        "mimetype": mimetype or "application/octet-stream",
        "content_b64": base64.b64encode(content).decode(),
    }


def _row(
    message: EmailMessage,
    key: str | None = None,
    references: Sequence[attachment_sources.Reference] = (),
) -> OutboundEmail:
    body, html = message.body, ""
    for content, mimetype in getattr(message, "alternatives", []):
        if mimetype == "text/html":
            html = content
    if message.content_subtype == "html":
        body, html = "", message.body
    return OutboundEmail(
        key=key,
        subject=message.subject,
        body=body,
        html_body=html,
        from_email=message.from_email or settings.DEFAULT_FROM_EMAIL,
        to=list(message.to),
        cc=list(message.cc),
        bcc=list(message.bcc),
        reply_to=list(message.reply_to),
        headers=dict(message.extra_headers),
        attachments=[_encode_attachment(a) for a in message.attachments]
        + [r.as_row() for r in references],
    )


def email_enqueue(
    *,
    message: EmailMessage,
    key: str | None = None,
    references: Sequence[attachment_sources.Reference] = (),
) -> OutboundEmail | None:
    """Store a rendered message in the current transaction and send it after commit.

    `references` are attachments regenerated when sending (an issued invoice's PDF). With a
    `key` already stored nothing is written and None is returned: the e-mail exists."""
    if key is not None and OutboundEmail.objects.filter(key=key).exists():
        return None
    email = _row(message, key, references)
    email.save()
    from outbox.tasks import send_email
    from pecshop.celery import enqueue_on_commit

    enqueue_on_commit(send_email, email.pk)
    return email


def emails_store(*, messages: Sequence[EmailMessage]) -> list[int]:
    """Store many rendered messages in the current transaction (a daily job's batch); the
    caller sends them after its commit with `emails_send`, or the sweep does."""
    return [e.pk for e in OutboundEmail.objects.bulk_create([_row(m) for m in messages])]


def email_message(email: OutboundEmail, *, connection=None) -> EmailMessage:
    """The stored e-mail as Django sends it, attachments regenerated where referenced."""
    message = EmailMultiAlternatives(
        subject=email.subject,
        body=email.body or email.html_body,
        from_email=email.from_email,
        to=email.to,
        cc=email.cc,
        bcc=email.bcc,
        reply_to=email.reply_to,
        headers=email.headers,
        connection=connection,
    )
    if email.html_body and email.body:
        message.attach_alternative(email.html_body, "text/html")
    elif email.html_body:
        message.content_subtype = "html"
    for item in email.attachments:
        if "source" in item:
            content = attachment_sources.generate(item["source"], item["ref"])
        else:
            content = base64.b64decode(item["content_b64"])
        message.attach(item["filename"], content, item["mimetype"])
    return message


def _claimable(now) -> Q:
    return (
        Q(status=EmailStatus.PENDING)
        | Q(status=EmailStatus.FAILED, next_attempt_at__lte=now)
        | Q(status=EmailStatus.SENDING, claimed_at__lt=now - STALE_CLAIM)
    )


def _pause(attempts: int) -> timedelta:
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), MAX_PAUSE)


def email_send(*, email_id: int, connection=None, now=None) -> str:
    """Send one stored e-mail if nobody else has: "sent", "failed" or "skipped"."""
    now = now or timezone.now()
    claimed = (
        OutboundEmail.objects.filter(pk=email_id)
        .filter(_claimable(now))
        .update(status=EmailStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    )
    if not claimed:
        return "skipped"
    email = OutboundEmail.objects.get(pk=email_id)
    try:
        email_message(email, connection=connection).send()
    except Exception as error:  # noqa: BLE001 - any failure is recorded and retried
        retry = email.attempts < MAX_ATTEMPTS
        OutboundEmail.objects.filter(pk=email_id, status=EmailStatus.SENDING).update(
            status=EmailStatus.FAILED,
            last_error=f"{type(error).__name__}: {error}"[:2000],
            next_attempt_at=now + _pause(email.attempts) if retry else None,
        )
        logger.warning(
            "e-mail %s not sent (attempt %s): %s", email_id, email.attempts, error, exc_info=True
        )
        return "failed"
    OutboundEmail.objects.filter(pk=email_id, status=EmailStatus.SENDING).update(
        status=EmailStatus.SENT, sent_at=timezone.now(), last_error="", next_attempt_at=None
    )
    return "sent"


def emails_send(*, email_ids: Iterable[int], now=None) -> dict[str, int]:
    """Send several stored e-mails over one connection to the mail server."""
    counts: Counter = Counter()
    with get_connection() as connection:
        for pk in email_ids:
            counts[email_send(email_id=pk, connection=connection, now=now)] += 1
    return dict(counts)


def outbox_due(*, now=None, grace: timedelta = SWEEP_GRACE):
    """E-mails a sweep should send now: pending for more than `grace` (a minute: the task
    queued after commit goes first), failed and due, or claimed by a sender that died."""
    now = now or timezone.now()
    return OutboundEmail.objects.filter(
        Q(status=EmailStatus.PENDING, created_at__lt=now - grace)
        | Q(status=EmailStatus.FAILED, next_attempt_at__lte=now)
        | Q(status=EmailStatus.SENDING, claimed_at__lt=now - STALE_CLAIM)
    )


def outbox_sweep(*, now=None, grace: timedelta = SWEEP_GRACE, limit: int = 500) -> dict[str, int]:
    ids = list(outbox_due(now=now, grace=grace).order_by("pk").values_list("pk", flat=True)[:limit])
    if not ids:
        return {}
    counts = emails_send(email_ids=ids, now=now)
    logger.info("outbox sweep: %s", counts, extra={"counts": counts})
    return counts


def email_retry(*, email: OutboundEmail) -> bool:
    """Staff: send a failed e-mail again at the next sweep (or now, through the task)."""
    return bool(
        OutboundEmail.objects.filter(pk=email.pk, status=EmailStatus.FAILED).update(
            status=EmailStatus.PENDING, next_attempt_at=None
        )
    )
