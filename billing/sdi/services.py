"""Transmission of invoices and credit notes to the SDI, and what its receipts do.

- `sdi_enqueue` writes the outbox row in the transaction that issues the document; a task
  sends it after commit (`sdi_send`) and the beat job sends whatever is left
  (`sdi_send_pending`), so a lost task delays a document by minutes, never loses it.
- A file name is taken from `SdiFileCounter` and committed before the file leaves: a name
  is never given to two files, and a resend always has a new one.
- `sdi_receipts_read` stores every file the channel offers (`SdiReceipt`, unique by its
  digest: the same receipt read twice changes nothing), applies the valid ones to their
  transmission by `NomeFile` and flags the rest for staff.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from datetime import date, datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from billing.models import Invoice
from billing.sdi.channels import SdiChannel, SdiChannelError, get_channel
from billing.sdi.models import (
    SDI_TRANSITIONS,
    SdiFileCounter,
    SdiReceipt,
    SdiReceiptStatus,
    SdiState,
    SdiTransmission,
)
from billing.sdi.receipts import KIND_LABELS, ReceiptError, parse_receipt

logger = logging.getLogger(__name__)

# A document not sent this long after it was issued is shown to staff as late: the law
# gives 12 days from the operation, the shop sends within minutes.
LATE_AFTER_DAYS = 2
# A discarded document may be sent again with its number and date within this many days of
# the discard notice.
RESEND_DAYS = 5
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
PROGRESSIVE_LENGTH = 5


class SdiError(Exception):
    """A request staff can fix (shown to them as it is)."""


# --- file names ----------------------------------------------------------------------------


def file_progressive(value: int) -> str:
    """`value` as 5 alphanumeric characters (base 36): 1 -> `00001`, 36 -> `00010`."""
    if not 0 < value < len(ALPHABET) ** PROGRESSIVE_LENGTH:
        raise ValueError(f"progressive {value} does not fit {PROGRESSIVE_LENGTH} characters")
    digits = []
    while value:
        value, rest = divmod(value, len(ALPHABET))
        digits.append(ALPHABET[rest])
    return "".join(reversed(digits)).rjust(PROGRESSIVE_LENGTH, "0")


def transmitter_id() -> str:
    """The identifier in file names and in IdTrasmittente: the seller's codice fiscale (or
    partita IVA)."""
    return settings.SELLER.get("fiscal_code") or settings.SELLER["vat_number"]


def file_name_for(progressive: str) -> str:
    return f"IT{transmitter_id()}_{progressive}.xml"


def progressive_of(file_name: str) -> str:
    return file_name.rsplit("_", 1)[1].removesuffix(".xml")


def _next_file_name() -> str:
    """Inside a transaction: the next progressive, its row locked until commit."""
    SdiFileCounter.objects.bulk_create([SdiFileCounter(id=1)], ignore_conflicts=True)
    counter = SdiFileCounter.objects.select_for_update().get(id=1)
    counter.last_value += 1
    counter.save(update_fields=["last_value"])
    return file_name_for(file_progressive(counter.last_value))


# --- sending -------------------------------------------------------------------------------


def _send_later(transmission_id: int) -> None:
    """The task is a shortcut: with the broker down the row waits for `sdi_send_pending`
    (beat) and the page that issued the document does not fail."""
    from billing.tasks import sdi_send_transmission
    from pecshop.celery import enqueue

    enqueue(sdi_send_transmission, transmission_id)


def sdi_enqueue(
    *, invoice: Invoice, buyer: dict | None = None, actor=None, reason: str = ""
) -> SdiTransmission:
    """The outbox row of a document, in the caller's transaction; sent after commit."""
    transmission = SdiTransmission.objects.create(
        invoice=invoice,
        buyer=buyer if buyer is not None else invoice.buyer,
        actor=actor,
        reason=reason[:500],
    )
    transaction.on_commit(partial(_send_later, transmission.pk))
    return transmission


def transmission_xml(transmission: SdiTransmission) -> bytes:
    from billing.documents import document_from_invoice, invoice_fatturapa_xml

    document = document_from_invoice(transmission.invoice, buyer=transmission.buyer)
    return invoice_fatturapa_xml(document, progressivo=progressive_of(transmission.file_name))


def _assign_file_name(transmission_id: int) -> None:
    with transaction.atomic():
        transmission = SdiTransmission.objects.select_for_update().get(pk=transmission_id)
        if transmission.file_name is None and transmission.state == SdiState.QUEUED:
            transmission.file_name = _next_file_name()
            transmission.save(update_fields=["file_name"])


