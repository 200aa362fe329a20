"""Stripe contract tests at the HTTP edge: the project's request building and signature
verification run for real; only Stripe's answers are recorded (no network)."""

import json
from datetime import date, timedelta

import pytest
from django.core import mail
from payments import PaymentStatus

from billing import stripe_gateway
from billing.models import GatewayEvent, Invoice, Order, OrderStatus, Payment, SavedCard
from billing.services.autorenew import autorenew_mailbox
from billing.services.payments import payment_confirm, payment_refund_duplicate, payment_start
from tests.billing.stripe_fake import WEBHOOK_SECRET, RecordedStripe, event, signature_header
from tests.billing.test_orders import new_mailbox

pytestmark = pytest.mark.django_db

STRIPE_VARIANTS = {
    "card": (
        "billing.stripe_gateway.StripeProvider",
        {"api_key": "sk_test_contract", "endpoint_secret": WEBHOOK_SECRET},
    ),
    "paypal": ("billing.payments.TestGatewayProvider", {}),
}


@pytest.fixture
def recorded(settings):
    from payments.core import PROVIDER_CACHE

    settings.PAYMENT_GATEWAY = "stripe"
    settings.PAYMENT_VARIANTS = STRIPE_VARIANTS
    PROVIDER_CACHE.clear()
    fake = RecordedStripe()
    stripe_gateway.HTTP_CLIENT = fake
    yield fake
    stripe_gateway.HTTP_CLIENT = None
    PROVIDER_CACHE.clear()


@pytest.fixture
def card_order(alice, order_for, recorded):
    order = order_for(new_mailbox(alice), method="card")
    recorded.substitutions.update({"NUMBER": order.number, "3038": str(int(order.total * 100))})
    return order


def test_the_checkout_session_is_created_in_cents_eur_with_the_order_number_and_a_key(
    client, alice, card_order, recorded
):
    recorded.answer("POST", "/v1/customers", "customer_created.json")
    recorded.answer("POST", "/v1/checkout/sessions", "checkout_session_created.json")
    client.force_login(alice.user)
    assert "Salva la carta" in client.get(f"/ordini/{card_order.number}/paga/").content.decode()

    response = client.post(f"/ordini/{card_order.number}/paga/", {"save_card": "on"})

    assert response.status_code == 302
    assert response["Location"] == "https://checkout.stripe.com/c/pay/cs_test_a1B2c3"
    payment = Payment.objects.get(order=card_order, status=PaymentStatus.INPUT)
    (session,) = recorded.sent("POST", "/v1/checkout/sessions")
    assert session["line_items[0][price_data][unit_amount]"] == str(int(card_order.total * 100))
    assert session["line_items[0][price_data][currency]"] == "eur"
    assert session["metadata[order_number]"] == card_order.number
    assert session["payment_intent_data[metadata][order_number]"] == card_order.number
    assert session["payment_intent_data[setup_future_usage]"] == "off_session"
    assert session["customer"] == "cus_Q1w2E3"
    assert session["client_reference_id"] == payment.token
    assert session["headers"]["Idempotency-Key"] == (
        f"order-{card_order.number}-attempt-{payment.attempt}-session"
    )
    (customer,) = recorded.sent("POST", "/v1/customers")
    assert customer["headers"]["Idempotency-Key"] == f"customer-{alice.pk}"
    payment.refresh_from_db()
    assert payment.gateway_reference == "cs_test_a1B2c3"


def test_without_consent_no_card_is_saved_and_no_customer_is_created(
    client, alice, card_order, recorded
):
    recorded.answer("POST", "/v1/checkout/sessions", "checkout_session_created.json")
    client.force_login(alice.user)
    client.post(f"/ordini/{card_order.number}/paga/", {})
    (session,) = recorded.sent("POST", "/v1/checkout/sessions")
    assert "payment_intent_data[setup_future_usage]" not in session
    assert session["customer_email"] == alice.email
    assert not recorded.sent("POST", "/v1/customers")


