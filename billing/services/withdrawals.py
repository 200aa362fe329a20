"""The consumer's withdrawal (recesso) from a paid order, from the Area Clienti.

`withdrawal_preview` says whether the order may be withdrawn now (or why not, in Italian)
and what it would refund; `order_withdraw` does it, once: the order row is locked, and one
withdrawal per order is a unique constraint. In one transaction it undoes what the order
did to each mailbox (the inverse of `billing.services.payments.order_fulfil`), moves the
order to "rimborsato", issues the credit note with exactly the refund's amounts and writes
the order's event. After commit the money goes back through the gateway that took it
(`_refund_through_gateway`), and the acknowledgement e-mail leaves with the credit note.
A bank transfer is refunded by staff to the IBAN the customer gave.

The rule of the refund is pure: `billing.withdrawal_rule`.
"""

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from payments import PaymentStatus
from stdnum import iban as iban_number
from stdnum.exceptions import ValidationError as StdnumError

from addons.models import AddOn, Tier
from billing.catalogue import load_catalogue
from billing.models import (
    Invoice,
    InvoiceKind,
    ItemKind,
    Order,
    OrderItem,
    OrderStatus,
    Payment,
    PaymentMethod,
)
from billing.money import ZERO, format_eur
from billing.pricing import QUOTA_LABELS, gb_to_free, quota_gb
from billing.services.invoices import credit_note_issue
from billing.services.orders import order_event, order_transition
from billing.withdrawal_models import RefundMethod, RefundStatus, Withdrawal
from billing.withdrawal_rule import (
    ServiceLine,
    WithdrawalRefund,
    earliest_withdrawable_payment,
    withdrawal_last_day,
    withdrawal_refund,
)
from customers.models import HolderKind
from mailboxes.models import Mailbox
from mailboxes.selectors import mailbox_holdings
from mailboxes.services import TransitionError
from mailboxes.services.withdrawal import (
    mailbox_withdraw_new,
    mailbox_withdraw_renewal,
    mailbox_withdraw_units,
    mailbox_withdraw_upgrade,
)
from mailboxes.terms import MB_PER_GB, add_years
from pecshop.prepared import prepared

logger = logging.getLogger(__name__)

REASON = "recesso del cliente dall'ordine {number}"


class WithdrawalRefused(Exception):
    """The order cannot be withdrawn (now). The message is for the customer."""

    def __init__(self, message: str, *, code: str):
        super().__init__(message)
        self.message = message
        self.code = code


class RefundError(Exception):
    """The gateway did not refund; the withdrawal stays "da rimborsare" for staff."""


# --- reads ----------------------------------------------------------------------------------


def order_paid_on(order: Order) -> date | None:
    """The day the order was paid: its invoice's date (the payment's day), else when the
    shop recorded the payment."""
    invoice = order.invoices.filter(kind=InvoiceKind.INVOICE).first()
    if invoice is not None:
        return invoice.issued_on
    return timezone.localdate(order.paid_at) if order.paid_at else None


def withdrawal_deadline(paid_on: date) -> datetime:
    """23:59 Europe/Rome of the 14th day after payment (the last minute included)."""
    return timezone.make_aware(
        datetime.combine(withdrawal_last_day(paid_on), time(23, 59, 59)),
        timezone.get_default_timezone(),
    )


def is_consumer(order: Order) -> bool:
    holder = order.billing_holder
    return holder.kind == HolderKind.PERSON and not holder.vat_number


def withdrawable_orders(*, customer, today: date, mailbox: Mailbox | None = None) -> QuerySet:
    """The customer's paid orders still in their withdrawal period (consumers only)."""
    orders = withdrawable_orders_between(
        customer_id=customer.pk, today=today, since=earliest_withdrawable_payment(today)
    )
    if mailbox is not None:
        orders = orders.filter(items__mailbox=mailbox)
    return orders.distinct().order_by("-id")