def sdi_send(
    *, transmission_id: int, channel: SdiChannel | None = None, raise_on_failure: bool = False
) -> str:
    """Send one queued transmission. Sent once: a sent one is left alone, and while one
    worker sends it another skips it. A channel failure stays visible and is retried."""
    from billing.documents import validate_fatturapa

    # Committed before anything leaves: a crash after sending cannot free the name.
    _assign_file_name(transmission_id)
    channel = channel or get_channel()
    failure = ""
    with transaction.atomic():
        transmission = (
            SdiTransmission.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("invoice__order", "invoice__credited_invoice")
            .filter(pk=transmission_id)
            .first()
        )
        if transmission is None:
            return "busy"
        if transmission.state != SdiState.QUEUED or not transmission.is_current:
            return "already"
        xml = transmission_xml(transmission)
        transmission.attempts += 1
        problems = validate_fatturapa(xml)
        if problems:
            # Nothing a retry would fix: staff see it on the Cruscotto as a late document.
            transmission.last_error = "XML non valido: " + "; ".join(problems[:5])
            transmission.save(update_fields=["attempts", "last_error"])
            logger.error("SDI %s not sent: %s", transmission.file_name, transmission.last_error)
            return "invalid"
        try:
            reference = channel.send(file_name=transmission.file_name, content=xml)
        except SdiChannelError as error:
            failure = str(error)
            transmission.last_error = failure[:2000]
            transmission.save(update_fields=["attempts", "last_error"])
        else:
            transmission.state = SdiState.SENT
            transmission.sent_at = timezone.now()
            transmission.xml = xml.decode("utf-8")
            transmission.channel_ref = reference[:300]
            transmission.last_error = ""
            transmission.save(
                update_fields=[
                    "attempts",
                    "state",
                    "sent_at",
                    "xml",
                    "channel_ref",
                    "last_error",
                ]
            )
    if failure:
        logger.warning("SDI %s not sent: %s", transmission.file_name, failure)
        if raise_on_failure:
            raise SdiChannelError(failure)
        return "failed"
    return "sent"


def sdi_send_pending(*, older_than_minutes: int = 1, limit: int = 500) -> dict[str, int]:
    """The beat job: send what the after-commit task has not (a lost task, a failure)."""
    cutoff = timezone.now() - timedelta(minutes=older_than_minutes)
    ids = list(
        SdiTransmission.objects.filter(
            state=SdiState.QUEUED, is_current=True, created_at__lte=cutoff
        )
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )
    counts: Counter[str] = Counter()
    channel = get_channel() if ids else None
    for pk in ids:
        counts[sdi_send(transmission_id=pk, channel=channel)] += 1
    late = late_transmissions(today=timezone.localdate()).count()
    if late:
        logger.error("SDI: %s documents not sent %s days after issue", late, LATE_AFTER_DAYS)
    return {**counts, "late": late}


def late_transmissions(*, today: date):
    return SdiTransmission.objects.filter(
        state=SdiState.QUEUED,
        is_current=True,
        invoice__issued_on__lte=today - timedelta(days=LATE_AFTER_DAYS),
    )


# --- receipts ------------------------------------------------------------------------------


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return timezone.now()
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def receipt_store(*, name: str, content: bytes) -> str:
    """Store one file from the SDI and apply it; never raises for what the file holds.

    Returns "applied", "flagged" or "duplicate"."""
    digest = hashlib.sha256(content).hexdigest()
    if SdiReceipt.objects.filter(digest=digest).exists():
        return "duplicate"
    try:
        with transaction.atomic():
            return _receipt_apply(name=name[:255], content=content, digest=digest)
    except IntegrityError:
        # Another reader stored the same file at the same moment.
        if SdiReceipt.objects.filter(digest=digest).exists():
            return "duplicate"
        raise


def _flag(name, content, digest, problem, **fields) -> str:
    SdiReceipt.objects.create(
        name=name,
        content=content,
        digest=digest,
        status=SdiReceiptStatus.FLAGGED,
        problem=problem,
        **fields,
    )
    logger.warning("SDI receipt %s flagged: %s", name, problem)
    return "flagged"


OUTCOMES = {"RC": SdiState.DELIVERED, "MC": SdiState.NOT_DELIVERED, "NS": SdiState.DISCARDED}


def _receipt_apply(*, name: str, content: bytes, digest: str) -> str:
    try:
        receipt = parse_receipt(content)
    except ReceiptError as error:
        return _flag(name, content, digest, f"Ricevuta non valida: {error}")
    fields = {
        "kind": receipt.kind,
        "referenced_file": receipt.file_name[:50],
        "sdi_id": receipt.sdi_id[:20],
    }
    transmission = (
        SdiTransmission.objects.select_for_update().filter(file_name=receipt.file_name).first()
    )
    if transmission is None:
        return _flag(
            name,
            content,
            digest,
            f"Nessun documento inviato con il nome file {receipt.file_name}.",
            **fields,
        )
    fields["transmission"] = transmission
    target = OUTCOMES.get(receipt.kind)
    label = KIND_LABELS.get(receipt.kind, receipt.kind)
    if target is None:
        return _flag(
            name,
            content,
            digest,
            f"{label.capitalize()}: non prevista per le fatture tra privati (FPR12).",
            **fields,
        )
    if target not in SDI_TRANSITIONS[transmission.state]:
        return _flag(
            name,
            content,
            digest,
            f"{label.capitalize()} per {receipt.file_name}, che è già "
            f"«{transmission.get_state_display()}»: non applicata.",
            **fields,
        )
    transmission.state = target
    transmission.outcome_at = _moment(receipt.when)
    transmission.sdi_id = receipt.sdi_id[:20]
    if target == SdiState.DISCARDED:
        transmission.errors = receipt.errors
    transmission.save(update_fields=["state", "outcome_at", "sdi_id", "errors"])
    SdiReceipt.objects.create(
        name=name, content=content, digest=digest, status=SdiReceiptStatus.APPLIED, **fields
    )
    if target == SdiState.NOT_DELIVERED:
        not_delivered_email_queue(transmission=transmission)
    elif target == SdiState.DISCARDED:
        logger.error(
            "SDI discarded %s (%s): %s", receipt.file_name, transmission.invoice, receipt.errors
        )
    return "applied"


