"""Refunds decided by staff: a credit note on the order's invoice, and what follows.

- A full refund (the whole invoice, or what is left of it after earlier partial refunds)
  moves the order to "rimborsato" and cancels the mailboxes the order created (they were
  sold by it; their add-ons are cancelled with them).
- What the order added to mailboxes that existed before (add-ons, more GB, renewals, a
  tier change) is NOT undone automatically: reverting a renewal or removing units needs a
  decision per mailbox, taken by staff in the mailbox's page. The result says so.
- A partial refund (`net` below what is left) issues a credit note for `net` and leaves
  the order "pagato" and its mailboxes as they are.
- An order "da verificare" (paid, never fulfilled) has no invoice: the refund is full, no
  credit note is needed, and the addresses it reserved are freed.

The money goes back through the channel it came from: a card or PayPal payment is refunded
through the gateway that took it (the gateway's refund id is recorded on the payment and
in the order's history; the call carries an idempotency key, so a retried request is the
same refund); a bank transfer stays a staff task: the order's history records the amount
and the IBAN the customer gave.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from payments import PaymentStatus
from stdnum import iban as iban_number
from stdnum.exceptions import ValidationError as NumberError

from billing.gateways import GatewayError, gateway_for
from billing.models import (
    Invoice,
    InvoiceKind,
    ItemKind,
    Order,
    OrderStatus,
    Payment,
    PaymentMethod,
)
from billing.money import ZERO
from billing.services.invoices import credit_note_issue
from billing.services.orders import (
    OrderError,
    OrderTransitionError,
    order_event,
    order_transition,
)
from mailboxes.models import MailboxStatus
from mailboxes.services import mailbox_staff_cancel, mailbox_transition


@dataclass
class RefundResult:
    order: Order
    net: Decimal
    full: bool
    credit_note: Invoice | None = None
    cancelled: list[str] = field(default_factory=list)
    not_reverted: list[str] = field(default_factory=list)
    gross: Decimal = ZERO
    gateway_refund: str = ""  # the gateway's refund id (card, PayPal)
    bank_iban: str = ""  # a bank transfer: staff send `gross` to this IBAN


def _applied_payment(order: Order) -> Payment | None:
    return (
        Payment.objects.select_for_update()
        .filter(order=order, applied_at__isnull=False, duplicate=False)
        .exclude(status=PaymentStatus.REJECTED)
        .order_by("-applied_at", "-pk")
        .first()
    )


def _money_back(order: Order, result: "RefundResult", *, iban: str, actor, reason: str) -> None:
    """Send `result.gross` back where it came from (the last step of the refund)."""
    payment = _applied_payment(order)
    if payment is None or payment.method == PaymentMethod.BANK_TRANSFER:
        result.bank_iban = iban
        order_event(
            order=order,
            kind="bank_refund_due",
            payment=payment,
            actor=actor,
            reason=reason,
            amount=str(result.gross),
            iban=iban or "da chiedere al cliente",
        )
        return
    refunded_before = sum(
        (e.data.get("amount_cents", 0) for e in order.events.filter(kind="gateway_refunded")), 0
    )
    cents = int(result.gross * 100)
    key = f"refund-{payment.transaction_id}-{refunded_before}-{cents}"[:80]
    try:
        refund_id = gateway_for(payment).refund_payment(
            payment, amount=result.gross, idempotency_key=key
        )
    except GatewayError as error:
        raise OrderError(
            f"Il gateway non ha eseguito il rimborso, nulla è stato registrato: {error}"
        ) from error
    result.gateway_refund = refund_id
    fields = {"refund_reference": refund_id, "refunded_at": timezone.now()}
    if result.full:
        fields["status"] = PaymentStatus.REFUNDED
    Payment.objects.filter(pk=payment.pk).update(**fields)
    order_event(
        order=order,
        kind="gateway_refunded",
        payment=payment,
        actor=actor,
        reason=reason,
        refund=refund_id,
        amount=str(result.gross),
        amount_cents=cents,
    )


def refund_iban_clean(value: str) -> str:
    """An IBAN for a bank transfer refund, compact, or OrderError."""
    value = (value or "").strip()
    if not value:
        return ""
    try:
        return iban_number.validate(value)
    except NumberError:
        raise OrderError("IBAN non valido: controlla le cifre.", field="iban") from None


@transaction.atomic
def order_refund(
    *,
    order: Order,
    actor,
    reason: str,
    today: date,
    net: Decimal | None = None,
    iban: str = "",
) -> RefundResult:
    reason = (reason or "").strip()
    iban = refund_iban_clean(iban)
    if not reason:
        raise OrderError("Indica il motivo del rimborso.", field="reason")
    order = Order.objects.select_for_update().get(pk=order.pk)
    if order.status not in (OrderStatus.PAID, OrderStatus.ATTENTION):
        raise OrderTransitionError(
            f"L'ordine {order.number} è «{order.get_status_display()}»: si rimborsa solo un "
            "ordine pagato o da verificare.",
            field="status",
        )
    invoice = order.invoices.filter(kind=InvoiceKind.INVOICE).first()
    if invoice is None:
        if net is not None:
            raise OrderError("L'ordine non ha fattura: si rimborsa solo per intero.", field="net")
        amount, full = order.net, True
    else:
        credited = sum((c.net for c in invoice.credit_notes.all()), ZERO)
        available = invoice.net - credited
        if available <= 0:
            raise OrderError(f"La fattura {invoice.display_number} è già stornata per intero.")
        amount = available if net is None else net
        if not (ZERO < amount <= available):
            raise OrderError(
                f"Importo da stornare non valido: al massimo {available} (imponibile).",
                field="net",
            )
        full = amount == available

    result = RefundResult(order=order, net=amount, full=full)
    items = list(order.items.select_related("mailbox").order_by("position"))
    if full:
        order_transition(order=order, to_status=OrderStatus.REFUNDED, actor=actor, reason=reason)
        for item in items:
            if item.kind == ItemKind.NEW_MAILBOX:
                why = f"ordine {order.number} rimborsato: {reason}"
                if item.mailbox.status == MailboxStatus.PENDING:
                    # Never activated (an order "da verificare"): the reservation ends.
                    mailbox_transition(
                        mailbox=item.mailbox,
                        to_status=MailboxStatus.CANCELLED,
                        today=today,
                        actor=actor,
                        reason=why,
                    )
                    result.cancelled.append(item.mailbox.address)
                elif item.mailbox.status != MailboxStatus.CANCELLED:
                    mailbox_staff_cancel(mailbox=item.mailbox, today=today, actor=actor, reason=why)
                    result.cancelled.append(item.mailbox.address)
            elif invoice is not None and item.mailbox is not None:
                result.not_reverted.append(f"{item.get_kind_display()} su {item.mailbox.address}")
    if invoice is not None:
        # The credit note's number is taken last, so its year's lock is held briefly.
        result.credit_note = credit_note_issue(
            invoice=invoice,
            issued_on=today,
            net=amount,
            description=f"Rimborso dell'ordine {order.number}: {reason}"[:300],
        )
    order_event(
        order=order,
        kind="refunded" if full else "partially_refunded",
        actor=actor,
        reason=reason,
        net=str(amount),
        credit_note=result.credit_note.display_number if result.credit_note else "",
        cancelled_mailboxes=result.cancelled,
        not_reverted=result.not_reverted,
    )
    result.gross = result.credit_note.total if result.credit_note else order.total
    _money_back(order, result, iban=iban, actor=actor, reason=reason)
    return result