def withdrawable_orders_between(*, customer_id: int, today: date, since: date) -> QuerySet:
    """`withdrawable_orders` with the earliest payment day still in its period given
    (`since`, `earliest_withdrawable_payment(today)`), for a prepared query or a subquery
    of another."""
    return Order.objects.filter(
        customer_id=customer_id,
        status=OrderStatus.PAID,
        billing_holder__kind=HolderKind.PERSON,
        billing_holder__vat_number="",
        invoices__kind=InvoiceKind.INVOICE,
        invoices__issued_on__lte=today,
        invoices__issued_on__gte=since,
        withdrawal__isnull=True,
    )


@prepared
def _withdrawable_numbers(customer_id: int, today: date, since: date) -> QuerySet:
    return withdrawable_orders_between(
        customer_id=customer_id, today=today, since=since
    ).values_list("number", flat=True)


@prepared
def _withdrawable_numbers_of(
    mailbox_id: int, customer_id: int, today: date, since: date
) -> QuerySet:
    return (
        withdrawable_orders_between(customer_id=customer_id, today=today, since=since)
        .filter(items__mailbox_id=mailbox_id)
        .values_list("number", flat=True)
        .distinct()
        .order_by("-id")
    )


def has_withdrawable_orders_sql(*, customer, today: date) -> tuple[str, list]:
    """Whether any of the customer's orders may still be withdrawn (the dashboard's link),
    as an SQL expression and its parameters, for a page that selects it with its own rows:
    the rule of `withdrawable_orders`, compiled once."""
    since = earliest_withdrawable_payment(today)
    return _withdrawable_numbers.exists_sql(customer_id=customer.pk, today=today, since=since)


def withdrawable_numbers(*, mailbox: Mailbox, today: date) -> list[str]:
    """The numbers of the orders of this mailbox still in their withdrawal period, newest
    first (the mailbox page's "Recedi"): the rule of `withdrawable_orders`, compiled once."""
    return _withdrawable_numbers_of.all(
        mailbox_id=mailbox.pk,
        customer_id=mailbox.customer_id,
        today=today,
        since=earliest_withdrawable_payment(today),
    )


def _service_lines(order: Order, paid_on: date) -> list[ServiceLine]:
    """Each paid line with the period it paid for (see billing.withdrawal_rule)."""
    lines = []
    items = order.items.select_related("mailbox").prefetch_related("lines").order_by("position")
    for item in items:
        p = item.params
        for line in item.lines.all():
            if item.kind == ItemKind.NEW_MAILBOX:
                starts = item.mailbox.activated_on or paid_on
                ends = add_years(starts, p["years"])
            elif item.kind == ItemKind.RENEWAL:
                old_expiry = date.fromisoformat(p["expires_on_at_order"])
                if line.kind in ("renewal", "renewal_addon"):
                    starts, ends = old_expiry, add_years(old_expiry, p["years"])
                else:  # units added before the expiry: the rateo up to it
                    starts, ends = paid_on, old_expiry
            else:  # an add-on, an increase, Multiutente users, an upgrade
                starts, ends = paid_on, date.fromisoformat(p["expires_on_at_order"])
            lines.append(ServiceLine(line.description, line.net, starts, ends))
    return lines


