"""Gateway payments, webhooks and bank transfers: each applied exactly once."""

import json
from datetime import date
from decimal import Decimal as D

import pytest
from payments import PaymentStatus

from billing.models import Invoice, OrderStatus, Payment
from billing.payments import SIGNATURE_HEADER, sign
from billing.services.orders import OrderError
from billing.services.payments import bank_transfer_register, payment_start
from mailboxes.models import Mailbox, MailboxStatus
from tests.billing.test_orders import new_mailbox

pytestmark = pytest.mark.django_db


@pytest.fixture
def card_order(alice, order_for):
    return order_for(new_mailbox(alice), method="card")


def webhook(client, payment, event: dict, secret=None):
    body = json.dumps(event).encode()
    return client.post(
        f"/pagamenti/process/{payment.token}/",
        data=body,
        content_type="application/json",
        **{SIGNATURE_HEADER: sign(body, secret)},
    )


def test_the_test_gateway_page_pays_the_order(client, alice, card_order):
    client.force_login(alice.user)
    page = client.get(f"/ordini/{card_order.number}/paga/")
    assert page.status_code == 200
    assert "Pagamento di prova" in page.content.decode()
    response = client.post(f"/ordini/{card_order.number}/paga/", {"outcome": "success"})
    assert response.status_code == 302
    assert response["Location"].endswith(f"/ordini/{card_order.number}/")
    card_order.refresh_from_db()
    assert card_order.status == OrderStatus.PAID
    assert Mailbox.objects.get().status == MailboxStatus.ACTIVE
    done = client.get(response["Location"])
    assert "Pagamento ricevuto" in done.content.decode()


def test_a_failed_card_payment_leaves_the_order_payable(client, alice, card_order):
    client.force_login(alice.user)
    client.get(f"/ordini/{card_order.number}/paga/")
    response = client.post(f"/ordini/{card_order.number}/paga/", {"outcome": "failure"})
    assert response["Location"].endswith("/pagamento-non-riuscito/")
    card_order.refresh_from_db()
    assert card_order.status == OrderStatus.AWAITING_PAYMENT
    page = client.get(response["Location"]).content.decode()
    assert "non è andato a buon fine" in page
    # a new attempt gets a new payment and succeeds
    client.get(f"/ordini/{card_order.number}/paga/")
    client.post(f"/ordini/{card_order.number}/paga/", {"outcome": "success"})
    card_order.refresh_from_db()
    assert card_order.status == OrderStatus.PAID


def test_another_customers_order_is_a_404(client, bob, card_order):
    client.force_login(bob.user)
    assert client.get(f"/ordini/{card_order.number}/").status_code == 404
    assert client.get(f"/ordini/{card_order.number}/paga/").status_code == 404


def test_a_signed_webhook_confirms_the_payment_once_even_when_delivered_twice(client, card_order):
    payment = payment_start(order=card_order)
    event = {"status": "confirmed", "transaction_id": "gw-123", "amount": str(card_order.total)}
    assert webhook(client, payment, event).status_code == 200
    assert webhook(client, payment, event).status_code == 200
    card_order.refresh_from_db()
    assert card_order.status == OrderStatus.PAID
    assert Invoice.objects.count() == 1
    assert card_order.events.filter(kind="fulfilled").count() == 1


def test_a_webhook_with_a_bad_signature_is_refused_and_changes_nothing(client, card_order):
    payment = payment_start(order=card_order)
    response = webhook(
        client, payment, {"status": "confirmed", "transaction_id": "x"}, secret="wrong"
    )
    assert response.status_code == 403
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.WAITING
    card_order.refresh_from_db()
    assert card_order.status == OrderStatus.AWAITING_PAYMENT


def test_a_webhook_for_an_unknown_payment_is_a_404(client):
    body = b'{"status": "confirmed", "transaction_id": "x"}'
    response = client.post(
        "/pagamenti/process/00000000-0000-0000-0000-000000000000/",
        data=body,
        content_type="application/json",
        **{SIGNATURE_HEADER: sign(body)},
    )
    assert response.status_code == 404


def test_a_malformed_webhook_is_a_400(client, card_order):
    payment = payment_start(order=card_order)
    assert webhook(client, payment, {"status": "maybe", "transaction_id": "x"}).status_code == 400
    assert webhook(client, payment, {"transaction_id": "x"}).status_code == 400


def test_a_webhook_for_a_different_amount_is_flagged_for_staff(client, card_order):
    payment = payment_start(order=card_order)
    webhook(client, payment, {"status": "confirmed", "transaction_id": "gw-9", "amount": "1.00"})
    payment.refresh_from_db()
    assert payment.needs_review
    card_order.refresh_from_db()
    assert card_order.status == OrderStatus.AWAITING_PAYMENT


def test_one_gateway_reference_cannot_pay_twice(card_order):
    from django.db import IntegrityError, transaction

    first = payment_start(order=card_order)
    first.transaction_id = "gw-1"
    first.save()
    second = payment_start(order=card_order)
    second.transaction_id = "gw-1"
    with pytest.raises(IntegrityError), transaction.atomic():
        second.save()


def test_a_bank_transfer_registered_twice_fulfils_the_order_once(alice, order_for, admin_user):
    order = order_for(new_mailbox(alice), method="bank_transfer")
    for _ in range(2):
        payment, outcome = bank_transfer_register(
            order=order,
            amount=order.total,
            received_on=date(2026, 12, 1),
            bank_reference="CRO-0001",
            actor=admin_user,
        )
    assert Payment.objects.count() == 1
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    mailbox = Mailbox.objects.get()
    assert mailbox.activated_on == date(2026, 12, 1)  # the date the money arrived
    assert mailbox.auto_renew is False  # automatic renewal needs a card or PayPal
    assert Invoice.objects.get().issued_on == date(2026, 12, 1)
    assert payment.registered_by == admin_user


def test_a_bank_transfer_of_the_wrong_amount_is_flagged(alice, order_for):
    order = order_for(new_mailbox(alice), method="bank_transfer")
    payment, outcome = bank_transfer_register(
        order=order, amount=D("10.00"), received_on=date(2026, 12, 1), bank_reference="CRO-2"
    )
    assert outcome == "flagged"
    assert "diverso" in Payment.objects.get().review_note
    order.refresh_from_db()
    assert order.status == OrderStatus.AWAITING_PAYMENT


@pytest.mark.parametrize(
    ("amount", "reference", "message"),
    [(D("0"), "CRO-3", "positivo"), (D("10"), "  ", "riferimento bancario")],
)
def test_a_bank_transfer_needs_an_amount_and_a_reference(
    alice, order_for, amount, reference, message
):
    order = order_for(new_mailbox(alice), method="bank_transfer")
    with pytest.raises(OrderError, match=message):
        bank_transfer_register(
            order=order, amount=amount, received_on=date(2026, 12, 1), bank_reference=reference
        )


def test_a_bank_reference_already_used_on_another_order_is_refused(alice, order_for):
    first = order_for(new_mailbox(alice, local_part="prima"), method="bank_transfer")
    second = order_for(new_mailbox(alice, local_part="seconda"), method="bank_transfer")
    bank_transfer_register(
        order=first, amount=first.total, received_on=date(2026, 12, 1), bank_reference="CRO-7"
    )
    with pytest.raises(OrderError, match="già registrato"):
        bank_transfer_register(
            order=second, amount=second.total, received_on=date(2026, 12, 1), bank_reference="CRO-7"
        )
