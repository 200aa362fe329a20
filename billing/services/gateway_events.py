"""Gateway webhook events, each applied at most once.

The event's id is recorded (`GatewayEvent`, unique per gateway) in the transaction that
applies it: a replayed event, or the same event delivered five times at once, waits on the
first one's row and then finds it there. One named handler per event type; unknown types
are acknowledged and ignored.
"""

import logging
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from billing.models import GatewayEvent, Order, Payment
from billing.services.orders import order_event
from billing.services.payments import payment_confirm, payment_reject

logger = logging.getLogger(__name__)


def _cents(value) -> Decimal:
    return (Decimal(int(value)) / 100).quantize(Decimal("0.01"))


def _payment_of(obj: dict) -> Payment | None:
    """The payment an intent, a session, a charge or a dispute belongs to."""
    metadata = obj.get("metadata") or {}
    token = metadata.get("payment_token") or obj.get("client_reference_id")
    if isinstance(token, str) and token:
        payment = Payment.objects.filter(token=token).first()
        if payment is not None:
            return payment
    intent = obj.get("payment_intent")
    if isinstance(intent, dict):
        intent = intent.get("id")
    if obj.get("object") == "payment_intent":
        intent = obj.get("id")
    if isinstance(intent, str) and intent:
        return Payment.objects.filter(variant="card", transaction_id=intent).first()
    return None


def _on_checkout_completed(obj: dict) -> tuple[str, Payment | None]:
    payment = _payment_of(obj)
    if payment is None:
        return "unknown_payment", None
    if obj.get("payment_status") != "paid":
        return "not_paid", payment
    intent = obj.get("payment_intent")
    reference = intent.get("id") if isinstance(intent, dict) else str(intent or "")
    outcome = payment_confirm(
        payment_id=payment.pk,
        reference=reference,
        amount=_cents(obj.get("amount_total", 0)),
        source="webhook",
    )
    return outcome, payment


def _on_intent_succeeded(obj: dict) -> tuple[str, Payment | None]:
    payment = _payment_of(obj)
    if payment is None:
        return "unknown_payment", None
    outcome = payment_confirm(
        payment_id=payment.pk,
        reference=obj["id"],
        amount=_cents(obj.get("amount_received", obj.get("amount", 0))),
        source="webhook",
    )
    return outcome, payment


def _on_intent_failed(obj: dict) -> tuple[str, Payment | None]:
    payment = _payment_of(obj)
    if payment is None:
        return "unknown_payment", None
    error = obj.get("last_payment_error") or {}
    message = error.get("message") or "Pagamento rifiutato dal circuito."
    changed = payment_reject(payment_id=payment.pk, message=str(message), source="webhook")
    return ("rejected" if changed else "already"), payment


def _on_charge_refunded(obj: dict) -> tuple[str, Payment | None]:
    payment = _payment_of(obj)
    if payment is None:
        return "unknown_payment", None
    refunds = (obj.get("refunds") or {}).get("data") or []
    order_event(
        order=payment.order,
        kind="gateway_refund",
        payment=payment,
        amount=str(_cents(obj.get("amount_refunded", 0))),
        refunds=[r.get("id") for r in refunds if isinstance(r, dict)],
    )
    return "recorded", payment


def _on_dispute_created(obj: dict) -> tuple[str, Payment | None]:
    payment = _payment_of(obj)
    if payment is None:
        return "unknown_payment", None
    order = Order.objects.select_for_update().get(pk=payment.order_id)
    if order.disputed_at is None:
        Order.objects.filter(pk=order.pk).update(disputed_at=timezone.now())
    reason = str(obj.get("reason") or "")
    note = f"Contestazione aperta presso il circuito ({reason or 'motivo non indicato'})."
    Payment.objects.filter(pk=payment.pk).update(needs_review=True, review_note=note)
    order_event(
        order=order,
        kind="disputed",
        payment=payment,
        dispute=str(obj.get("id", "")),
        reason=note,
        amount=str(_cents(obj.get("amount", 0))),
    )
    return "flagged", payment


STRIPE_HANDLERS = {
    "checkout.session.completed": _on_checkout_completed,
    "checkout.session.async_payment_succeeded": _on_checkout_completed,
    "payment_intent.succeeded": _on_intent_succeeded,
    "payment_intent.payment_failed": _on_intent_failed,
    "charge.refunded": _on_charge_refunded,
    "charge.dispute.created": _on_dispute_created,
}


def stripe_event_apply(*, event: dict) -> str:
    """Apply one verified Stripe event, once. Returns the outcome ("already" for a
    replay, "ignored" for a type the shop does not use)."""
    event_id = str(event["id"])[:255]
    kind = str(event.get("type", ""))[:100]
    handler = STRIPE_HANDLERS.get(kind)
    obj = ((event.get("data") or {}).get("object")) or {}
    try:
        with transaction.atomic():
            record = GatewayEvent.objects.create(gateway="stripe", event_id=event_id, kind=kind)
            if handler is None or not isinstance(obj, dict):
                outcome, payment = "ignored", None
            else:
                outcome, payment = handler(obj)
            record.outcome = outcome[:40]
            record.payment = payment
            record.save(update_fields=["outcome", "payment"])
    except IntegrityError:
        if GatewayEvent.objects.filter(gateway="stripe", event_id=event_id).exists():
            return "already"
        raise
    if kind == "checkout.session.completed" and payment is not None and outcome == "fulfilled":
        _save_card_after(payment, obj)
    logger.info("stripe event %s (%s): %s", event_id, kind, outcome)
    return outcome


def _save_card_after(payment: Payment, session: dict) -> None:
    """A session that saved the card: its details are read from Stripe after commit."""
    if not payment.save_card:
        return
    import stripe

    from billing.gateways import GatewayError, gateway_for
    from billing.stripe_gateway import StripeProvider, plain, save_card_of_intent

    try:
        gateway = gateway_for(payment)
        if not isinstance(gateway, StripeProvider):
            return
        intent = session.get("payment_intent")
        intent_id = intent.get("id") if isinstance(intent, dict) else intent
        intent = plain(
            gateway.client().v1.payment_intents.retrieve(
                str(intent_id), params={"expand": ["payment_method"]}
            )
        )
        save_card_of_intent(payment, intent)
    except (GatewayError, stripe.StripeError, KeyError, TypeError, ValueError) as error:
        # The payment stands; only the card is not saved (the customer can add it later).
        logger.warning("card of payment %s not saved: %s", payment.pk, error)
