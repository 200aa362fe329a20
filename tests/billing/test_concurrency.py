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
