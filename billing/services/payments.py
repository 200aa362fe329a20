"""Payments and the fulfilment of paid orders, exactly once.

Whatever arrives twice or at once (the browser's return and the gateway's webhook racing,
a webhook delivered twice, staff registering the same transfer twice), an order is
fulfilled once: the payment and the order rows are locked, the payment's `applied_at` and
the order's status are checked under the lock, and a gateway reference is unique.
"""

import logging
from datetime import date
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from payments import PaymentStatus

from addons.models import AddOn, Tier
from billing.catalogue import load_catalogue
from billing.models import ItemKind, Order, OrderStatus, Payment, PaymentMethod
from billing.pricing import PricingError, check_holding
from billing.services.invoices import invoice_issue
from billing.services.orders import OrderError, order_event, order_transition
from mailboxes.models import Mailbox, MailboxStatus
from mailboxes.selectors import mailbox_holdings
from mailboxes.services import (
    TransitionError,
    addon_attach,
    mailbox_activate,
    mailbox_renew,
    mailbox_upgrade,
    provisioning_enqueue,
    quotas_payload,
)

logger = logging.getLogger(__name__)

BANK_TRANSFER_VARIANT = "bank_transfer"


class FulfilmentConflict(Exception):
    """A paid order that can no longer be applied as placed (e.g. the mailbox was
    cancelled meanwhile). The order goes to staff; nothing of it is applied."""


def payment_start(*, order: Order) -> Payment:
    """A gateway payment for the order's total, by the order's method (card or PayPal)."""
    if order.status != OrderStatus.AWAITING_PAYMENT:
        raise OrderError("Questo ordine non è in attesa di pagamento.")
    if order.payment_method == PaymentMethod.BANK_TRANSFER:
        raise OrderError("Questo ordine si paga con bonifico.")
    holder = order.billing_holder
    return Payment.objects.create(
        order=order,
        method=order.payment_method,
        variant=order.payment_method,
        currency="EUR",
        total=order.total,
        tax=order.vat,
        description=f"Ordine {order.number}",
        billing_first_name=holder.first_name or holder.company_name,
        billing_last_name=holder.last_name,
        billing_address_1=holder.street,
        billing_city=holder.city,
        billing_postcode=holder.postal_code,
        billing_country_code="IT",
        billing_email=order.customer.email,
    )


def _flag(payment: Payment, order: Order, note: str, actor=None) -> str:
    payment.needs_review = True
    payment.review_note = note
    payment.save(update_fields=["needs_review", "review_note"])
    order_event(order=order, kind="payment_flagged", payment=payment, actor=actor, reason=note)
    logger.warning("payment %s flagged: %s", payment.pk, note)
    return "flagged"


def payment_apply(*, payment_id: int, paid_on: date | None = None, actor=None) -> str:
    """Apply a confirmed payment to its order and fulfil it, at most once.

    Returns what happened: "fulfilled", "already" (applied before), "flagged" (staff must
    look: wrong amount, order cancelled or already paid), "attention" (paid but could not
    be applied), or "not_confirmed".
    """
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment_id)
        order = Order.objects.select_for_update().get(pk=payment.order_id)
        if payment.applied_at is not None or payment.needs_review:
            return "already"
        if payment.status != PaymentStatus.CONFIRMED:
            return "not_confirmed"
        amount = payment.captured_amount or payment.total
        if order.status in (OrderStatus.PAID, OrderStatus.REFUNDED, OrderStatus.ATTENTION):
            return _flag(
                payment, order, "Secondo pagamento per un ordine già pagato: da rimborsare.", actor
            )
        if order.status == OrderStatus.CANCELLED:
            return _flag(payment, order, "Pagamento per un ordine annullato: da rimborsare.", actor)
        if amount != order.total:
            return _flag(
                payment,
                order,
                f"Importo ricevuto {amount} diverso dal totale dell'ordine {order.total}.",
                actor,
            )
        paid_on = paid_on or payment.received_on or timezone.localdate()
        payment.applied_at = timezone.now()
        payment.save(update_fields=["applied_at"])
        order_event(
            order=order, kind="payment_applied", payment=payment, actor=actor, amount=str(amount)
        )
        try:
            with transaction.atomic():
                order_fulfil(order=order, paid_on=paid_on, actor=actor)
        except FulfilmentConflict as conflict:
            order_transition(
                order=order,
                to_status=OrderStatus.ATTENTION,
                actor=actor,
                reason=str(conflict),
                payment=payment,
            )
            return "attention"
        order_transition(order=order, to_status=OrderStatus.PAID, actor=actor, payment=payment)
        # The invoice is the last write: its number is locked only until this commit.
        invoice = invoice_issue(order=order, issued_on=paid_on)
        # The customer's webhooks, in the outbox of the same transaction.
        from api.webhooks import webhooks_order_paid

        webhooks_order_paid(order=order, invoice=invoice)

        def notify():
            from billing.tasks import send_order_email

            send_order_email.delay(order.pk, "paid")

        transaction.on_commit(notify)
        logger.info("order %s paid, invoice %s", order.number, invoice.display_number)
        return "fulfilled"


