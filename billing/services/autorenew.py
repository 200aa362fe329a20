"""Automatic renewal: an order for the same term, charged to the saved payment method.

Seven days before the expiry (and every day after a failure, up to the expiry day) the
daily job calls `autorenew_mailbox`. The order's placement key is derived from the mailbox
and its expiry date, so however often the job runs there is one order per expiry. Each day
at most one charge is attempted: the attempt (a Payment row and an order event) is
committed before the gateway is called, and a rerun of the same day resumes that very
payment, whose token is the gateway's idempotency key, instead of charging again.

The gateway is reached through `SavedMethodCharger`: the test gateway's charger is
controlled by tests (`TestSavedMethodCharger.decline`); no real gateway charges saved
methods yet (see `UnavailableSavedMethodCharger`).
"""

import logging
from datetime import date, timedelta
from typing import ClassVar, Protocol

from django.conf import settings
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils.module_loading import import_string
from payments import PaymentStatus

from billing.models import ItemKind, Order, OrderEvent, OrderStatus, Payment, PaymentMethod
from billing.services.items import ItemSpec
from billing.services.orders import OrderError, order_event, order_place
from billing.services.payments import payment_apply, payment_start
from mailboxes.models import Mailbox, MailboxStatus
from mailboxes.terms import GRACE_DAYS
from pecshop.mail import email_build

logger = logging.getLogger(__name__)

AUTORENEW_DAYS = 7
ATTEMPT = "autorenew_attempt"
FAILED = "autorenew_failed"
EMAIL_FAILED = "email_autorenew_failed"


class SavedMethodCharger(Protocol):
    def charge(self, payment: Payment) -> str | None:
        """Charge `payment.total` to the customer's saved method; the gateway's reference
        when it succeeded, None when it was declined. Called again with the same payment
        after a crash: `payment.token` is the idempotency key."""


class TestSavedMethodCharger:
    """The test gateway's saved card: every charge succeeds unless tests say otherwise."""

    decline: ClassVar[bool] = False
    charged: ClassVar[list[int]] = []  # payment ids, for tests to look at

    def charge(self, payment: Payment) -> str | None:
        if type(self).decline:
            return None
        type(self).charged.append(payment.pk)
        return f"saved-{payment.token}"


class UnavailableSavedMethodCharger:
    """Stripe and PayPal keep no saved method for this shop yet: every charge fails, so the
    customer is e-mailed and can pay the renewal order by hand."""

    def charge(self, payment: Payment) -> str | None:
        logger.warning("no saved-method charges on gateway %s", settings.PAYMENT_GATEWAY)
        return None


def saved_method_charger() -> SavedMethodCharger:
    default = {"test": "billing.services.autorenew.TestSavedMethodCharger"}.get(
        settings.PAYMENT_GATEWAY, "billing.services.autorenew.UnavailableSavedMethodCharger"
    )
    return import_string(getattr(settings, "PAYMENT_SAVED_METHOD_CHARGER", default))()


def charge_saved_method(payment: Payment) -> bool:
    """Charge one awaiting payment through the gateway; True when it is confirmed.

    The confirmation is saved without django-payments' signal: the caller applies the
    payment itself, with the day being run rather than the clock's.
    """
    reference = saved_method_charger().charge(payment)
    if reference is None:
        payment.status = PaymentStatus.REJECTED
        payment.message = "Addebito del rinnovo automatico rifiutato."
        payment.save(update_fields=["status", "message"])
        return False
    payment.transaction_id = reference
    payment.captured_amount = payment.total
    payment.status = PaymentStatus.CONFIRMED
    payment.save(update_fields=["transaction_id", "captured_amount", "status"])
    return True


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
    if charge_saved_method(payment):
        outcome = payment_apply(payment_id=payment.pk, paid_on=today)
        return "renewed" if outcome == "fulfilled" else "attention"
    with transaction.atomic():
        order_event(order=order, kind=FAILED, payment=payment, on=today.isoformat())

        def notify():
            from billing.tasks import send_autorenew_failed_email

            send_autorenew_failed_email.delay(order.pk, today.isoformat())

        transaction.on_commit(notify)
    return "failed"


def autorenew_failed_email_send(*, order_id: int, day: str) -> str:
    """The e-mail of a declined automatic renewal: once per order and day."""
    order = Order.objects.select_related("customer__user").get(pk=order_id)
    if OrderEvent.objects.filter(order=order, kind=EMAIL_FAILED, data__on=day).exists():
        return "already sent"
    item = order.items.select_related("mailbox").first()
    try:
        pay_url = settings.SITE_URL + reverse("billing:order_pay", args=[order.number])
    except NoReverseMatch:
        pay_url = settings.SITE_URL
    context = {
        "order": order,
        "mailbox": item.mailbox,
        "expires_on": date.fromisoformat(item.params["expires_on_at_order"]),
        "pay_url": pay_url,
        "grace_days": GRACE_DAYS,
        "site_url": settings.SITE_URL,
    }
    email_build(
        "autorenew_failed",
        context,
        subject=f"Rinnovo automatico non riuscito: {item.mailbox.address}",
        to=[order.customer.email],
    ).send()
    order_event(order=order, kind=EMAIL_FAILED, on=day, to=order.customer.email)
    return "sent"
