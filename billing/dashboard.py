"""Reads for the back office's dashboard: what staff look at first.

Each figure is a count and the first few rows, from queries that use indexes (statuses,
dates) so that the page stays quick with millions of mailboxes. The admin turns them into
links to the filtered lists.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef, QuerySet

from billing.models import Invoice, InvoiceKind, Order, OrderStatus, Payment, PaymentMethod
from billing.withdrawal_models import RefundStatus, Withdrawal
from mailboxes.models import (
    AddOnStatus,
    Mailbox,
    MailboxAddOn,
    MailboxStatus,
    ProvisioningCall,
    ProvisioningStatus,
)
from mailboxes.terms import GRACE_DAYS

SAMPLE = 10


@dataclass
class Figure:
    key: str
    title: str
    count: int
    rows: list = field(default_factory=list)
    note: str = ""


def _figure(key: str, title: str, queryset: QuerySet, note: str = "") -> Figure:
    rows = list(queryset[:SAMPLE])
    count = len(rows) if len(rows) < SAMPLE else queryset.count()
    return Figure(key=key, title=title, count=count, rows=rows, note=note)


def dashboard_figures(*, today: date) -> list[Figure]:
    overdue_on = today - timedelta(days=settings.BANK_TRANSFER_DAYS)
    return [
        _figure(
            "awaiting",
            "Ordini in attesa di pagamento",
            Order.objects.filter(status=OrderStatus.AWAITING_PAYMENT)
            .select_related("customer__user")
            .order_by("-id"),
        ),
        _figure(
            "overdue_transfers",
            f"Bonifici attesi da più di {settings.BANK_TRANSFER_DAYS} giorni",
            Order.objects.filter(
                status=OrderStatus.AWAITING_PAYMENT,
                payment_method=PaymentMethod.BANK_TRANSFER,
                placed_on__lt=overdue_on,
            )
            .select_related("customer__user")
            .order_by("placed_on", "id"),
            note="Il job giornaliero li annulla: se restano qui, non è passato.",
        ),
        _figure(
            "attention",
            "Ordini da verificare",
            Order.objects.filter(status=OrderStatus.ATTENTION)
            .select_related("customer__user")
            .order_by("-id"),
            note="Pagati ma non applicabili così come ordinati: si applicano a mano o si rimborsano.",
        ),
        _figure(
            "flagged_payments",
            "Pagamenti da verificare",
            Payment.objects.filter(needs_review=True).select_related("order").order_by("-id"),
            note="Importo diverso, ordine annullato o già pagato: di solito da rimborsare.",
        ),
        _figure(
            "withdrawal_refunds",
            "Rimborsi di recesso da eseguire",
            Withdrawal.objects.filter(refund_status=RefundStatus.PENDING)
            .select_related("order")
            .order_by("withdrawn_at", "id"),
            note="Bonifici da pagare all'IBAN del cliente, o rimborsi sul gateway non riusciti.",
        ),
        _figure(
            "provisioning_failed",
            "Chiamate alla piattaforma di posta fallite",
            ProvisioningCall.objects.filter(status=ProvisioningStatus.FAILED)
            .select_related("mailbox")
            .order_by("-id"),
            note="Vengono ritentate ogni 15 minuti.",
        ),
        _figure(
            "expiring",
            "Caselle in scadenza nei prossimi 7 giorni",
            Mailbox.objects.filter(
                status=MailboxStatus.ACTIVE,
                expires_on__gte=today,
                expires_on__lt=today + timedelta(days=7),
            )
            .select_related("customer__user")
            .order_by("expires_on", "id"),
        ),
        *sdi_figures(today=today),
    ]


def sdi_figures(*, today: date) -> list[Figure]:
    """The documents on their way to the SDI that need a look (billing.sdi)."""
    from billing.sdi.models import SdiReceipt, SdiReceiptStatus, SdiState, SdiTransmission
    from billing.sdi.services import LATE_AFTER_DAYS, late_transmissions

    current = SdiTransmission.objects.filter(is_current=True).select_related("invoice")
    return [
        _figure(
            "sdi_waiting",
            "Documenti in attesa: da inviare allo SdI o senza esito",
            current.filter(state__in=[SdiState.QUEUED, SdiState.SENT]).order_by("id"),
        ),
        _figure(
            "sdi_late",
            f"Documenti non inviati allo SdI {LATE_AFTER_DAYS} giorni dopo l'emissione",
            late_transmissions(today=today).select_related("invoice").order_by("id"),
            note="Il termine di legge è di 12 giorni: controlla l'errore e il canale SdI.",
        ),
        _figure(
            "sdi_discarded",
            "Documenti scartati dallo SdI",
            current.filter(state=SdiState.DISCARDED).order_by("id"),
            note="Correggi i dati e reinvia entro 5 giorni dallo scarto: stesso numero e data.",
        ),
        _figure(
            "sdi_undelivered",
            "Documenti non consegnati (validi, nell'area riservata AdE)",
            current.filter(state=SdiState.NOT_DELIVERED).order_by("-id"),
            note="Il cliente è stato avvisato per e-mail con la copia di cortesia.",
        ),
        _figure(
            "sdi_flagged_receipts",
            "Ricevute SdI da verificare",
            SdiReceipt.objects.filter(status=SdiReceiptStatus.FLAGGED)
            .defer("content")
            .order_by("-id"),
            note="Malformate, sconosciute o fuori sequenza: conservate così come sono arrivate.",
        ),
    ]


def invariant_violations(*, today: date) -> list[Figure]:
    """Cheap checks of what must never happen; each should always count 0."""
    invoiced = Invoice.objects.filter(order=OuterRef("pk"), kind=InvoiceKind.INVOICE)
    return [
        _figure(
            "active_addon_off_mailbox",
            "Servizi attivi su una casella non attiva",
            MailboxAddOn.objects.filter(status=AddOnStatus.ACTIVE)
            .exclude(mailbox__status=MailboxStatus.ACTIVE)
            .select_related("mailbox", "addon")
            .order_by("id"),
        ),
        _figure(
            "paid_without_invoice",
            "Ordini pagati senza fattura",
            Order.objects.filter(status=OrderStatus.PAID).exclude(Exists(invoiced)).order_by("id"),
        ),
        _figure(
            "active_past_expiry",
            "Caselle attive oltre la scadenza",
            Mailbox.objects.filter(status=MailboxStatus.ACTIVE, expires_on__lte=today).order_by(
                "expires_on", "id"
            ),
            note="Il job giornaliero delle scadenze non è passato.",
        ),
        _figure(
            "expired_past_grace",
            f"Caselle scadute da più di {GRACE_DAYS} giorni e non cancellate",
            Mailbox.objects.filter(
                status=MailboxStatus.EXPIRED,
                expires_on__lte=today - timedelta(days=GRACE_DAYS),
            ).order_by("expires_on", "id"),
        ),
    ]
