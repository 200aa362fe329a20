"""Automatic renewal: an order for the same term, charged to the saved payment method.

Seven days before the expiry (and every day after a failure, up to the expiry day) the
daily job calls `autorenew_mailbox`. The order's placement key is derived from the mailbox
and its expiry date, so however often the job runs there is one order per expiry. Each day
at most one charge is attempted: the attempt (a Payment row and an order event) is
committed before the gateway is called, and a rerun of the same day resumes that very
payment, whose token is the gateway's idempotency key, instead of charging again.

The charge runs off-session on the customer's saved card (the one chosen for the automatic
renewals, see `billing.services.saved_cards`) through the card gateway's
`charge_saved_card`, with the idempotency key `autorenew-<mailbox>-<expiry>-attempt-<n>`.
Outcomes: success -> the order is paid, fulfilled and invoiced (`payment_confirm`); decline
-> an e-mail and a retry on the next day of the schedule; authentication required (3-D
Secure) -> an e-mail with the link to pay the order on-session. No saved card (or a PayPal
customer) -> the declined e-mail with the link: PayPal renewals are paid from the e-mail.
"""

import logging
from datetime import date, timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from payments import PaymentStatus

from billing.gateways import ChargeResult, GatewayError, gateway_for
from billing.models import ItemKind, Order, OrderEvent, OrderStatus, Payment, PaymentMethod
from billing.payments import TestCardOutcomes
from billing.services.items import ItemSpec
from billing.services.orders import OrderError, order_event, order_place
from billing.services.payments import payment_apply, payment_confirm, payment_reject, payment_start
from billing.services.saved_cards import default_card
from mailboxes.models import Mailbox, MailboxStatus
from mailboxes.terms import GRACE_DAYS
from outbox.services import email_enqueue
from pecshop.mail import email_build

logger = logging.getLogger(__name__)

AUTORENEW_DAYS = 7
ATTEMPT = "autorenew_attempt"
FAILED = "autorenew_failed"
EMAIL_FAILED = "email_autorenew_failed"


# The test gateway's saved-card answers (tests set `decline` / `authentication_required`).
TestSavedMethodCharger = TestCardOutcomes

AUTH_REQUIRED = "autorenew_auth_required"
EMAIL_AUTH = "email_autorenew_auth"


def autorenew_idempotency_key(mailbox: Mailbox, payment: Payment) -> str:
    return f"autorenew-{mailbox.pk}-{mailbox.expires_on.isoformat()}-attempt-{payment.attempt}"


def charge_saved_method(payment: Payment, mailbox: Mailbox) -> ChargeResult:
    """Charge one awaiting payment to the customer's saved card, off-session."""
    if payment.method != PaymentMethod.CARD:
        return ChargeResult("declined", message="PayPal: il rinnovo si paga dal promemoria.")
    card = default_card(payment.order.customer)
    if card is None:
        return ChargeResult("declined", message="Nessuna carta salvata per i rinnovi.")
    Payment.objects.filter(pk=payment.pk).update(saved_card=card)
    try:
        return gateway_for(payment).charge_saved_card(
            payment, card, idempotency_key=autorenew_idempotency_key(mailbox, payment)
        )
    except GatewayError as error:
        logger.warning("automatic renewal charge of payment %s failed: %s", payment.pk, error)
        return ChargeResult("declined", message=str(error))


def autorenew_is_due(mailbox: Mailbox, today: date) -> bool:
    return (
        mailbox.status == MailboxStatus.ACTIVE
        and mailbox.auto_renew
        and not mailbox.cancel_at_expiry
        and today <= mailbox.expires_on <= today + timedelta(days=AUTORENEW_DAYS)
    )


def autorenew_placement_key(mailbox: Mailbox) -> str:
    return f"auto-{mailbox.pk}-{mailbox.expires_on.isoformat()}"


def _saved_method(mailbox: Mailbox) -> str:
    """The method of the last card or PayPal order paid for the mailbox (card by default)."""
    method = (
        Order.objects.filter(items__mailbox=mailbox, status=OrderStatus.PAID)
        .exclude(payment_method=PaymentMethod.BANK_TRANSFER)
        .order_by("-paid_at", "-pk")
        .values_list("payment_method", flat=True)
        .first()
    )
    return method or PaymentMethod.CARD


def autorenew_order(*, mailbox: Mailbox, today: date) -> Order:
    """The renewal order of this expiry: placed the first time, found again afterwards."""
    key = autorenew_placement_key(mailbox)
    existing = Order.objects.filter(customer_id=mailbox.customer_id, placement_key=key).first()
    if existing is not None:
        return existing
    return order_place(
        customer=mailbox.customer,
        items=[ItemSpec(ItemKind.RENEWAL, {"years": mailbox.term_years}, mailbox.pk)],
        payment_method=_saved_method(mailbox),
        placement_key=key,
        today=today,
    )


