"""Every payment URL answers any input without a server error."""

import json

import pytest

from billing.payments import SIGNATURE_HEADER, sign
from billing.services.payments import payment_start
from tests.billing.test_orders import new_mailbox

pytestmark = pytest.mark.django_db

AMOUNTS = ["NaN", "nan", "Infinity", "-1", "0", "1e400", "9" * 40, "12.345", "", None, [], {}]


def bodies(token: str):
    yield b""
    yield b"{"
    yield b"not json at all"
    yield b"[]"
    yield b"null"
    yield json.dumps({"status": "confirmed"}).encode()
    yield json.dumps({"token": token}).encode()
    yield json.dumps({"token": ["x"], "status": 1}).encode()
    for amount in AMOUNTS:
        yield json.dumps(
            {"token": token, "status": "confirmed", "transaction_id": "t", "amount": amount}
        ).encode()


@pytest.fixture
def payment(alice, order_for):
    return payment_start(order=order_for(new_mailbox(alice), method="card"))


def urls(payment):
    return [
        "/pagamenti/process/card/",
        "/pagamenti/process/paypal/",
        "/pagamenti/process/bank-transfer/",
        "/pagamenti/process/sconosciuto/",
        f"/pagamenti/process/{payment.token}/",
        "/pagamenti/process/00000000-0000-0000-0000-000000000000/",
        "/pagamenti/stripe/webhook/",
        f"/ordini/{payment.order.number}/paga/",
    ]


def test_every_payment_url_answers_any_input_without_a_server_error(client, alice, payment):
    client.raise_request_exception = False
    client.force_login(alice.user)
    answers = []
    for url in urls(payment):
        answers.append((url, "GET", client.get(url).status_code))
        answers.append((url, "GET?", client.get(url + "?session_id=cs_x&token=1").status_code))
        for body in bodies(payment.token):
            for signed in (False, True):
                headers = {SIGNATURE_HEADER: sign(body)} if signed else {}
                status = client.post(
                    url, data=body, content_type="application/json", **headers
                ).status_code
                answers.append((url, body[:40], status))
        form = client.post(url, {"outcome": "success", "amount": "NaN"}).status_code
        answers.append((url, "form", form))
    assert [a for a in answers if a[2] >= 500] == []


def test_a_signed_webhook_with_an_absurd_amount_is_refused_and_changes_nothing(client, payment):
    for amount in ["NaN", "9" * 40, "-5", "1e400", "0.001"]:
        body = json.dumps(
            {"status": "confirmed", "transaction_id": "t-1", "amount": amount}
        ).encode()
        response = client.post(
            f"/pagamenti/process/{payment.token}/",
            data=body,
            content_type="application/json",
            **{SIGNATURE_HEADER: sign(body)},
        )
        assert response.status_code == 400, amount
    payment.refresh_from_db()
    assert payment.status == "waiting"