def test_the_browser_return_confirms_the_paid_session_and_saves_the_card(
    client, alice, card_order, recorded
):
    payment = payment_start(order=card_order, save_card=True)
    recorded.substitutions["TOKEN"] = payment.token
    recorded.answer("GET", "/v1/checkout/sessions/cs_test_a1B2c3", "checkout_session_paid.json")

    response = client.get(f"/pagamenti/process/{payment.token}/?session_id=cs_test_a1B2c3")

    assert response.status_code == 302
    assert response["Location"].endswith(f"/ordini/{card_order.number}/")
    card_order.refresh_from_db()
    assert card_order.status == OrderStatus.PAID
    payment.refresh_from_db()
    assert (payment.transaction_id, payment.captured_amount) == ("pi_3Pq1Aa", card_order.total)
    card = SavedCard.objects.get(customer=alice)
    assert (card.brand, card.last4, card.expires_label, card.is_default) == (
        "Visa",
        "4242",
        "08/2029",
        True,
    )
    assert (card.gateway_customer, card.gateway_method) == ("cus_Q1w2E3", "pm_1Card")


def paid_session(payment, order):
    return {
        "id": "cs_test_a1B2c3",
        "object": "checkout.session",
        "client_reference_id": payment.token,
        "payment_status": "paid",
        "amount_total": int(order.total * 100),
        "currency": "eur",
        "payment_intent": "pi_3Pq1Aa",
        "metadata": {"order_number": order.number, "payment_token": payment.token},
    }


def post_event(client, body: bytes, signature: str):
    return client.post(
        "/pagamenti/stripe/webhook/",
        data=body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signature,
    )


def test_a_signed_webhook_is_applied_once_and_its_replay_changes_nothing(
    client, card_order, recorded
):
    payment = payment_start(order=card_order)
    body = event("evt_1Paid", "checkout.session.completed", paid_session(payment, card_order))

    first = post_event(client, body, signature_header(body))
    again = post_event(client, body, signature_header(body))

    assert (first.status_code, first.json()["outcome"]) == (200, "fulfilled")
    assert (again.status_code, again.json()["outcome"]) == (200, "already")
    card_order.refresh_from_db()
    assert card_order.status == OrderStatus.PAID
    assert Invoice.objects.filter(order=card_order).count() == 1
    assert GatewayEvent.objects.get(event_id="evt_1Paid").outcome == "fulfilled"


@pytest.mark.parametrize(
    "signature",
    [
        "t=1,v1=deadbeef",
        "",
        "garbage",
        signature_header(b"{}", secret="whsec_someone_else"),
    ],
    # Named, not shown: the last one holds the time of collection, which parallel workers
    # must agree on.
    ids=["old-and-wrong", "empty", "garbage", "another-secret"],
)
def test_a_webhook_with_a_bad_signature_gets_400_and_changes_nothing(
    client, card_order, recorded, signature
):
    payment = payment_start(order=card_order)
    body = event("evt_1Forged", "checkout.session.completed", paid_session(payment, card_order))
    if signature.startswith("t=") and "v1=" in signature and signature != "t=1,v1=deadbeef":
        signature = signature_header(body, secret="whsec_someone_else")

    response = post_event(client, body, signature)

    assert response.status_code == 400
    card_order.refresh_from_db()
    payment.refresh_from_db()
    assert card_order.status == OrderStatus.AWAITING_PAYMENT
    assert payment.status == PaymentStatus.WAITING
    assert not GatewayEvent.objects.exists()


def test_an_old_signature_is_refused_as_a_replay(client, card_order, recorded):
    payment = payment_start(order=card_order)
    body = event("evt_1Old", "checkout.session.completed", paid_session(payment, card_order))
    response = post_event(client, body, signature_header(body, at=1_000_000_000))
    assert response.status_code == 400


def test_unknown_events_are_acknowledged_and_ignored(client, recorded):
    body = event("evt_1Other", "customer.updated", {"id": "cus_1", "object": "customer"})
    response = post_event(client, body, signature_header(body))
    assert (response.status_code, response.json()["outcome"]) == (200, "ignored")


def test_a_failed_intent_rejects_the_attempt_and_a_dispute_flags_the_order(
    client, card_order, recorded
):
    payment = payment_start(order=card_order)
    failed = event(
        "evt_1Fail",
        "payment_intent.payment_failed",
        {
            "id": "pi_3Fail",
            "object": "payment_intent",
            "metadata": {"payment_token": payment.token},
            "last_payment_error": {"message": "Your card was declined."},
        },
    )
    assert post_event(client, failed, signature_header(failed)).json()["outcome"] == "rejected"
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REJECTED

    paid = payment_start(order=card_order)
    payment_confirm(payment_id=paid.pk, reference="pi_3Pq1Aa", amount=card_order.total, source="t")
    dispute = event(
        "evt_1Dispute",
        "charge.dispute.created",
        {
            "id": "dp_1",
            "object": "dispute",
            "payment_intent": "pi_3Pq1Aa",
            "amount": 100,
            "reason": "fraudulent",
        },
    )
    assert post_event(client, dispute, signature_header(dispute)).json()["outcome"] == "flagged"
    card_order.refresh_from_db()
    paid.refresh_from_db()
    assert card_order.disputed_at is not None
    assert paid.needs_review and "fraudulent" in paid.review_note
    assert card_order.events.filter(kind="disputed").count() == 1