def _describe_undo(item: OrderItem, *, today: date, done: bool = False) -> str:
    """What withdrawing undoes of one item: announced (page) or done (receipt, e-mail)."""
    p, address = item.params, item.mailbox.address
    if item.kind == ItemKind.NEW_MAILBOX:
        verb = "è stata cancellata" if done else "viene cancellata"
        return (
            f"La casella {address} {verb} con i suoi servizi aggiuntivi ed eliminata dalla "
            "piattaforma di posta."
        )
    if item.kind == ItemKind.ADDON:
        bought = ", ".join(f"{code} {qty}" for code, qty in p.get("add", {}).items())
        verb = "sono stati tolti" if done else "vengono tolti"
        return f"Su {address} {verb} i servizi acquistati ({bought})."
    if item.kind == ItemKind.UPGRADE:
        verb = "è tornata" if done else "torna"
        return (
            f"{address} {verb} alla tipologia precedente ({p['tier_at_order'].capitalize()}), "
            "con i servizi che l'upgrade aveva accreditato."
        )
    old_expiry = date.fromisoformat(p["expires_on_at_order"])
    # The old expiry already passed (the renewal was paid in the grace period, or its new term
    # has started): the mailbox goes back to expired, as mailbox_withdraw_renewal does.
    in_grace = old_expiry <= today
    if done:
        return (
            f"Il rinnovo di {address} è stato annullato: la scadenza è tornata al "
            f"{old_expiry:%d/%m/%Y} e le modifiche previste per il nuovo periodo sono state "
            "eliminate."
            + (
                " La casella è di nuovo scaduta, con i servizi aggiuntivi che aveva prima."
                if in_grace
                else ""
            )
        )
    return (
        f"Il rinnovo di {address} viene annullato: la scadenza torna al "
        f"{old_expiry:%d/%m/%Y} e le modifiche previste per il nuovo periodo sono eliminate."
        + (
            " La casella torna scaduta, con i servizi aggiuntivi che aveva prima."
            if in_grace
            else ""
        )
    )


def _refund_method(order: Order) -> str:
    if order.payment_method == PaymentMethod.BANK_TRANSFER:
        return RefundMethod.BANK_TRANSFER
    return RefundMethod.GATEWAY


@dataclass
class WithdrawalPreview:
    order: Order
    paid_on: date | None = None
    deadline: datetime | None = None
    refused: WithdrawalRefused | None = None
    refund: WithdrawalRefund | None = None
    undo: list[str] = field(default_factory=list)
    refund_method: str = ""

    @property
    def allowed(self) -> bool:
        return self.refused is None

    @property
    def needs_iban(self) -> bool:
        return self.refund_method == RefundMethod.BANK_TRANSFER and bool(
            self.refund and self.refund.total
        )


def _refusal(order: Order, now: datetime) -> WithdrawalRefused | None:
    number = order.number
    existing = Withdrawal.objects.filter(order=order).first()
    if existing is not None:
        at = timezone.localtime(existing.withdrawn_at)
        return WithdrawalRefused(
            f"Hai già esercitato il recesso dall'ordine {number} il {at:%d/%m/%Y} alle "
            f"{at:%H:%M}: non c'è altro da fare.",
            code="already",
        )
    if not is_consumer(order):
        return WithdrawalRefused(
            f"L'ordine {number} è intestato a {order.billing_holder.display_name}, "
            "un'azienda o un professionista con partita IVA: il diritto di recesso spetta solo "
            "ai consumatori (Codice del Consumo, art. 52), quindi per questo ordine non è "
            "previsto.",
            code="business",
        )
    if order.status == OrderStatus.REFUNDED:
        return WithdrawalRefused(f"L'ordine {number} è già stato rimborsato.", code="refunded")
    if order.status != OrderStatus.PAID:
        return WithdrawalRefused(
            f"L'ordine {number} non è pagato ({order.get_status_display()}): il recesso vale "
            "per un ordine pagato. Un ordine in attesa di pagamento non si paga, e basta.",
            code="unpaid",
        )
    paid_on = order_paid_on(order)
    if paid_on is None:
        return WithdrawalRefused(f"L'ordine {number} non risulta pagato.", code="unpaid")
    if Invoice.objects.filter(credited_invoice__order=order).exists():
        return WithdrawalRefused(
            f"L'ordine {number} è già stato rimborsato in parte: per il recesso scrivi "
            f"all'assistenza ({settings.SELLER['email']}), che completerà il rimborso.",
            code="refunded",
        )
    if now > withdrawal_deadline(paid_on):
        return WithdrawalRefused(
            f"Il periodo di recesso dall'ordine {number} è terminato il "
            f"{withdrawal_last_day(paid_on):%d/%m/%Y} alle 23:59 (14 giorni dal pagamento del "
            f"{paid_on:%d/%m/%Y}): non è più possibile recedere.",
            code="expired",
        )
    return None


