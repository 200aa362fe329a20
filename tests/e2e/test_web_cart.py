"""A new customer buys PEC mailboxes through the web cart, in a real browser."""

import re
from decimal import Decimal as D

import pytest
from dateutil.relativedelta import relativedelta
from django.core import mail
from django.utils import timezone

from billing.models import Order, OrderStatus
from mailboxes.models import Mailbox, MailboxStatus

pytestmark = pytest.mark.django_db(transaction=True)


def amount(text: str) -> D:
    """`€ 1.234,56` as shown on a page, back to a Decimal."""
    digits = re.search(r"-?[\d.]+,\d{2}", text).group(0)
    return D(digits.replace(".", "").replace(",", "."))


def fill_company(page, prefix: str):
    page.check(f"#id_{prefix}-kind_1")
    page.fill(f"#id_{prefix}-company_name", "Bianchi Costruzioni S.r.l.")
    page.fill(f"#id_{prefix}-vat_number", "00743110157")
    page.fill(f"#id_{prefix}-fiscal_code", "00743110157")
    page.fill(f"#id_{prefix}-legal_representative", "Laura Bianchi")
    page.fill(f"#id_{prefix}-street", "Corso Buenos Aires 10")
    page.fill(f"#id_{prefix}-postal_code", "20124")
    page.fill(f"#id_{prefix}-city", "Milano")
    page.fill(f"#id_{prefix}-province", "MI")
    page.fill(f"#id_{prefix}-email", "amministrazione@bianchi.example")
    page.fill(f"#id_{prefix}-sdi_code", "M5UXCR1")


def configure_pro_with_conservazione(page, live_server, shoot, flow, local_part):
    page.goto(live_server.url + "/")
    shoot(flow, "01-catalogo")
    page.get_by_role("link", name="Acquista Pro").click()
    page.fill("#id_local_part", local_part)
    page.check("#id_years_1")  # 2 anni
    page.fill("#id_addon_CONSERVAZIONE", "5")
    # the live price (from /api/quote) and the live availability check
    # (selectors, not wait_for_function: the page's policy allows no eval of a string)
    page.wait_for_selector("#prezzo:has-text('109,56')")
    page.wait_for_selector("#disponibilita:has-text('libero')")
    shoot(flow, "02-configura")
    page.get_by_role("button", name="Aggiungi al carrello").click()
    page.wait_for_url("**/carrello/")
    shoot(flow, "03-carrello")
    return amount(page.inner_text("#totale-carrello"))


def test_a_new_customer_buys_a_pro_mailbox_for_a_company_and_pays_by_card(page, live_server, shoot):
    flow = "carrello-carta"
    cart_total = configure_pro_with_conservazione(page, live_server, shoot, flow, "studio.bianchi")
    assert cart_total == D("109.56")

    page.get_by_role("link", name="Procedi all'acquisto").click()
    shoot(flow, "04-account")
    page.fill("#id_email", "laura@bianchi.example")
    page.fill("#id_password1", "Una-Password-Sicura-2026")
    page.fill("#id_password2", "Una-Password-Sicura-2026")
    page.get_by_role("button", name="Crea l'account e continua").click()
    # The address is confirmed through the link e-mailed to it; the cart waits.
    page.wait_for_selector("text=Controlla la tua e-mail")
    shoot(flow, "04b-conferma-email")
    link = re.search(r"(http://\S+/registrati/conferma/\S+)", mail.outbox[-1].body).group(1)
    page.goto(link)
    page.wait_for_url("**/checkout/dati/")

    fill_company(page, "buyer")
    item_prefix = page.locator("input[name$='-password1']").get_attribute("name").split("-")[0]
    page.fill(f"#id_{item_prefix}-password1", "Casella-Segreta-2026")
    page.fill(f"#id_{item_prefix}-password2", "Casella-Segreta-2026")
    page.check("#id_payment_method_0")  # carta
    page.check("#id_accept_terms")
    page.check("#id_accept_privacy")
    shown_total = amount(page.inner_text("#totale-ordine"))
    shoot(flow, "05-dati")
    page.get_by_role("button", name="Prosegui").click()

    page.wait_for_url("**/paga/")
    assert "Pagamento di prova" in page.inner_text("main")
    shoot(flow, "06-pagamento")
    page.check("text=Pagamento riuscito")
    page.get_by_role("button", name="Conferma il pagamento").click()
    page.wait_for_url(re.compile(r".*/ordini/[\d-]+/$"))
    assert "Pagamento ricevuto" in page.inner_text("main")
    shoot(flow, "07-conferma")

    mailbox = Mailbox.objects.get(address="studio.bianchi@pec.it")
    today = timezone.localdate()
    assert mailbox.status == MailboxStatus.ACTIVE
    assert (mailbox.activated_on, mailbox.expires_on) == (today, today + relativedelta(years=2))
    assert mailbox.holder.company_name == "Bianchi Costruzioni S.r.l."
    assert mailbox.addons.get().quantity == 5
    order = Order.objects.get()
    assert order.status == OrderStatus.PAID
    assert order.total == shown_total == cart_total
    expiry = f"{mailbox.expires_on:%d/%m/%Y}"
    assert expiry in page.inner_text("main")


