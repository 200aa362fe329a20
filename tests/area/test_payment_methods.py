"""Metodi di pagamento: cards saved with consent at checkout, listed, removed, chosen."""

import pytest

from billing.models import Payment, SavedCard
from tests.billing.test_orders import new_mailbox

pytestmark = pytest.mark.django_db


def pay_saving_the_card(client, customer, order):
    client.force_login(customer.user)
    page = client.get(f"/ordini/{order.number}/paga/").content.decode()
    assert "Salva la carta per i rinnovi automatici" in page
    return client.post(f"/ordini/{order.number}/paga/", {"outcome": "success", "save_card": "on"})


def test_a_card_saved_with_consent_at_checkout_is_listed_with_brand_last4_and_expiry(
    client, alice, order_for
):
    order = order_for(new_mailbox(alice), method="card")
    pay_saving_the_card(client, alice, order)

    card = SavedCard.objects.get(customer=alice)
    assert (card.brand, card.last4, card.is_default) == ("Visa", "4242", True)
    assert Payment.objects.get(order=order, status="confirmed").saved_card == card
    page = client.get("/area-clienti/metodi-di-pagamento/").content.decode()
    assert "Visa •••• 4242" in page
    assert card.expires_label in page
    assert "Paga i rinnovi automatici" in page
    assert "PayPal" in page and "promemoria" in page


def test_without_consent_no_card_is_saved(client, alice, order_for):
    order = order_for(new_mailbox(alice), method="card")
    client.force_login(alice.user)
    client.get(f"/ordini/{order.number}/paga/")
    client.post(f"/ordini/{order.number}/paga/", {"outcome": "success"})
    assert not SavedCard.objects.exists()
    page = client.get("/area-clienti/metodi-di-pagamento/").content.decode()
    assert "Nessuna carta salvata" in page


def test_the_customer_chooses_the_renewal_card_and_removes_one(client, alice, order_for):
    first = order_for(new_mailbox(alice, local_part="prima"), method="card")
    second = order_for(new_mailbox(alice, local_part="seconda"), method="card")
    pay_saving_the_card(client, alice, first)
    pay_saving_the_card(client, alice, second)
    old, new = SavedCard.objects.order_by("id")
    assert (old.is_default, new.is_default) == (True, False)

    client.post(f"/area-clienti/metodi-di-pagamento/{new.pk}/predefinita/")
    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.is_default, new.is_default) == (False, True)

    client.post(f"/area-clienti/metodi-di-pagamento/{new.pk}/rimuovi/")
    new.refresh_from_db()
    old.refresh_from_db()
    assert new.removed_at is not None
    assert old.is_default  # the remaining card pays the renewals now
    page = client.get("/area-clienti/metodi-di-pagamento/").content.decode()
    assert page.count('<td data-label="Carta">') == 1


def test_another_customers_card_is_a_404(client, alice, bob, order_for):
    order = order_for(new_mailbox(alice), method="card")
    pay_saving_the_card(client, alice, order)
    card = SavedCard.objects.get()
    client.force_login(bob.user)
    assert client.post(f"/area-clienti/metodi-di-pagamento/{card.pk}/rimuovi/").status_code == 404
    assert (
        client.post(f"/area-clienti/metodi-di-pagamento/{card.pk}/predefinita/").status_code == 404
    )
    assert "4242" not in client.get("/area-clienti/metodi-di-pagamento/").content.decode()
    card.refresh_from_db()
    assert card.removed_at is None


def test_a_card_is_added_from_the_area_clienti_only_with_consent(client, alice):
    client.force_login(alice.user)
    refused = client.post("/area-clienti/metodi-di-pagamento/aggiungi/", {}, follow=True)
    assert "spunta il consenso" in refused.content.decode()
    assert not SavedCard.objects.exists()

    page = client.post(
        "/area-clienti/metodi-di-pagamento/aggiungi/", {"consent": "on"}, follow=True
    ).content.decode()
    card = SavedCard.objects.get(customer=alice)
    assert "Visa •••• 4242" in page and card.is_default


def test_the_mailbox_page_says_paypal_renewals_are_paid_from_the_reminder(
    client, alice, make_mailbox
):
    mailbox = make_mailbox()
    client.force_login(alice.user)
    page = client.get(f"/area-clienti/caselle/{mailbox.pk}/").content.decode()
    assert "PayPal non si addebitano in automatico" in page
    assert "/area-clienti/metodi-di-pagamento/" in page
