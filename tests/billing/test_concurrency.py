"""Fulfilment and invoice numbering under real concurrency (PostgreSQL, in CI)."""

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
from django.db import connection, connections
from payments import PaymentStatus

from billing.models import Invoice, OrderEvent, OrderStatus
from billing.services.payments import payment_apply, payment_start
from mailboxes.models import MailboxEvent
from tests.billing.test_orders import new_mailbox

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("row locks are only meaningful on PostgreSQL (CI runs this there)")
    from tests.conftest import ensure_catalogue

    ensure_catalogue()


def confirmed_payment(order, reference):
    payment = payment_start(order=order)
    payment.transaction_id = reference
    payment.captured_amount = order.total
    payment.status = PaymentStatus.CONFIRMED
    payment.save()
    return payment


def run_at_once(functions):
    barrier = threading.Barrier(len(functions))

    def call(function):
        try:
            barrier.wait(timeout=30)
            return function()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=len(functions)) as pool:
        return list(pool.map(call, functions))


def test_twenty_confirmations_at_once_fulfil_the_order_once(alice, order_for):
    order = order_for(new_mailbox(alice, addons={"CONSERVAZIONE": 5}))
    payment = confirmed_payment(order, "gw-race")

    outcomes = run_at_once(
        [lambda: payment_apply(payment_id=payment.pk, paid_on=date(2026, 11, 25))] * 20
    )

    assert Counter(outcomes) == {"fulfilled": 1, "already": 19}
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert Invoice.objects.filter(order=order).count() == 1
    assert OrderEvent.objects.filter(order=order, kind="fulfilled").count() == 1
    assert MailboxEvent.objects.filter(kind="status", to_status="active").count() == 1


def test_fifty_orders_paid_at_once_get_invoice_numbers_1_to_50(alice, order_for):
    payments = []
    for n in range(50):
        order = order_for(new_mailbox(alice, local_part=f"parallela{n:02d}"))
        payments.append(confirmed_payment(order, f"gw-{n}"))

    outcomes = run_at_once(
        [(lambda p=p: payment_apply(payment_id=p.pk, paid_on=date(2026, 11, 25))) for p in payments]
    )

    assert outcomes == ["fulfilled"] * 50
    numbers = sorted(Invoice.objects.filter(year=2026).values_list("number", flat=True))
    assert numbers == list(range(1, 51))


def test_twenty_browser_returns_and_signed_webhooks_at_once_charge_and_fulfil_once(
    alice, order_for
):
    import json

    from django.test import Client

    from billing.models import Payment
    from billing.payments import SIGNATURE_HEADER, sign

    order = order_for(new_mailbox(alice, local_part="corsa"))
    opener = Client()
    opener.force_login(alice.user)
    assert opener.get(f"/ordini/{order.number}/paga/").status_code == 200
    payment = Payment.objects.get(order=order)
    body = json.dumps(
        {
            "status": "confirmed",
            "transaction_id": f"test-{payment.token}",
            "amount": str(order.total),
        }
    ).encode()

    def browser_return():
        client = Client()
        client.force_login(alice.user)
        return client.post(f"/ordini/{order.number}/paga/", {"outcome": "success"}).status_code

    def webhook():
        return (
            Client()
            .post(
                f"/pagamenti/process/{payment.token}/",
                data=body,
                content_type="application/json",
                **{SIGNATURE_HEADER: sign(body)},
            )
            .status_code
        )

    statuses = run_at_once([browser_return, webhook] * 10)

    assert all(status < 500 for status in statuses), statuses
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    captured = Payment.objects.filter(order=order, status=PaymentStatus.CONFIRMED)
    assert captured.count() == 1
    assert not Payment.objects.filter(order=order, needs_review=True).exists()
    assert not Payment.objects.filter(order=order, duplicate=True).exists()
    assert OrderEvent.objects.filter(order=order, kind="fulfilled").count() == 1
    assert Invoice.objects.filter(order=order).count() == 1


def test_the_same_stripe_event_replayed_five_times_at_once_has_one_effect(alice, order_for):
    from django.conf import settings
    from django.test import Client
    from payments.core import PROVIDER_CACHE

    from billing import stripe_gateway
    from billing.models import GatewayEvent
    from tests.billing.stripe_fake import WEBHOOK_SECRET, RecordedStripe, event, signature_header
    from tests.billing.test_stripe_contract import STRIPE_VARIANTS

    old = settings.PAYMENT_VARIANTS
    settings.PAYMENT_VARIANTS = STRIPE_VARIANTS
    PROVIDER_CACHE.clear()
    stripe_gateway.HTTP_CLIENT = RecordedStripe()
    try:
        order = order_for(new_mailbox(alice, local_part="replay"))
        payment = payment_start(order=order)
        body = event(
            "evt_1Replay",
            "checkout.session.completed",
            {
                "id": "cs_test_replay",
                "object": "checkout.session",
                "client_reference_id": payment.token,
                "payment_status": "paid",
                "amount_total": int(order.total * 100),
                "payment_intent": "pi_replay",
                "metadata": {"payment_token": payment.token},
            },
        )
        signature = signature_header(body, secret=WEBHOOK_SECRET)

        def deliver():
            response = Client().post(
                "/pagamenti/stripe/webhook/",
                data=body,
                content_type="application/json",
                HTTP_STRIPE_SIGNATURE=signature,
            )
            return response.status_code, response.json()["outcome"]

        results = run_at_once([deliver] * 5)
    finally:
        settings.PAYMENT_VARIANTS = old
        PROVIDER_CACHE.clear()
        stripe_gateway.HTTP_CLIENT = None

    assert Counter(results) == {(200, "fulfilled"): 1, (200, "already"): 4}
    assert GatewayEvent.objects.filter(event_id="evt_1Replay").count() == 1
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert OrderEvent.objects.filter(order=order, kind="fulfilled").count() == 1
    assert Invoice.objects.filter(order=order).count() == 1
