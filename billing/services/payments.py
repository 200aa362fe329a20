"""Payments and the fulfilment of paid orders, exactly once.

Every confirmation path (the browser's return, a gateway webhook, a staff registration of a
bank transfer, an automatic renewal's charge) calls `payment_confirm` or `payment_apply`
by name; they lock the order, then the payment, and:

- an order has one live gateway attempt at a time (`payment_start` replaces the previous
  unconfirmed one, cancelling it at the gateway), and every charge-creating call of an
  attempt carries the idempotency key `order-<number>-attempt-<n>`;
- a confirmation is applied once: repeated or concurrent confirmations of the same charge
  find it confirmed under the lock and do nothing;
- a second charge that still reaches us (a different gateway charge for an order already
  paid or cancelled) is recorded on the order and refunded through the gateway
  automatically; staff see it among the order's payments and events. A bank transfer
  cannot be sent back automatically: it is flagged for staff, who refund it to an IBAN.
"""

import logging
from datetime import date, timedelta
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
OPEN_STATUSES = (PaymentStatus.WAITING, PaymentStatus.INPUT)


class FulfilmentConflict(Exception):
    """A paid order that can no longer be applied as placed (e.g. the mailbox was
    cancelled meanwhile). The order goes to staff; nothing of it is applied."""


def attempt_idempotency_key(order: Order, attempt: int) -> str:
    return f"order-{order.number or order.pk}-attempt-{attempt}"


def payment_start(*, order: Order, save_card: bool = False) -> Payment:
    """A new gateway attempt for the order's total, by the order's method (card or PayPal).

    It replaces the order's previous unconfirmed attempt: that one is closed here and
    cancelled at the gateway after commit (where the gateway allows it)."""
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        if order.status != OrderStatus.AWAITING_PAYMENT:
            raise OrderError("Questo ordine non è in attesa di pagamento.")
        if order.payment_method == PaymentMethod.BANK_TRANSFER:
            raise OrderError("Questo ordine si paga con bonifico.")
        replaced = list(
            Payment.objects.select_for_update().filter(order=order, status__in=OPEN_STATUSES)
        )
        for old in replaced:
            Payment.objects.filter(pk=old.pk, status__in=OPEN_STATUSES).update(
                status=PaymentStatus.REJECTED, message="Sostituito da un nuovo tentativo."
            )
            order_event(order=order, kind="payment_replaced", payment=old, attempt=old.attempt)
        attempt = order.payment_attempts + 1
        Order.objects.filter(pk=order.pk).update(payment_attempts=attempt)
        order.payment_attempts = attempt
        holder = order.billing_holder
        payment = Payment.objects.create(
            order=order,
            method=order.payment_method,
            variant=order.payment_method,
            currency="EUR",
            total=order.total,
            tax=order.vat,
            delivery=Decimal("0.00"),
            description=f"Ordine {order.number}",
            billing_first_name=holder.first_name or holder.company_name,
            billing_last_name=holder.last_name,
            billing_address_1=holder.street,
            billing_city=holder.city,
            billing_postcode=holder.postal_code,
            billing_country_code="IT",
            billing_email=order.customer.email,
            attempt=attempt,
            idempotency_key=attempt_idempotency_key(order, attempt),
            save_card=save_card and order.payment_method == PaymentMethod.CARD,
        )
        for old in replaced:
            transaction.on_commit(lambda pk=old.pk: _cancel_at_gateway(pk))
        return payment


def _cancel_at_gateway(payment_id: int) -> None:
    from billing.gateways import GatewayError, gateway_for

    payment = Payment.objects.get(pk=payment_id)
    try:
        gateway_for(payment).cancel_attempt(payment)
    except GatewayError as error:
        # Not fatal: were the old attempt paid anyway, its charge is refunded as a duplicate.
        logger.warning("attempt %s not cancelled at the gateway: %s", payment_id, error)


def payment_current(*, order: Order, save_card: bool | None = None) -> Payment | None:
    """The order's live attempt, started when there is none; None when the order no longer
    awaits payment. Concurrent page loads share one attempt (the order row is locked)."""
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        if order.status != OrderStatus.AWAITING_PAYMENT:
            return None
        live = (
            Payment.objects.filter(order=order, status__in=OPEN_STATUSES)
            .order_by("-attempt", "-pk")
            .first()
        )
        if live is not None and (save_card is None or live.save_card == save_card):
            return live
        return payment_start(order=order, save_card=bool(save_card))


def payment_mark_input(*, payment: Payment) -> None:
    """The payer reached the gateway's form (never moves a confirmed payment back)."""
    if Payment.objects.filter(pk=payment.pk, status=PaymentStatus.WAITING).update(
        status=PaymentStatus.INPUT
    ):
        payment.status = PaymentStatus.INPUT