def _attempt_of_the_day(order: Order, today: date) -> Payment | None:
    """Lock the order and return today's payment attempt, creating it (committed with its
    event before any charge) when there is none. None: nothing to charge any more."""
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        if order.status != OrderStatus.AWAITING_PAYMENT:
            return None
        attempt = OrderEvent.objects.filter(order=order, kind=ATTEMPT, data__on=today.isoformat())
        payment_id = attempt.values_list("payment_id", flat=True).first()
        if payment_id is not None:
            return Payment.objects.get(pk=payment_id)
        payment = payment_start(order=order)
        order_event(order=order, kind=ATTEMPT, payment=payment, on=today.isoformat())
        return payment


def autorenew_mailbox(*, mailbox_id: int, today: date) -> str:
    """Renew one mailbox automatically if it is due. Returns what happened: "renewed",
    "failed" (declined: the customer is e-mailed), "done" (attempted already today, or
    its order is no longer awaiting payment), "refused" (the order cannot be placed),
    "attention" (charged, but the renewal could not be applied) or "not_due"."""
    mailbox = Mailbox.objects.select_related("customer").get(pk=mailbox_id)
    if not autorenew_is_due(mailbox, today):
        return "not_due"
    try:
        order = autorenew_order(mailbox=mailbox, today=today)
    except OrderError as error:
        logger.warning("automatic renewal of %s refused: %s", mailbox.address, error.message)
        return "refused"
    payment = _attempt_of_the_day(order, today)
    if payment is None or payment.status in (PaymentStatus.REJECTED, PaymentStatus.CONFIRMED):
        if payment is not None and payment.status == PaymentStatus.CONFIRMED:
            # Confirmed by a run that died before applying it: apply it now (at most once).
            payment_apply(payment_id=payment.pk, paid_on=today)
        return "done"
    # The gateway is called outside any transaction: its answer is saved right after.
    result = charge_saved_method(payment, mailbox)
    if result.status == "succeeded":
        outcome = payment_confirm(
            payment_id=payment.pk,
            reference=result.reference,
            amount=payment.total,
            source="autorenew",
            paid_on=today,
        )
        return "renewed" if outcome == "fulfilled" else "attention"
    payment_reject(
        payment_id=payment.pk,
        message=result.message or "Addebito del rinnovo automatico rifiutato.",
        source="autorenew",
    )
    kind = AUTH_REQUIRED if result.status == "authentication_required" else FAILED
    with transaction.atomic():
        order_event(order=order, kind=kind, payment=payment, on=today.isoformat())
        autorenew_failed_email_queue(order=order, day=today.isoformat())
    return "auth_required" if kind == AUTH_REQUIRED else "failed"


def autorenew_failed_email_render(*, order: Order, day: str) -> EmailMessage:
    """The e-mail of a declined automatic renewal, or of one that needs the customer to
    confirm the payment with 3-D Secure."""
    item = order.items.select_related("mailbox").first()
    auth_required = OrderEvent.objects.filter(
        order=order, kind=AUTH_REQUIRED, data__on=day
    ).exists()
    try:
        pay_url = settings.SITE_URL + reverse("billing:order_pay", args=[order.number])
    except NoReverseMatch:
        pay_url = settings.SITE_URL
    context = {
        "order": order,
        "mailbox": item.mailbox,
        "expires_on": date.fromisoformat(item.params["expires_on_at_order"]),
        "pay_url": pay_url,
        "auth_required": auth_required,
        "paypal": order.payment_method == PaymentMethod.PAYPAL,
        "grace_days": GRACE_DAYS,
        "site_url": settings.SITE_URL,
    }
    subject = (
        f"Rinnovo automatico: conferma il pagamento di {item.mailbox.address}"
        if auth_required
        else f"Rinnovo automatico non riuscito: {item.mailbox.address}"
    )
    return email_build(
        "autorenew_failed",
        context,
        subject=subject,
        to=[order.customer.email],
    )


def autorenew_failed_email_queue(*, order: Order, day: str) -> bool:
    """The e-mail of a declined automatic renewal, to the outbox in the caller's
    transaction: once per order and day."""
    if OrderEvent.objects.filter(order=order, kind=EMAIL_FAILED, data__on=day).exists():
        return False
    email = email_enqueue(
        message=autorenew_failed_email_render(order=order, day=day),
        key=f"order:{order.pk}:autorenew_failed:{day}",
    )
    if email is None:
        return False
    order_event(order=order, kind=EMAIL_FAILED, on=day, to=order.customer.email)
    return True


def autorenew_failed_email_send(*, order_id: int, day: str) -> str:
    """For a caller outside a transaction (an older queued task): queue it now, once."""
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        queued = autorenew_failed_email_queue(order=order, day=day)
    return "sent" if queued else "already sent"