def withdrawal_preview(*, order: Order, now: datetime) -> WithdrawalPreview:
    """What the withdrawal page shows: the refusal, or what would be undone and refunded."""
    preview = WithdrawalPreview(order=order, refused=_refusal(order, now))
    preview.paid_on = order_paid_on(order)
    if preview.paid_on:
        preview.deadline = withdrawal_deadline(preview.paid_on)
    if preview.refused is None:
        today = timezone.localdate(now)
        preview.refund = withdrawal_refund(
            _service_lines(order, preview.paid_on), withdrawn_on=today
        )
        preview.undo = [
            _describe_undo(item, today=today)
            for item in order.items.select_related("mailbox").order_by("position")
        ]
        preview.refund_method = _refund_method(order)
    return preview


def iban_error(value: str) -> str:
    """An Italian message when `value` is not an IBAN with valid check digits, else ''."""
    value = (value or "").strip()
    if not value:
        return "Indica l'IBAN del conto su cui ricevere il rimborso."
    try:
        iban_number.validate(value)
    except StdnumError:
        return (
            "L'IBAN non è valido: controlla di averlo copiato per intero "
            "(per esempio IT60 X054 2811 1010 0000 0123 456)."
        )
    return ""


# --- the withdrawal -------------------------------------------------------------------------


def _addons_by_code(codes) -> dict[str, AddOn]:
    return {a.code: a for a in AddOn.objects.filter(code__in=list(codes))}


def _undo_item(item: OrderItem, *, today: date, actor, reason: str) -> None:
    p = item.params
    mailbox = item.mailbox
    if item.kind == ItemKind.NEW_MAILBOX:
        mailbox_withdraw_new(mailbox=mailbox, today=today, actor=actor, reason=reason)
        return
    added = p.get("add", {})
    held = p.get("held_at_order", {})
    addons = _addons_by_code([*added, *held, *(line.code for line in item.lines.all())])
    added_units = {addons[c]: q for c, q in added.items()}
    if item.kind == ItemKind.ADDON:
        mailbox_withdraw_units(mailbox=mailbox, units=added_units, actor=actor, reason=reason)
    elif item.kind == ItemKind.UPGRADE:
        mailbox_withdraw_upgrade(
            mailbox=mailbox,
            from_tier=Tier.objects.get(code=p["tier_at_order"]),
            to_tier=Tier.objects.get(code=p["to_tier"]),
            restore={
                addons[line.code]: line.quantity
                for line in item.lines.all()
                if line.kind == "credit"
            },
            added=added_units,
            actor=actor,
            reason=reason,
        )
    elif item.kind == ItemKind.RENEWAL:
        mailbox_withdraw_renewal(
            mailbox=mailbox,
            old_expiry=date.fromisoformat(p["expires_on_at_order"]),
            old_tier=Tier.objects.get(code=p["tier_at_order"]),
            years=p["years"],
            added=added_units,
            held={addons[code]: quantity for code, quantity in held.items()},
            today=today,
            actor=actor,
            reason=reason,
        )


def space_to_free(mailbox: Mailbox, today: date, catalogue=None, holdings=None) -> list[str]:
    """For each quota whose used space no longer fits: how many GB must be deleted."""
    catalogue = catalogue or load_catalogue(today)
    holdings = mailbox_holdings(mailbox) if holdings is None else holdings
    notes = []
    for quota, label in QUOTA_LABELS.items():
        used_mb = getattr(mailbox, f"usage_{quota}_mb", 0)
        limit = quota_gb(catalogue, mailbox.tier.code, holdings, quota)
        missing = gb_to_free(used_mb, limit)
        if missing:
            notes.append(
                f"{mailbox.address}: lo spazio {label} usato ({used_mb / MB_PER_GB:.1f} GB) "
                f"supera i {limit} GB disponibili: elimina almeno {missing} GB di messaggi. "
                "Non cancelliamo nulla al posto tuo."
            )
    return notes