def test_bank_transfer_and_a_failed_card_payment(page, live_server, shoot, alice):
    flow = "carrello-bonifico"
    configure_pro_with_conservazione(page, live_server, shoot, flow, "bonifico.rossi")
    page.get_by_role("link", name="Procedi all'acquisto").click()
    page.fill("#id_username", "alice@example.it")
    page.fill("#id_password", "Password-Sicura-1")
    page.get_by_role("button", name="Accedi e continua").click()
    page.wait_for_url("**/checkout/dati/")
    item_prefix = page.locator("input[name$='-password1']").get_attribute("name").split("-")[0]
    page.fill(f"#id_{item_prefix}-password1", "Casella-Segreta-2026")
    page.fill(f"#id_{item_prefix}-password2", "Casella-Segreta-2026")
    page.check("#id_payment_method_2")  # bonifico
    page.check("#id_accept_terms")
    page.check("#id_accept_privacy")
    page.get_by_role("button", name="Prosegui").click()
    page.wait_for_url(re.compile(r".*/ordini/[\d-]+/$"))
    text = page.inner_text("main")
    order = Order.objects.get()
    assert "IBAN" in text and f"ordine {order.number}" in text
    assert order.status == OrderStatus.AWAITING_PAYMENT
    assert Mailbox.objects.get().status == MailboxStatus.PENDING
    shoot(flow, "04-istruzioni-bonifico")

    # A second order, by card, whose payment fails: nothing is charged, it can be retried.
    flow = "carrello-carta-rifiutata"
    configure_pro_with_conservazione(page, live_server, shoot, flow, "rifiutata.rossi")
    page.get_by_role("link", name="Procedi all'acquisto").click()
    page.wait_for_url("**/checkout/dati/")
    item_prefix = page.locator("input[name$='-password1']").get_attribute("name").split("-")[0]
    page.fill(f"#id_{item_prefix}-password1", "Casella-Segreta-2026")
    page.fill(f"#id_{item_prefix}-password2", "Casella-Segreta-2026")
    page.check("#id_payment_method_0")
    page.check("#id_accept_terms")
    page.check("#id_accept_privacy")
    page.get_by_role("button", name="Prosegui").click()
    page.wait_for_url("**/paga/")
    page.check("text=Pagamento rifiutato")
    page.get_by_role("button", name="Conferma il pagamento").click()
    page.wait_for_url("**/pagamento-non-riuscito/")
    assert "non è andato a buon fine" in page.inner_text("main")
    shoot(flow, "05-pagamento-rifiutato")
    failed = Order.objects.exclude(payment_method="bank_transfer").get()
    assert failed.status == OrderStatus.AWAITING_PAYMENT
    assert Mailbox.objects.get(address="rifiutata.rossi@pec.it").status == MailboxStatus.PENDING
