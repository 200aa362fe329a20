"""An API order charged at once to the account's saved card (`pay_with_saved_card`): paid
and invoiced in the answer, charged once whatever the repeats, refused before any order
when the account has no saved card, left payable from its link when the card is declined."""

import pytest

from billing.models import Order
from mailboxes.models import MailboxAddOn
from tests.api.conftest import TODAY

ADD = {"add": {"CONSERVAZIONE": 5}, "pay_with_saved_card": True}


def test_an_order_charged_to_the_saved_card_answers_paid_once(
    alice, make_token, api_client, studio, saved_card
):
    _, raw = make_token(alice, "buy")
    body = {"mailbox_id": studio.pk, **ADD}
    response = api_client(raw).post("/orders/addon", body, key="carta-1")
    assert response.status_code == 201, response.content
    data = response.json()
    order = Order.objects.get()
    assert (data["number"], data["status"], data["total"]) == (order.number, "paid", "12.20")
    assert data["saved_card_charge"] == {
        "status": "charged",
        "card": "Visa •••• 4242",
        "message": data["saved_card_charge"]["message"],
    }
    assert data["payment_url"] is None
    assert [i["kind"] for i in data["invoices"]] == ["invoice"]
    assert MailboxAddOn.objects.get(mailbox=studio, addon__code="CONSERVAZIONE").quantity == 5
    # The same request again: the same paid order, and no second charge.
    again = api_client(raw).post("/orders/addon", body, key="carta-1")
    assert again.status_code == 200 and again.json()["status"] == "paid"
    assert len(saved_card.charged) == 1 and Order.objects.count() == 1


def test_a_declined_card_leaves_the_order_payable_from_its_link(
    alice, make_token, api_client, studio, saved_card
):
    saved_card.decline = True
    _, raw = make_token(alice, "buy")
    response = api_client(raw).post(
        "/orders/addon", {"mailbox_id": studio.pk, **ADD}, key="carta-rifiutata"
    )
    assert response.status_code == 201
    data = response.json()
    assert data["status"] == "awaiting"
    assert data["saved_card_charge"]["status"] == "declined"
    assert data["saved_card_charge"]["message"] == "Carta rifiutata (prova)."
    assert data["payment_url"].endswith(f"/ordini/{data['number']}/paga/")
    assert data["invoices"] == []


def test_without_a_saved_card_no_order_is_placed(alice, make_token, api_client, studio):
    _, raw = make_token(alice, "buy")
    response = api_client(raw).post(
        "/orders/addon", {"mailbox_id": studio.pk, **ADD}, key="senza-carta"
    )
    assert response.status_code == 400
    assert response.json()["field"] == "pay_with_saved_card"
    assert "Nessuna carta salvata" in response.json()["error"]
    assert not Order.objects.exists()


def test_only_a_card_order_goes_on_the_saved_card(
    alice, make_token, api_client, studio, saved_card
):
    _, raw = make_token(alice, "buy")
    response = api_client(raw).post(
        "/orders/addon",
        {"mailbox_id": studio.pk, **ADD, "payment_method": "bank_transfer"},
        key="bonifico",
    )
    assert response.status_code == 400 and response.json()["field"] == "payment_method"
    assert not Order.objects.exists()


def test_an_order_without_the_flag_is_not_charged(
    alice, make_token, api_client, studio, saved_card
):
    _, raw = make_token(alice, "buy")
    response = api_client(raw).post(
        "/orders/addon", {"mailbox_id": studio.pk, "add": {"CONSERVAZIONE": 5}}, key="link"
    )
    assert response.json()["status"] == "awaiting"
    assert response.json()["saved_card_charge"] is None
    assert saved_card.charged == []


def test_a_card_removed_after_the_check_leaves_the_placed_order_payable(
    alice, order_for, studio, saved_card
):
    from billing.services.items import ItemSpec
    from billing.services.saved_card_charge import order_charge_saved_card
    from billing.services.saved_cards import saved_cards_of

    order = order_for(ItemSpec("addon", {"add": {"CONSERVAZIONE": 5}}, studio.pk))
    saved_cards_of(alice).update(removed_at="2026-11-25T10:00:00Z")
    assert order_charge_saved_card(order=order, today=TODAY) is None
    order.refresh_from_db()
    assert order.status == "awaiting" and saved_card.charged == []
    assert not order.payments.exists()


def test_an_order_no_longer_awaiting_payment_is_not_charged(alice, order_for, studio, saved_card):
    from billing.services.items import ItemSpec
    from billing.services.saved_card_charge import order_charge_saved_card

    order = order_for(ItemSpec("addon", {"add": {"CONSERVAZIONE": 5}}, studio.pk))
    assert order_charge_saved_card(order=order, today=TODAY).status == "succeeded"
    order.refresh_from_db()
    assert order.status == "paid"
    assert order_charge_saved_card(order=order, today=TODAY) is None
    assert len(saved_card.charged) == 1


def test_the_request_that_records_the_key_charges_even_if_another_placed_the_order(
    alice, make_token, api_client, studio, saved_card, monkeypatch
):
    """Requests with the same key race: one places the order, another, finding it already
    there, records the key first. The one that records the key charges, so the order is
    charged exactly once (the race once left it unpaid, nobody charging). A retry after a
    request that died between placing and recording behaves the same way."""
    from api import services

    _, raw = make_token(alice, "buy")
    body = {"mailbox_id": studio.pk, **ADD}
    real_create = services.IdempotencyKey.objects.create
    calls = []

    def dies_before_recording(**kwargs):
        calls.append(kwargs)
        if len(calls) == 1:
            raise RuntimeError("the process died")
        return real_create(**kwargs)

    monkeypatch.setattr(services.IdempotencyKey.objects, "create", dies_before_recording)
    with pytest.raises(RuntimeError, match="died"):
        api_client(raw).post("/orders/addon", body, key="carta-2")
    order = Order.objects.get()
    assert order.status == "awaiting" and saved_card.charged == []  # placed, not charged

    retry = api_client(raw).post("/orders/addon", body, key="carta-2")
    assert retry.status_code == 201, retry.content
    assert retry.json()["status"] == "paid" and retry.json()["number"] == order.number
    assert len(saved_card.charged) == 1
    again = api_client(raw).post("/orders/addon", body, key="carta-2")
    assert again.status_code == 200 and len(saved_card.charged) == 1
    assert Order.objects.count() == 1
