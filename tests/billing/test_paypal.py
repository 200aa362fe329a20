"""PayPal through django-payments, at the HTTP edge (requests answered with recorded
PayPal REST responses): a one-off payment is executed on the payer's return and the order
is fulfilled once."""

import json

import pytest
import requests

from billing.models import Invoice, OrderStatus
from billing.services.payments import payment_start
from tests.billing.test_orders import new_mailbox

pytestmark = pytest.mark.django_db

PAYPAL_VARIANTS = {
    "card": ("billing.payments.TestGatewayProvider", {}),
    "paypal": (
        "billing.paypal_gateway.PayPalProvider",
        {"client_id": "ci", "secret": "ci", "endpoint": "https://api.sandbox.paypal.com"},
    ),
}
TOKEN = {"access_token": "A21AA", "token_type": "Bearer", "expires_in": 32400}


class Answer:
    def __init__(self, data, status=200):
        self.data, self.status_code = data, status

    def json(self):
        return self.data

    def raise_for_status(self):
        if self.status_code >= 400:
            raise requests.HTTPError(str(self.status_code))


@pytest.fixture
def paypal(settings, monkeypatch):
    from payments.core import PROVIDER_CACHE

    settings.PAYMENT_VARIANTS = PAYPAL_VARIANTS
    PROVIDER_CACHE.clear()
    calls = []

    def post(url, **kwargs):
        calls.append(("POST", url, kwargs.get("data")))
        return Answer(TOKEN)

    def request(method, url, **kwargs):
        calls.append((method.upper(), url, kwargs.get("data"), kwargs.get("headers", {})))
        if url.endswith("/v1/payments/payment"):
            return Answer(
                {
                    "id": "PAYID-1",
                    "state": "created",
                    "links": [
                        {"rel": "approval_url", "href": "https://www.sandbox.paypal.com/x"},
                        {
                            "rel": "execute",
                            "href": "https://api.sandbox.paypal.com/v1/payments/payment/PAYID-1/execute",
                        },
                    ],
                }
            )
        if url.endswith("/execute"):
            return Answer(
                {
                    "id": "PAYID-1",
                    "state": "approved",
                    "payer": {"payer_info": {"email": "alice@example.it"}},
                    "transactions": [
                        {
                            "related_resources": [
                                {
                                    "sale": {
                                        "id": "SALE-1",
                                        "links": [
                                            {
                                                "rel": "refund",
                                                "href": "https://api.sandbox.paypal.com/v1/payments/sale/SALE-1/refund",
                                            }
                                        ],
                                    }
                                }
                            ]
                        }
                    ],
                }
            )
        if url.endswith("/refund"):
            if json.loads(kwargs["data"])["amount"]["total"] == "999.00":
                return Answer({"name": "REFUND_EXCEEDED_TRANSACTION_AMOUNT"}, status=422)
            return Answer({"id": "REFUND-1", "amount": {"total": "1.00", "currency": "EUR"}})
        raise AssertionError(url)

    monkeypatch.setattr("payments.paypal.requests.post", post)
    monkeypatch.setattr("payments.paypal.requests.request", request)
    yield calls
    PROVIDER_CACHE.clear()


def test_a_paypal_order_is_paid_on_the_payers_return_once(client, alice, order_for, paypal):
    order = order_for(new_mailbox(alice), method="paypal")
    client.force_login(alice.user)
    page = client.get(f"/ordini/{order.number}/paga/").content.decode()
    assert "Salva la carta" not in page  # PayPal keeps no card for the shop
    response = client.post(f"/ordini/{order.number}/paga/", {"go": "1"})
    assert response["Location"] == "https://www.sandbox.paypal.com/x"
    created = [c for c in paypal if c[1].endswith("/v1/payments/payment")]
    amount = json.loads(created[0][2])["transactions"][0]["amount"]
    assert (amount["currency"], amount["total"]) == ("EUR", str(order.total))
    payment = order.payments.get()

    back = f"/pagamenti/process/{payment.token}/?token=EC-1&PayerID=PAYER1"
    assert client.get(back)["Location"].endswith(f"/ordini/{order.number}/")
    assert client.get(back)["Location"].endswith(f"/ordini/{order.number}/")

    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert len([c for c in paypal if c[1].endswith("/execute")]) == 1
    assert Invoice.objects.filter(order=order).count() == 1
    assert order.events.filter(kind="fulfilled").count() == 1


def test_a_paypal_payer_who_cancels_leaves_the_order_payable(client, alice, order_for, paypal):
    order = order_for(new_mailbox(alice), method="paypal")
    payment = payment_start(order=order)
    response = client.get(f"/pagamenti/process/{payment.token}/?token=EC-1")
    assert response["Location"].endswith("/pagamento-non-riuscito/")
    order.refresh_from_db()
    assert order.status == OrderStatus.AWAITING_PAYMENT


def test_a_paypal_duplicate_charge_paypal_cannot_refund_is_flagged_for_staff(
    client, alice, order_for, paypal, django_capture_on_commit_callbacks
):
    from billing.services.payments import payment_confirm

    order = order_for(new_mailbox(alice), method="paypal")
    client.force_login(alice.user)
    client.post(f"/ordini/{order.number}/paga/", {"go": "1"})
    payment = order.payments.get()
    client.get(f"/pagamenti/process/{payment.token}/?token=EC-1&PayerID=PAYER1")
    with django_capture_on_commit_callbacks(execute=True):
        outcome = payment_confirm(
            payment_id=payment.pk, reference="PAYID-2", amount=order.total, source="webhook"
        )
    assert outcome == "duplicate"
    duplicate = order.payments.get(transaction_id="PAYID-2")
    # A charge known only by its id carries no PayPal refund link: staff refund it by hand.
    assert duplicate.needs_review and "rimborso automatico non riuscito" in duplicate.review_note


def test_a_paypal_refund_carries_its_idempotency_key_and_a_refusal_leaves_the_payment_paid(
    client, alice, order_for, paypal
):
    from decimal import Decimal

    from payments import PaymentStatus

    from billing.gateways import GatewayError, gateway_for

    order = order_for(new_mailbox(alice), method="paypal")
    client.force_login(alice.user)
    client.post(f"/ordini/{order.number}/paga/", {"go": "1"})
    payment = order.payments.get()
    client.get(f"/pagamenti/process/{payment.token}/?token=EC-1&PayerID=PAYER1")
    payment.refresh_from_db()
    gateway = gateway_for(payment)

    for _ in range(2):  # asked again after a timeout: the same request id
        assert (
            gateway.refund_payment(payment, amount=Decimal("1.00"), idempotency_key="withdrawal-X")
            == "REFUND-1"
        )
    refunds = [c for c in paypal if c[1].endswith("/refund")]
    assert [c[3]["PayPal-Request-Id"] for c in refunds] == ["withdrawal-X", "withdrawal-X"]
    assert json.loads(refunds[0][2])["amount"] == {"currency": "EUR", "total": "1.00"}

    with pytest.raises(GatewayError, match="422"):
        gateway.refund_payment(payment, amount=Decimal("999.00"), idempotency_key="too-much")
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.CONFIRMED