def order_withdraw(*, order: Order, now: datetime, iban: str = "", actor=None) -> Withdrawal:
    """Withdraw from a paid order, once. Raises WithdrawalRefused with the reason."""
    try:
        return _order_withdraw(order=order, now=now, iban=iban, actor=actor)
    except IntegrityError:
        # A confirmation racing this one committed first (one withdrawal per order).
        existing = Withdrawal.objects.filter(order_id=order.pk).first()
        if existing is None:
            raise
        raise WithdrawalRefused(
            f"Hai già esercitato il recesso dall'ordine {order.number}.", code="already"
        ) from None


@transaction.atomic
def _order_withdraw(*, order: Order, now: datetime, iban: str, actor) -> Withdrawal:
    order = Order.objects.select_for_update().select_related("billing_holder").get(pk=order.pk)
    refused = _refusal(order, now)
    if refused is not None:
        raise refused
    today = timezone.localdate(now)
    paid_on = order_paid_on(order)
    refund = withdrawal_refund(_service_lines(order, paid_on), withdrawn_on=today)
    method = _refund_method(order) if refund.total else RefundMethod.NONE
    iban = (iban or "").replace(" ", "").upper()
    if method == RefundMethod.BANK_TRANSFER:
        message = iban_error(iban)
        if message:
            raise WithdrawalRefused(message, code="iban")
        iban = iban_number.compact(iban)
    else:
        iban = ""

    reason = REASON.format(number=order.number)
    items = list(order.items.select_related("mailbox__tier").order_by("position"))
    undone = [_describe_undo(item, today=today, done=True) for item in items]
    try:
        with transaction.atomic():
            for item in items:
                _undo_item(item, today=today, actor=actor, reason=reason)
    except TransitionError as error:
        raise WithdrawalRefused(
            f"Non possiamo annullare l'ordine {order.number} online: {error} Scrivi "
            f"all'assistenza ({settings.SELLER['email']}) entro il "
            f"{withdrawal_last_day(paid_on):%d/%m/%Y}: il recesso resta valido.",
            code="conflict",
        ) from error

    notes = []
    for mailbox_id in sorted({i.mailbox_id for i in items}):
        notes.extend(
            space_to_free(Mailbox.objects.select_related("tier").get(pk=mailbox_id), today)
        )

    order_transition(order=order, to_status=OrderStatus.REFUNDED, actor=actor, reason=reason)
    withdrawal = Withdrawal.objects.create(
        order=order,
        customer_id=order.customer_id,
        withdrawn_at=now,
        withdrawn_on=today,
        paid_net=refund.paid_net,
        used=refund.used,
        net=refund.net,
        vat=refund.vat,
        total=refund.total,
        lines=[
            {
                "description": r.line.description,
                "net": str(r.line.net),
                "starts_on": r.line.starts_on.isoformat(),
                "ends_on": r.line.ends_on.isoformat(),
                "days_used": r.days_used,
                "days_paid": r.days_paid,
                "used": str(r.used),
                "refund": str(r.refund),
            }
            for r in refund.lines
        ],
        undone=undone,
        space_to_free=notes,
        refund_method=method,
        refund_status=RefundStatus.DONE if method == RefundMethod.NONE else RefundStatus.PENDING,
        refunded_at=now if method == RefundMethod.NONE else None,
        iban=iban,
    )
    invoice = order.invoices.filter(kind=InvoiceKind.INVOICE).get()
    if refund.net > ZERO:
        # The number is taken last, so the year's numbering lock is held briefly.
        withdrawal.credit_note = credit_note_issue(
            invoice=invoice,
            issued_on=today,
            net=refund.net,
            description=(
                f"Recesso dall'ordine {order.number} del {today:%d/%m/%Y}: rimborso del "
                f"servizio non goduto (pagato {refund.paid_net}, goduto {refund.used})"
            )[:300],
        )
        withdrawal.save(update_fields=["credit_note"])
    order_event(
        order=order,
        kind="withdrawn",
        actor=actor,
        reason=reason,
        withdrawn_at=now.isoformat(),
        paid_net=str(refund.paid_net),
        used=str(refund.used),
        net=str(refund.net),
        vat=str(refund.vat),
        total=str(refund.total),
        credit_note=withdrawal.credit_note.display_number if withdrawal.credit_note else "",
        refund_method=method,
        iban=iban,
        undone=undone,
        space_to_free=notes,
    )
    # The acknowledgement on a durable medium, written with the withdrawal itself.
    withdrawal_email_queue(withdrawal=withdrawal)
    withdrawal_id = withdrawal.pk

    if method == RefundMethod.GATEWAY:
        # After commit; with the broker down the refunds sweep (`refunds_pending_run`) does it.
        from billing.tasks import refund_withdrawal
        from pecshop.celery import enqueue_on_commit

        enqueue_on_commit(refund_withdrawal, withdrawal_id)
    return withdrawal