# --- off-session charges of a saved card --------------------------------------------------


@pytest.fixture
def due_mailbox(alice, make_mailbox, recorded):
    from mailboxes.models import Mailbox

    mailbox = make_mailbox(activated_on=date(2026, 5, 25))
    Mailbox.objects.filter(pk=mailbox.pk).update(auto_renew=True)
    SavedCard.objects.create(
        customer=alice,
        gateway="stripe",
        gateway_customer="cus_Q1w2E3",
        gateway_method="pm_1Card",
        brand="Visa",
        last4="4242",
        exp_month=8,
        exp_year=2029,
        is_default=True,
    )
    mailbox.refresh_from_db()
    return mailbox


def renew(mailbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return autorenew_mailbox(
            mailbox_id=mailbox.pk, today=mailbox.expires_on - timedelta(days=7)
        )


def test_an_off_session_charge_that_succeeds_renews_the_mailbox(
    due_mailbox, recorded, django_capture_on_commit_callbacks
):
    recorded.answer("POST", "/v1/payment_intents", "payment_intent_succeeded.json")

    assert renew(due_mailbox, django_capture_on_commit_callbacks) == "renewed"

    (charge,) = recorded.sent("POST", "/v1/payment_intents")
    order = Order.objects.get(placement_key__startswith="auto-")
    assert charge["amount"] == str(int(order.total * 100))
    assert (charge["currency"], charge["off_session"], charge["confirm"]) == ("eur", "true", "true")
    assert (charge["customer"], charge["payment_method"]) == ("cus_Q1w2E3", "pm_1Card")
    assert charge["metadata[order_number]"] == order.number
    assert charge["headers"]["Idempotency-Key"] == (
        f"autorenew-{due_mailbox.pk}-{due_mailbox.expires_on.isoformat()}-attempt-1"
    )
    assert order.status == OrderStatus.PAID
    assert Payment.objects.get(order=order).transaction_id == "pi_3Off5e"
    # the job runs again the same day: nothing is charged twice
    assert renew(due_mailbox, django_capture_on_commit_callbacks) == "not_due"
    assert len(recorded.sent("POST", "/v1/payment_intents")) == 1


def test_a_declined_off_session_charge_mails_the_customer_and_leaves_the_order_payable(
    due_mailbox, recorded, django_capture_on_commit_callbacks
):
    recorded.answer("POST", "/v1/payment_intents", "card_declined.json", status=402)

    assert renew(due_mailbox, django_capture_on_commit_callbacks) == "failed"

    order = Order.objects.get(placement_key__startswith="auto-")
    assert order.status == OrderStatus.AWAITING_PAYMENT
    assert Payment.objects.get(order=order).status == PaymentStatus.REJECTED
    (message,) = [m for m in mail.outbox if m.subject.startswith("Rinnovo automatico")]
    assert message.subject.startswith("Rinnovo automatico non riuscito")
    assert "Riproveremo ogni giorno" in message.body
    assert "Riproveremo ogni giorno" in message.alternatives[0][0]


def test_an_off_session_charge_needing_3d_secure_mails_a_link_to_pay_on_session(
    due_mailbox, recorded, django_capture_on_commit_callbacks
):
    recorded.answer("POST", "/v1/payment_intents", "authentication_required.json", status=402)

    assert renew(due_mailbox, django_capture_on_commit_callbacks) == "auth_required"

    order = Order.objects.get(placement_key__startswith="auto-")
    assert order.status == OrderStatus.AWAITING_PAYMENT
    (message,) = [m for m in mail.outbox if m.subject.startswith("Rinnovo automatico")]
    assert "conferma il pagamento" in message.subject
    assert f"/ordini/{order.number}/paga/" in message.body
    assert "3-D Secure" in message.body
    html = message.alternatives[0][0]  # the HTML part says the same
    assert "3-D Secure" in html and "Riproveremo ogni giorno" not in html
    assert f"/ordini/{order.number}/paga/" in html


# --- refunds ------------------------------------------------------------------------------


def test_a_duplicate_charge_is_refunded_on_the_original_charge(
    card_order, recorded, django_capture_on_commit_callbacks
):
    recorded.answer("POST", "/v1/refunds", "refund_created.json")
    first = payment_start(order=card_order)
    payment_confirm(payment_id=first.pk, reference="pi_first", amount=card_order.total, source="t")

    with django_capture_on_commit_callbacks(execute=True):
        outcome = payment_confirm(
            payment_id=first.pk, reference="pi_3Pq1Aa", amount=card_order.total, source="webhook"
        )

    assert outcome == "duplicate"
    (refund,) = recorded.sent("POST", "/v1/refunds")
    assert refund["payment_intent"] == "pi_3Pq1Aa"
    assert refund["amount"] == str(int(card_order.total * 100))
    assert refund["headers"]["Idempotency-Key"] == "refund-pi_3Pq1Aa"
    duplicate = Payment.objects.get(transaction_id="pi_3Pq1Aa")
    assert (duplicate.status, duplicate.refund_reference) == (PaymentStatus.REFUNDED, "re_3Rf1Aa")
    assert payment_refund_duplicate(payment_id=duplicate.pk) == "already"
    assert len(recorded.sent("POST", "/v1/refunds")) == 1
    card_order.refresh_from_db()
    assert card_order.status == OrderStatus.PAID
    assert Invoice.objects.filter(order=card_order).count() == 1


def test_with_dummy_keys_every_payment_variant_is_built(recorded):
    from django.core.checks import run_checks

    assert list(run_checks(tags=["payments"])) == []


def test_a_variant_that_cannot_be_built_fails_the_check(settings):
    from django.core.checks import run_checks
    from payments.core import PROVIDER_CACHE

    settings.PAYMENT_VARIANTS = {"card": ("billing.stripe_gateway.StripeProvider", {})}
    PROVIDER_CACHE.clear()
    try:
        errors = run_checks(tags=["payments"])
    finally:
        PROVIDER_CACHE.clear()
    assert [e.id for e in errors] == ["billing.E001"]
    assert json.dumps(errors[0].msg).count("card") == 1


def test_a_staff_refund_goes_to_stripe_on_the_original_charge_and_records_its_id(
    card_order, recorded, admin_user
):
    from billing.services.refunds import order_refund

    recorded.answer("POST", "/v1/refunds", "refund_created.json")
    payment = payment_start(order=card_order)
    payment_confirm(
        payment_id=payment.pk, reference="pi_3Pq1Aa", amount=card_order.total, source="webhook"
    )

    result = order_refund(
        order=card_order, actor=admin_user, reason="recesso", today=date(2026, 12, 1)
    )

    (refund,) = recorded.sent("POST", "/v1/refunds")
    assert refund["payment_intent"] == "pi_3Pq1Aa"
    assert refund["amount"] == str(int(card_order.total * 100))
    assert refund["headers"]["Idempotency-Key"].startswith("refund-pi_3Pq1Aa-")
    assert result.gateway_refund == "re_3Rf1Aa"
    payment.refresh_from_db()
    assert (payment.status, payment.refund_reference) == (PaymentStatus.REFUNDED, "re_3Rf1Aa")
    event = card_order.events.get(kind="gateway_refunded")
    assert event.data["refund"] == "re_3Rf1Aa"


def test_a_refund_stripe_refuses_records_nothing(card_order, recorded, admin_user):
    from billing.services.orders import OrderError
    from billing.services.refunds import order_refund

    recorded.answer("POST", "/v1/refunds", "card_declined.json", status=402)
    payment = payment_start(order=card_order)
    payment_confirm(
        payment_id=payment.pk, reference="pi_3Pq1Aa", amount=card_order.total, source="webhook"
    )
    with pytest.raises(OrderError, match="gateway"):
        order_refund(order=card_order, actor=admin_user, reason="recesso", today=date(2026, 12, 1))
    card_order.refresh_from_db()
    assert card_order.status == OrderStatus.PAID
    assert not card_order.invoices.filter(kind="credit_note").exists()


def test_a_card_is_saved_from_the_area_clienti_through_a_stripe_setup_session(
    client, alice, recorded
):
    recorded.substitutions["CUSTOMER"] = str(alice.pk)
    recorded.answer("POST", "/v1/customers", "customer_created.json")
    recorded.answer("POST", "/v1/checkout/sessions", "setup_session_created.json")
    recorded.answer("GET", "/v1/checkout/sessions/cs_test_setup1", "setup_session_complete.json")
    client.force_login(alice.user)

    refused = client.post("/area-clienti/metodi-di-pagamento/aggiungi/", {})
    assert refused.status_code == 302 and not recorded.requests  # no consent, no call
    response = client.post("/area-clienti/metodi-di-pagamento/aggiungi/", {"consent": "on"})

    assert response["Location"] == "https://checkout.stripe.com/c/pay/cs_test_setup1"
    (session,) = recorded.sent("POST", "/v1/checkout/sessions")
    assert (session["mode"], session["customer"]) == ("setup", "cus_Q1w2E3")
    assert session["headers"]["Idempotency-Key"].startswith("setup-")
    client.get("/area-clienti/metodi-di-pagamento/salvata/?session_id=cs_test_setup1")
    card = SavedCard.objects.get(customer=alice)
    assert (card.brand, card.last4, card.expires_label) == ("Mastercard", "4444", "03/2030")
    assert card.gateway_method == "pm_1Saved"


def test_removing_a_stripe_card_detaches_it_at_stripe(client, alice, recorded):
    recorded.answer("POST", "/v1/payment_methods/pm_1Card/detach", "customer_created.json")
    card = SavedCard.objects.create(
        customer=alice,
        gateway="stripe",
        gateway_customer="cus_Q1w2E3",
        gateway_method="pm_1Card",
        brand="Visa",
        last4="4242",
        exp_month=8,
        exp_year=2029,
        is_default=True,
    )
    client.force_login(alice.user)
    client.post(f"/area-clienti/metodi-di-pagamento/{card.pk}/rimuovi/")
    assert len(recorded.sent("POST", "/v1/payment_methods/pm_1Card/detach")) == 1
    card.refresh_from_db()
    assert card.removed_at is not None


def test_a_new_attempt_replaces_the_open_one_and_expires_its_session_at_stripe(
    card_order, recorded, django_capture_on_commit_callbacks
):
    recorded.answer(
        "POST", "/v1/checkout/sessions/cs_test_a1B2c3/expire", "checkout_session_expired.json"
    )
    first = payment_start(order=card_order)
    Payment.objects.filter(pk=first.pk).update(gateway_reference="cs_test_a1B2c3")

    with django_capture_on_commit_callbacks(execute=True):
        second = payment_start(order=card_order, save_card=True)

    assert len(recorded.sent("POST", "/v1/checkout/sessions/cs_test_a1B2c3/expire")) == 1
    first.refresh_from_db()
    assert first.status == PaymentStatus.REJECTED
    assert (first.attempt, second.attempt) == (1, 2)
    assert second.idempotency_key == f"order-{card_order.number}-attempt-2"
    assert card_order.events.filter(kind="payment_replaced", payment=first).count() == 1


def test_a_withdrawal_is_refunded_by_stripe_on_the_original_charge_once(
    card_order, recorded, django_capture_on_commit_callbacks
):
    from django.utils import timezone

    from billing.services.withdrawals import order_withdraw, withdrawal_refund_run
    from billing.withdrawal_models import RefundStatus

    recorded.answer("POST", "/v1/refunds", "refund_created.json")
    payment = payment_start(order=card_order)
    payment_confirm(
        payment_id=payment.pk, reference="pi_3Pq1Aa", amount=card_order.total, source="webhook"
    )
    with django_capture_on_commit_callbacks(execute=True):
        withdrawal = order_withdraw(order=card_order, now=timezone.now())
    withdrawal_refund_run(withdrawal_id=withdrawal.pk)  # a retry changes nothing

    (refund,) = recorded.sent("POST", "/v1/refunds")
    assert refund["payment_intent"] == "pi_3Pq1Aa"
    assert refund["amount"] == str(int(card_order.total * 100))  # same day: all of it
    assert refund["headers"]["Idempotency-Key"] == f"withdrawal-{card_order.number}"
    withdrawal.refresh_from_db()
    assert (withdrawal.refund_status, withdrawal.refund_reference) == (
        RefundStatus.DONE,
        "re_3Rf1Aa",
    )