def payment_reject(*, payment_id: int, message: str, source: str = "") -> bool:
    """A declined or abandoned attempt; a confirmed payment is never moved back."""
    with transaction.atomic():
        changed = Payment.objects.filter(pk=payment_id, status__in=OPEN_STATUSES).update(
            status=PaymentStatus.REJECTED, message=message[:1000]
        )
        if changed:
            payment = Payment.objects.select_related("order").get(pk=payment_id)
            order_event(
                order=payment.order, kind="payment_rejected", payment=payment, source=source
            )
    return bool(changed)


def payment_confirm(
    *,
    payment_id: int,
    reference: str,
    amount: Decimal,
    source: str,
    paid_on: date | None = None,
    actor=None,
) -> str:
    """A gateway says the attempt was charged: record it and fulfil the order, once.

    `reference` is the gateway's charge. The same charge confirmed again (a replayed
    webhook, the browser's return racing the webhook) is "already"; a different charge
    for the same attempt, or any charge for an order no longer awaiting payment, is a
    duplicate and is refunded. Returns payment_apply's outcome, "already" or "duplicate".
    """
    reference = str(reference)[:255]
    with transaction.atomic():
        order_id = Payment.objects.values_list("order_id", flat=True).get(pk=payment_id)
        Order.objects.select_for_update().get(pk=order_id)
        payment = Payment.objects.select_for_update().get(pk=payment_id)
        if payment.status in (PaymentStatus.CONFIRMED, PaymentStatus.REFUNDED):
            if payment.transaction_id == reference:
                if payment.status == PaymentStatus.CONFIRMED and payment.applied_at is None:
                    # Confirmed by a call that died before applying it.
                    return payment_apply(payment_id=payment.pk, paid_on=paid_on, actor=actor)
                return "already"
            return _record_second_charge(payment, reference, amount, source)
        if (
            Payment.objects.filter(variant=payment.variant, transaction_id=reference)
            .exclude(pk=payment.pk)
            .exists()
        ):
            return "already"  # this charge was applied through another attempt row
        Payment.objects.filter(pk=payment.pk).update(
            status=PaymentStatus.CONFIRMED,
            transaction_id=reference,
            captured_amount=amount,
            message="",
        )
        payment.refresh_from_db()
        order_event(
            order=payment.order,
            kind="payment_confirmed",
            payment=payment,
            actor=actor,
            source=source,
            reference=reference,
            amount=str(amount),
        )
        return payment_apply(payment_id=payment.pk, paid_on=paid_on, actor=actor)


def _record_second_charge(payment: Payment, reference: str, amount: Decimal, source: str) -> str:
    """Another charge for an attempt already paid: its own row, refunded after commit."""
    try:
        with transaction.atomic():
            duplicate = Payment.objects.create(
                order=payment.order,
                method=payment.method,
                variant=payment.variant,
                currency=payment.currency,
                total=amount,
                captured_amount=amount,
                status=PaymentStatus.CONFIRMED,
                transaction_id=reference,
                description=f"Secondo addebito per l'ordine {payment.order.number}",
                idempotency_key=f"{payment.idempotency_key}-dup-{reference}"[:80],
            )
    except IntegrityError:
        return "already"  # this second charge is known already
    return _duplicate(duplicate, payment.order, source=source)


def _duplicate(payment: Payment, order: Order, *, source: str = "", actor=None) -> str:
    """A charge the order did not need: recorded, and sent back through the gateway."""
    payment.duplicate = True
    payment.applied_at = timezone.now()
    payment.save(update_fields=["duplicate", "applied_at"])
    order_event(
        order=order,
        kind="duplicate_charge",
        payment=payment,
        actor=actor,
        source=source,
        reference=payment.transaction_id,
        amount=str(payment.captured_amount or payment.total),
    )
    logger.warning("order %s charged twice: payment %s is refunded", order.number, payment.pk)

    # After commit; with the broker down the refunds sweep (`refunds_pending_run`) takes it.
    from billing.tasks import refund_duplicate_payment
    from pecshop.celery import enqueue_on_commit

    enqueue_on_commit(refund_duplicate_payment, payment.pk)
    return "duplicate"


