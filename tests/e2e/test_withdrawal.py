"""A consumer buys a Pro mailbox and withdraws the same day, in a real browser."""

import re

import pytest

from billing.models import InvoiceKind, Order, OrderStatus
from mailboxes.models import Mailbox, MailboxStatus
from tests.e2e.test_web_cart import amount, configure_pro_with_conservazione

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_consumer_withdraws_on_the_day_of_purchase_and_gets_everything_back(
    page, live_server, shoot, alice
):
    flow = "recesso"
    configure_pro_with_conservazione(page, live_server, shoot, flow, "recesso.rossi")
    page.get_by_role("link", name="Procedi all'acquisto").click()
    page.fill("#id_username", "alice@example.it")
    page.fill("#id_password", "Password-Sicura-1")
    page.get_by_role("button", name="Accedi e continua").click()
    page.wait_for_url("**/checkout/dati/")
    item_prefix = page.locator("input[name$='-password1']").get_attribute("name").split("-")[0]
    page.fill(f"#id_{item_prefix}-password1", "Casella-Segreta-2026")
    page.fill(f"#id_{item_prefix}-password2", "Casella-Segreta-2026")
    page.check("#id_payment_method_0")  # carta
    page.check("#id_accept_terms")
    page.check("#id_accept_privacy")
    page.get_by_role("button", name="Prosegui").click()
    page.wait_for_url("**/paga/")
    page.check("text=Pagamento riuscito")
    page.get_by_role("button", name="Conferma il pagamento").click()
    page.wait_for_url(re.compile(r".*/ordini/[\d-]+/$"))
    order = Order.objects.get()
    assert order.status == OrderStatus.PAID
    shoot(flow, "04-ordine-pagato")

    page.goto(live_server.url + "/area-clienti/")
    page.get_by_role("link", name="Recedi dal contratto qui").click()
    page.wait_for_url("**/area-clienti/recesso/")
    shoot(flow, "05-recesso-elenco")
    page.get_by_role("link", name="Recedi dal contratto qui").click()
    page.wait_for_url(f"**/ordini/{order.number}/recesso/")
    text = page.inner_text("main")
    assert order.number in text
    assert "recesso.rossi@pec.it viene cancellata" in text
    assert "alle 23:59" in text
    total_row = page.locator("tfoot tr.total td").inner_text()
    assert amount(total_row) == order.total  # the same day: everything back
    assert "€ 0,00" in page.locator("tfoot").inner_text()  # nothing used
    shoot(flow, "06-recesso-conferma")
    assert page.get_by_role("button", name="Conferma il recesso").count() == 1
    page.get_by_role("button", name="Conferma il recesso").click()
    page.wait_for_url(f"**/ordini/{order.number}/recesso/ricevuta/")
    receipt = page.inner_text("main")
    assert "Recesso registrato" in receipt
    note = order.invoices.get(kind=InvoiceKind.CREDIT_NOTE)
    assert f"n. {note.display_number}" in receipt
    assert "€ 109,56" in receipt
    shoot(flow, "07-recesso-ricevuta")

    with page.expect_download() as download:
        page.get_by_role("link", name="scarica il PDF").click()
    with open(download.value.path(), "rb") as pdf:
        assert pdf.read(4) == b"%PDF"

    mailbox = Mailbox.objects.get(address="recesso.rossi@pec.it")
    assert mailbox.status == MailboxStatus.CANCELLED
    page.goto(f"{live_server.url}/area-clienti/caselle/{mailbox.pk}/")
    assert "La casella è cancellata." in page.inner_text("main")
    assert "Recedi dal contratto qui" not in page.inner_text("main")
    shoot(flow, "08-casella-cancellata")
