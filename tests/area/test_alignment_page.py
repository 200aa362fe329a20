"""The "Allinea le scadenze" page: selection, preview, "Prosegui" to one order."""

from datetime import date

import pytest
from django.urls import reverse

from billing.models import ItemKind, Order

URL = reverse("area:alignment")


@pytest.fixture
def boxes(make_mailbox):
    return [
        make_mailbox("uno@pec.it", "standard", activated_on=date(2026, 1, 31)),
        make_mailbox("due@pec.it", "pro", activated_on=date(2026, 5, 25)),
    ]


def test_the_page_lists_the_accounts_mailboxes_and_nobody_elses(
    client, alice, bob, boxes, make_mailbox
):
    make_mailbox("bob@pec.it", customer=bob)
    client.force_login(alice.user)
    page = client.get(URL).content.decode()
    assert "uno@pec.it" in page and "due@pec.it" in page and "bob@pec.it" not in page


def test_the_filter_preselects_the_mailboxes_expiring_in_the_next_days(client, alice, boxes):
    client.force_login(alice.user)
    page = client.get(URL, {"giorni": "90"}).content.decode()
    assert f'value="{boxes[0].pk}" checked' in page
    assert "due@pec.it" not in page
    assert "numero di giorni intero" in client.get(URL, {"giorni": "x"}).content.decode()


def test_the_preview_shows_each_mailbox_with_months_and_amount_then_prosegui_places_one_order(
    client, alice, boxes
):
    client.force_login(alice.user)
    response = client.post(URL, {"caselle": [b.pk for b in boxes], "data": "2027-07-31"})
    page = response.content.decode()
    # uno: 31/01/2027 -> 31/07/2027, 6 months of 9.90 = 4.95; due: 25/05/2027 -> 31/07/2027,
    # 2 months and 6 days = 3 months of 24.90 = 6.23 (6.225 half up)
    assert "€ 4,95" in page and "€ 6,23" in page
    assert "€ 11,18" in page and "€ 2,46" in page and "€ 13,64" in page
    token = response.context["payment_form"].initial["token"]
    response = client.post(URL, {"token": token, "payment_method": "bank_transfer"})
    order = Order.objects.get()
    assert response.status_code == 302 and order.number in response["Location"]
    assert [i.kind for i in order.items.all()] == [ItemKind.ALIGNMENT] * 2
    assert str(order.total) == "13.64"
    # The same confirmation twice is the same order.
    client.post(URL, {"token": token, "payment_method": "bank_transfer"})
    assert Order.objects.count() == 1


def test_a_target_before_an_expiry_is_explained_in_italian(client, alice, boxes):
    client.force_login(alice.user)
    page = client.post(URL, {"caselle": [b.pk for b in boxes], "data": "2027-03-01"})
    assert "successiva alla scadenza di due@pec.it" in page.content.decode()
    page = client.post(URL, {"caselle": [], "data": "2028-01-01"})
    assert "almeno una casella" in page.content.decode()
    page = client.post(URL, {"caselle": [boxes[0].pk], "data": "domani"})
    assert "AAAA-MM-GG" in page.content.decode()


def test_another_customers_mailbox_is_refused(client, alice, bob, make_mailbox):
    theirs = make_mailbox("bob@pec.it", customer=bob)
    client.force_login(alice.user)
    page = client.post(URL, {"caselle": [theirs.pk], "data": "2028-01-01"}).content.decode()
    assert "Casella non trovata" in page
    assert not Order.objects.exists()


def test_a_visitor_is_sent_to_log_in(client):
    assert client.get(URL)["Location"].startswith(reverse("customers:login"))


def test_mailbox_ids_are_never_written_with_a_thousands_separator(db):
    from types import SimpleNamespace

    from django.template.loader import render_to_string

    mailbox = SimpleNamespace(
        pk=12345,
        address="tanti@pec.it",
        tier=SimpleNamespace(name="Pro"),
        status="active",
        get_status_display="attiva",
        expires_on=date(2027, 5, 25),
    )
    page = render_to_string(
        "area/alignment.html", {"candidates": [mailbox], "selected": {12345}, "days": "30"}
    )
    assert 'id="casella-12345" name="caselle" value="12345" checked' in page
    assert "12.345" not in page