def sdi_receipts_read(*, channel: SdiChannel | None = None) -> dict[str, int]:
    """The receipts job: every file the channel offers, stored then marked as read."""
    channel = channel or get_channel()
    counts: Counter[str] = Counter()
    for incoming in channel.receive():
        counts[receipt_store(name=incoming.name, content=incoming.content)] += 1
        channel.done(incoming)
    return dict(counts)


# --- the customer, on a missed delivery ----------------------------------------------------


def not_delivered_email_queue(*, transmission: SdiTransmission) -> bool:
    """Tell the customer that the document is valid and where the original is, with the
    courtesy copy attached (regenerated from the issued document when sent): written to the
    outbox in the caller's transaction, once per transmission (`customer_notified_at`)."""
    from billing.documents import document_from_invoice
    from billing.services.emails import INVOICE_PDF
    from outbox.attachments import Reference
    from outbox.services import email_enqueue
    from pecshop.mail import email_build

    claimed = SdiTransmission.objects.filter(
        pk=transmission.pk, state=SdiState.NOT_DELIVERED, customer_notified_at__isnull=True
    ).update(customer_notified_at=timezone.now())
    if not claimed:
        return False
    invoice = Invoice.objects.select_related("customer__user", "order").get(
        pk=transmission.invoice_id
    )
    document = document_from_invoice(invoice)
    title, is_credit_note = document.title, document.is_credit_note
    message = email_build(
        "sdi_not_delivered",
        {"invoice": invoice, "title": title, "transmission": transmission},
        subject=f"{title} n. {invoice.display_number}: l'originale è nell'area "
        "riservata dell'Agenzia delle Entrate",
        to=[invoice.customer.user.email],
    )
    name = "nota-di-credito" if is_credit_note else "fattura"
    email_enqueue(
        message=message,
        key=f"sdi_not_delivered:{transmission.pk}",
        references=[
            Reference(
                filename=f"{name}-{invoice.year}-{invoice.number}.pdf",
                mimetype="application/pdf",
                source=INVOICE_PDF,
                ref=invoice.pk,
            )
        ],
    )
    return True


def not_delivered_email_send(*, transmission_id: int) -> str:
    """For a task queued before the outbox (by id): queue the e-mail now, once."""
    with transaction.atomic():
        transmission = SdiTransmission.objects.select_for_update().get(pk=transmission_id)
        queued = not_delivered_email_queue(transmission=transmission)
    return "sent" if queued else "already"


# --- discards ------------------------------------------------------------------------------


def current_transmission(invoice: Invoice) -> SdiTransmission | None:
    return invoice.sdi_transmissions.filter(is_current=True).first()


def resend_deadline(transmission: SdiTransmission) -> date:
    notice = transmission.outcome_at or transmission.sent_at or timezone.now()
    return timezone.localdate(notice) + timedelta(days=RESEND_DAYS)


@transaction.atomic
def sdi_resend(
    *, invoice: Invoice, actor, reason: str, today: date, buyer: dict | None = None
) -> SdiTransmission:
    """Send a discarded document again, corrected, under a new file name and with its own
    number and date: allowed within 5 days of the discard notice.

    The buyer's data are taken again from the order's billing holder (where staff correct
    them) unless `buyer` is given."""
    from billing.services.invoices import holder_snapshot

    reason = (reason or "").strip()
    if not reason:
        raise SdiError("Indica il motivo del reinvio.")
    current = (
        SdiTransmission.objects.select_for_update().filter(invoice=invoice, is_current=True).first()
    )
    if current is None or current.state != SdiState.DISCARDED:
        state = current.get_state_display() if current else "mai trasmesso"
        raise SdiError(f"{invoice} è «{state}»: si reinvia solo un documento scartato dallo SdI.")
    deadline = resend_deadline(current)
    if today > deadline:
        raise SdiError(
            f"{invoice}: la notifica di scarto è del {deadline - timedelta(days=RESEND_DAYS):%d/%m/%Y}"
            f" e sono passati più di {RESEND_DAYS} giorni: il documento non si può più reinviare "
            "con lo stesso numero e la stessa data. Va emesso un nuovo documento con nuovo "
            "numero e data."
        )
    if buyer is None:
        buyer = holder_snapshot(invoice.order.billing_holder)
    current.is_current = False
    current.save(update_fields=["is_current"])
    return sdi_enqueue(invoice=invoice, buyer=buyer, actor=actor, reason=reason)
