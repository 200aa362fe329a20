"""The same Idempotency-Key sent 10 times at once gives one order (PostgreSQL, in CI)."""

import uuid
from datetime import date

import pytest
from django.db import connection
from django.test import Client

from api.models import IdempotencyKey
from billing.models import Order
from tests.billing.test_concurrency import run_at_once

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers are only meaningful on PostgreSQL (CI runs this there)")
    from tests.conftest import ensure_catalogue

    ensure_catalogue()


@pytest.mark.parametrize("operation", ["addon", "alignment"])
def test_the_same_key_sent_ten_times_at_once_gives_one_order(
    alice, make_mailbox, make_token, operation
):
    mailbox = make_mailbox("studio@pec.it", "pro", activated_on=date(2026, 5, 25))
    _, raw = make_token(alice, "buy")
    key = uuid.uuid4().hex
    body = (
        {"mailbox_id": mailbox.pk, "add": {"CONSERVAZIONE": 5}}
        if operation == "addon"
        else {"mailbox_ids": [mailbox.pk], "target": "2027-12-31"}
    )

    def send():
        response = Client().post(
            f"/api/v1/orders/{operation}",
            body,
            content_type="application/json",
            headers={"Authorization": f"Bearer {raw}", "Idempotency-Key": key},
        )
        return response.status_code, response.json()["number"]

    answers = run_at_once([send] * 10)
    assert Order.objects.count() == 1
    assert {number for _, number in answers} == {Order.objects.get().number}
    statuses = [status for status, _ in answers]
    assert set(statuses) <= {200, 201} and statuses.count(201) <= 1
    assert IdempotencyKey.objects.get().key == key


def test_ten_orders_at_once_asking_for_the_saved_card_charge_it_once(
    alice, make_mailbox, make_token, saved_card
):
    mailbox = make_mailbox("studio@pec.it", "pro", activated_on=date(2026, 5, 25))
    _, raw = make_token(alice, "buy")
    key = uuid.uuid4().hex
    body = {"mailbox_id": mailbox.pk, "add": {"CONSERVAZIONE": 5}, "pay_with_saved_card": True}

    def send():
        response = Client().post(
            "/api/v1/orders/addon",
            body,
            content_type="application/json",
            headers={"Authorization": f"Bearer {raw}", "Idempotency-Key": key},
        )
        return response.status_code

    statuses = run_at_once([send] * 10)
    assert set(statuses) <= {200, 201} and statuses.count(201) <= 1
    order = Order.objects.get()
    assert order.status == "paid"
    assert len(saved_card.charged) == 1
    assert order.payments.filter(status="confirmed").count() == 1
