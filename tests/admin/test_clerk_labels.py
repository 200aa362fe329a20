"""The back office as a billing clerk reads it: Italian labels for the history, items
numbered from 1, amounts with €, one date format, titles with the right article."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.event_labels import details_label, event_label, transition_label
from pecshop.admin_helpers import with_article

from .test_order_operations import op, transfer

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def test_the_order_history_shows_italian_labels_instead_of_codes(bank_order, accounting, client):
    client.force_login(accounting)
    client.post(op("bonifico", bank_order), transfer(bank_order))
    page = text(client.get(reverse("admin:billing_order_change", args=[bank_order.pk])))
    assert "bonifico registrato dallo staff" in page
    assert "in attesa di pagamento → pagato" in page
    assert "esito: ordine evaso" in page
    for code in ("staff_bank_transfer", "awaiting → paid", "outcome: fulfilled", "payment_applied"):
        assert code not in page


def test_the_order_page_numbers_items_from_1_and_shows_amounts_with_the_euro_sign(
    bank_order, accounting, client
):
    client.force_login(accounting)
    response = client.get(reverse("admin:billing_order_change", args=[bank_order.pk]))
    assert [item.position for item in bank_order.items.all()] == [1]
    html = response.content.decode()
    positions = re.findall(r'class="field-pos">\s*<p>(\d+)</p>', html)
    assert positions and "0" not in positions and positions[0] == "1"
    page = text(response)
    total = f"{bank_order.total:.2f}".replace(".", ",")
    assert f"€ {total}" in page


def test_the_back_office_writes_every_date_one_way(bank_order, accounting, client):
    client.force_login(accounting)
    page = text(client.get(reverse("admin:billing_order_change", args=[bank_order.pk])))
    today = timezone.localdate()
    assert today.strftime("%d/%m/%Y") in page
    months = "gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre novembre dicembre"
    assert not re.search(rf"\d+ ({'|'.join(months.split())}) \d{{4}}", page, re.I)


def test_the_mailbox_list_says_select_the_mailbox_to_change(support, client):
    client.force_login(support)
    page = text(client.get(reverse("admin:mailboxes_mailbox_changelist")))
    assert "Seleziona la casella PEC da" in page
    assert "per visualizzarlo" not in page


@pytest.mark.parametrize(
    ("noun", "expected"),
    [
        ("casella PEC", "la casella PEC"),
        ("ordine", "l'ordine"),
        ("fattura", "la fattura"),
        ("titolare", "il titolare"),
        ("storico dei prezzi", "lo storico dei prezzi"),
        ("promemoria di scadenza", "il promemoria di scadenza"),
        ("variazione di prezzo", "la variazione di prezzo"),
    ],
)
def test_a_model_name_gets_its_italian_article(noun, expected):
    assert with_article(noun) == expected


def test_event_codes_statuses_and_details_have_italian_labels():
    assert event_label("staff_bank_transfer") == "bonifico registrato dallo staff"
    assert transition_label("awaiting", "paid") == "in attesa di pagamento → pagato"
    assert transition_label("", "awaiting") == "in attesa di pagamento"
    assert details_label({"outcome": "fulfilled", "amount": "12.20", "paid_on": "2026-11-25"}) == (
        "esito: ordine evaso, importo: € 12,20, pagato il: 25/11/2026"
    )