def order_fulfil(*, order: Order, paid_on: date, actor=None) -> None:
    """Apply every item of the order. Raises FulfilmentConflict, leaving nothing applied
    (the caller runs it in a savepoint)."""
    catalogue = load_catalogue(paid_on)
    tiers = {t.code: t for t in Tier.objects.all()}
    addons = {a.code: a for a in AddOn.objects.all()}
    reason = f"ordine {order.number}"
    for item in order.items.select_related("mailbox").order_by("position"):
        mailbox = Mailbox.objects.select_for_update().select_related("tier").get(pk=item.mailbox_id)
        p = item.params
        if item.kind != ItemKind.NEW_MAILBOX and (
            mailbox.tier.code != p.get("tier_at_order")
            or str(mailbox.expires_on) != p.get("expires_on_at_order")
        ):
            raise FulfilmentConflict(
                f"La casella {mailbox.address} è cambiata dopo l'ordine (tipologia o scadenza)."
            )
        try:
            if item.kind == ItemKind.NEW_MAILBOX:
                if mailbox.status != MailboxStatus.PENDING:
                    raise FulfilmentConflict(f"La casella {mailbox.address} non è più riservata.")
                mailbox = mailbox_activate(
                    mailbox=mailbox, activated_on=paid_on, actor=actor, reason=reason
                )
                mailbox.auto_renew = order.payment_method != PaymentMethod.BANK_TRANSFER
                mailbox.save(update_fields=["auto_renew", "updated_at"])
                provisioning_enqueue(
                    mailbox=mailbox, action="create", payload=quotas_payload(mailbox)
                )
            elif item.kind == ItemKind.ADDON:
                if mailbox.status != MailboxStatus.ACTIVE:
                    raise FulfilmentConflict(f"La casella {mailbox.address} non è più attiva.")
                held = mailbox_holdings(mailbox)
                for code, quantity in p["add"].items():
                    check_holding(catalogue, mailbox.tier.code, code, held.get(code, 0) + quantity)
                for code, quantity in p["add"].items():
                    addon_attach(
                        mailbox=mailbox,
                        addon=addons[code],
                        quantity=quantity,
                        actor=actor,
                        reason=reason,
                    )
                provisioning_enqueue(
                    mailbox=mailbox, action="set_quotas", payload=quotas_payload(mailbox)
                )
            elif item.kind == ItemKind.UPGRADE:
                mailbox_upgrade(
                    mailbox=mailbox,
                    to_tier=tiers[p["to_tier"]],
                    today=paid_on,
                    add={addons[c]: q for c, q in p.get("add", {}).items()},
                    actor=actor,
                    reason=reason,
                )
            elif item.kind == ItemKind.ALIGNMENT:
                mailbox_renew(
                    mailbox=mailbox,
                    years=0,
                    until=date.fromisoformat(p["target"]),
                    today=paid_on,
                    actor=actor,
                    reason=reason,
                )
            elif item.kind == ItemKind.RENEWAL:
                mailbox_renew(
                    mailbox=mailbox,
                    years=p["years"],
                    today=paid_on,
                    to_tier=tiers[p["to_tier"]] if p.get("to_tier") else None,
                    keep={addons[c]: q for c, q in p.get("keep", {}).items()},
                    add={addons[c]: q for c, q in p.get("add", {}).items()},
                    actor=actor,
                    reason=reason,
                )
        except (TransitionError, PricingError) as error:
            raise FulfilmentConflict(f"{mailbox.address}: {error}") from error
    order_event(order=order, kind="fulfilled", actor=actor, paid_on=paid_on.isoformat())


def bank_transfer_register(
    *,
    order: Order,
    amount: Decimal,
    received_on: date,
    bank_reference: str,
    actor=None,
) -> tuple[Payment, str]:
    """Staff register a bank transfer; the same bank reference twice is one payment."""
    bank_reference = bank_reference.strip()
    if not bank_reference:
        raise OrderError(
            "Indica il riferimento bancario (CRO/TRN) del bonifico.", field="bank_reference"
        )
    if amount <= 0:
        raise OrderError("L'importo del bonifico deve essere positivo.", field="amount")
    existing = Payment.objects.filter(bank_reference=bank_reference).first()
    if existing is not None:
        if existing.order_id != order.pk:
            raise OrderError(
                f"Il bonifico {bank_reference} è già registrato sull'ordine {existing.order.number}.",
                field="bank_reference",
            )
        return existing, payment_apply(payment_id=existing.pk, actor=actor)
    try:
        with transaction.atomic():
            payment = Payment.objects.create(
                order=order,
                method=PaymentMethod.BANK_TRANSFER,
                variant=BANK_TRANSFER_VARIANT,
                currency="EUR",
                total=amount,
                captured_amount=amount,
                status=PaymentStatus.CONFIRMED,
                bank_reference=bank_reference,
                transaction_id=bank_reference,
                received_on=received_on,
                registered_by=actor,
                description=f"Bonifico per l'ordine {order.number}",
            )
            order_event(
                order=order,
                kind="bank_transfer_registered",
                payment=payment,
                actor=actor,
                amount=str(amount),
                received_on=received_on.isoformat(),
            )
    except IntegrityError:
        payment = Payment.objects.get(bank_reference=bank_reference)
    return payment, payment_apply(payment_id=payment.pk, paid_on=received_on, actor=actor)