# --- the money back -------------------------------------------------------------------------


def _refund_through_gateway(order: Order, amount: Decimal) -> str:
    """Give `amount` back on the payment that paid the order, through the gateway that took
    it (`billing.gateways`: Stripe, PayPal or the test gateway), with an idempotency key of
    the order's withdrawal: a retry after a crash never refunds twice. Returns the gateway's
    refund id, recorded for staff."""
    from billing.gateways import GatewayError, gateway_for

    payment = (
        Payment.objects.select_for_update()
        .filter(order=order, applied_at__isnull=False, status=PaymentStatus.CONFIRMED)
        .exclude(method=PaymentMethod.BANK_TRANSFER)
        .order_by("id")
        .first()
    )
    if payment is None:
        raise RefundError(f"Nessun pagamento online confermato per l'ordine {order.number}.")
    try:
        refund_id = gateway_for(payment).refund_payment(
            payment, amount=amount, idempotency_key=f"withdrawal-{order.number}"[:80]
        )
    except GatewayError as error:
        raise RefundError(str(error)) from error
    left = max((payment.captured_amount or payment.total) - amount, ZERO)
    fields = {"refund_reference": refund_id, "refunded_at": timezone.now(), "captured_amount": left}
    if left == ZERO:
        fields["status"] = PaymentStatus.REFUNDED
    Payment.objects.filter(pk=payment.pk).update(**fields)
    return refund_id


def withdrawal_refund_run(*, withdrawal_id: int) -> str:
    """Refund a withdrawal through the gateway, at most once (the row is locked and its
    status checked). "done", "already", "not_gateway" or "failed" (kept for staff)."""
    with transaction.atomic():
        withdrawal = (
            Withdrawal.objects.select_for_update().select_related("order").get(pk=withdrawal_id)
        )
        if withdrawal.refund_status == RefundStatus.DONE:
            return "already"
        if withdrawal.refund_method != RefundMethod.GATEWAY:
            return "not_gateway"
        order = withdrawal.order
        try:
            with transaction.atomic():
                reference = _refund_through_gateway(order, withdrawal.total)
        except RefundError as error:
            withdrawal.refund_error = str(error)[:2000]
            withdrawal.save(update_fields=["refund_error"])
            order_event(order=order, kind="withdrawal_refund_failed", reason=str(error)[:500])
            logger.warning("withdrawal %s: refund failed: %s", withdrawal.pk, error)
            return "failed"
        withdrawal.refund_status = RefundStatus.DONE
        withdrawal.refund_reference = reference[:100]
        withdrawal.refund_error = ""
        withdrawal.refunded_at = timezone.now()
        withdrawal.save(
            update_fields=["refund_status", "refund_reference", "refund_error", "refunded_at"]
        )
        order_event(
            order=order,
            kind="withdrawal_refunded",
            amount=str(withdrawal.total),
            method=RefundMethod.GATEWAY,
            reference=reference,
        )
        return "done"