def payment_refund_duplicate(*, payment_id: int) -> str:
    """Refund a duplicate charge through its gateway, once (the refund carries a key
    derived from the charge). A failure leaves the payment flagged for staff."""
    from billing.gateways import GatewayError, gateway_for

    payment = Payment.objects.select_related("order").get(pk=payment_id)
    if not payment.duplicate:
        return "not_duplicate"
    if payment.refunded_at is not None:
        return "already"
    amount = payment.captured_amount or payment.total
    try:
        refund_id = gateway_for(payment).refund_payment(
            payment, amount=amount, idempotency_key=f"refund-{payment.transaction_id}"[:80]
        )
    except GatewayError as error:
        with transaction.atomic():
            _flag(
                payment,
                payment.order,
                f"Addebito doppio: rimborso automatico non riuscito ({error}). Da rimborsare.",
            )
        return "flagged"
    with transaction.atomic():
        done = Payment.objects.filter(pk=payment.pk, refunded_at__isnull=True).update(
            status=PaymentStatus.REFUNDED,
            refund_reference=refund_id,
            refunded_at=timezone.now(),
            review_note="Addebito doppio rimborsato automaticamente.",
        )
        if done:
            order_event(
                order=payment.order,
                kind="duplicate_refunded",
                payment=payment,
                refund=refund_id,
                amount=str(amount),
            )
    return "refunded" if done else "already"


def refunds_pending_run(*, older_than: timedelta = timedelta(minutes=5)) -> dict[str, int]:
    """The sweep of the refunds owed to customers that the after-commit task did not do (a
    broker that was down, a worker that died): duplicate charges and withdrawals refunded
    through the gateway. Each refund is keyed, so one already done is not done again; a
    refund the gateway refused stays with staff (flagged), it is not retried here."""
    from billing.services.withdrawals import withdrawal_refund_run
    from billing.withdrawal_models import RefundMethod, RefundStatus, Withdrawal

    before = timezone.now() - older_than
    counts = {"duplicates": 0, "withdrawals": 0}
    duplicates = Payment.objects.filter(
        duplicate=True, refunded_at__isnull=True, needs_review=False, applied_at__lt=before
    ).values_list("pk", flat=True)
    for payment_id in list(duplicates[:200]):
        if payment_refund_duplicate(payment_id=payment_id) == "refunded":
            counts["duplicates"] += 1
    withdrawals = Withdrawal.objects.filter(
        refund_method=RefundMethod.GATEWAY,
        refund_status=RefundStatus.PENDING,
        refund_error="",
        withdrawn_at__lt=before,
    ).values_list("pk", flat=True)
    for withdrawal_id in list(withdrawals[:200]):
        if withdrawal_refund_run(withdrawal_id=withdrawal_id) == "done":
            counts["withdrawals"] += 1
    return counts


def _flag(payment: Payment, order: Order, note: str, actor=None) -> str:
    payment.needs_review = True
    payment.review_note = note
    payment.save(update_fields=["needs_review", "review_note"])
    order_event(order=order, kind="payment_flagged", payment=payment, actor=actor, reason=note)
    logger.warning("payment %s flagged: %s", payment.pk, note)
    return "flagged"


def payment_apply(*, payment_id: int, paid_on: date | None = None, actor=None) -> str:
    """Apply a confirmed payment to its order and fulfil it, at most once.

    Returns what happened: "fulfilled", "already" (applied before), "duplicate" (a gateway
    charge for an order already paid or cancelled: refunded automatically), "flagged"
    (staff must look: wrong amount, a second bank transfer), "attention" (paid but could
    not be applied), or "not_confirmed".
    """
    with transaction.atomic():
        order_id = Payment.objects.values_list("order_id", flat=True).get(pk=payment_id)
        order = Order.objects.select_for_update().get(pk=order_id)
        payment = Payment.objects.select_for_update().get(pk=payment_id)
        if payment.applied_at is not None or payment.needs_review:
            return "already"
        if payment.status != PaymentStatus.CONFIRMED:
            return "not_confirmed"
        amount = payment.captured_amount or payment.total
        if order.status in (
            OrderStatus.PAID,
            OrderStatus.REFUNDED,
            OrderStatus.ATTENTION,
            OrderStatus.CANCELLED,
        ):
            if payment.method != PaymentMethod.BANK_TRANSFER:
                return _duplicate(payment, order, actor=actor)
            if order.status == OrderStatus.CANCELLED:
                note = "Pagamento per un ordine annullato: da rimborsare."
            else:
                note = "Secondo pagamento per un ordine già pagato: da rimborsare."
            return _flag(payment, order, note, actor)
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

        from billing.services.emails import order_email_queue

        order_email_queue(order=order, kind="paid")
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
                    mailbox=mailbox,
                    activated_on=paid_on,
                    auto_renew=order.payment_method != PaymentMethod.BANK_TRANSFER,
                    actor=actor,
                    reason=reason,
                )
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