@transaction.atomic
def withdrawal_bank_refund_done(*, withdrawal: Withdrawal, actor, reference: str) -> Withdrawal:
    """Staff paid the refund by bank transfer to the customer's IBAN."""
    reference = (reference or "").strip()
    if not reference:
        raise WithdrawalRefused(
            "Indica il riferimento (CRO/TRN) del bonifico di rimborso.", code="reference"
        )
    withdrawal = (
        Withdrawal.objects.select_for_update().select_related("order").get(pk=withdrawal.pk)
    )
    if withdrawal.refund_method != RefundMethod.BANK_TRANSFER:
        raise WithdrawalRefused(
            "Questo rimborso passa dal gateway di pagamento, non da un bonifico.", code="method"
        )
    if withdrawal.refund_status == RefundStatus.DONE:
        return withdrawal
    withdrawal.refund_status = RefundStatus.DONE
    withdrawal.refund_reference = reference[:100]
    withdrawal.refunded_at = timezone.now()
    withdrawal.refunded_by = actor
    withdrawal.save(
        update_fields=["refund_status", "refund_reference", "refunded_at", "refunded_by"]
    )
    payment = (
        Payment.objects.select_for_update()
        .filter(order=withdrawal.order, applied_at__isnull=False)
        .order_by("id")
        .first()
    )
    if payment is not None and payment.captured_amount:
        payment.captured_amount = max(payment.captured_amount - withdrawal.total, ZERO)
        payment.save(update_fields=["captured_amount"])
        if payment.captured_amount == ZERO:
            payment.change_status(PaymentStatus.REFUNDED)
    order_event(
        order=withdrawal.order,
        kind="withdrawal_refunded",
        actor=actor,
        amount=str(withdrawal.total),
        method=RefundMethod.BANK_TRANSFER,
        iban=withdrawal.iban,
        reference=reference,
    )
    return withdrawal


# --- the acknowledgement on a durable medium ------------------------------------------------


EMAIL_WITHDRAWAL = "email_withdrawal"


def withdrawal_email_queue(*, withdrawal: Withdrawal) -> bool:
    """The acknowledgement e-mail (text and HTML) with the credit note attached, to the
    outbox in the caller's transaction: once per withdrawal (the order's event
    `email_withdrawal` and the outbox key). False if it was written before."""
    from billing.models import OrderEvent
    from billing.services.emails import INVOICE_PDF
    from outbox.attachments import Reference
    from outbox.services import email_enqueue
    from pecshop.mail import email_build

    order = withdrawal.order
    if OrderEvent.objects.filter(order=order, kind=EMAIL_WITHDRAWAL).exists():
        return False
    message = email_build(
        "withdrawal_confirmed",
        {"withdrawal": withdrawal, "order": order},
        subject=f"Recesso registrato: ordine {order.number}",
        to=[order.customer.email],
    )
    references = []
    note: Invoice | None = withdrawal.credit_note
    if note is not None:
        # An issued credit note never changes: its PDF is made again when the e-mail leaves.
        references.append(
            Reference(
                filename=f"nota-di-credito-{note.year}-{note.number}.pdf",
                mimetype="application/pdf",
                source=INVOICE_PDF,
                ref=note.pk,
            )
        )
    email = email_enqueue(message=message, key=f"withdrawal:{withdrawal.pk}", references=references)
    if email is None:
        return False
    OrderEvent.objects.create(order=order, kind=EMAIL_WITHDRAWAL, data={"to": order.customer.email})
    return True


def withdrawal_email_send(*, withdrawal_id: int) -> str:
    """For a task queued before the outbox (by id): queue the acknowledgement now, once."""
    with transaction.atomic():
        Order.objects.select_for_update(of=("self",)).filter(withdrawal__pk=withdrawal_id).first()
        withdrawal = Withdrawal.objects.select_related(
            "order__customer__user", "order__billing_holder", "credit_note"
        ).get(pk=withdrawal_id)
        queued = withdrawal_email_queue(withdrawal=withdrawal)
    return "sent" if queued else "already sent"


def refund_summary(withdrawal: Withdrawal) -> str:
    """One line for staff lists: amount and how it is paid."""
    return f"{format_eur(withdrawal.total)} {withdrawal.get_refund_method_display()}"
