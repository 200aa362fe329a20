"""An existing customer buys and renews during the term, in a real browser."""

import pytest
from django.core.management import call_command
from django.utils import timezone

from billing.models import Order, OrderStatus
from mailboxes.models import Mailbox
from mailboxes.terms import add_years

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def demo(page):
    """The demo customer of seed_demo, built around today; logged in, on the dashboard."""
    call_command("seed_demo", "--today", timezone.localdate().isoformat(), verbosity=0)
    return page


def login(page, live_server):
    page.goto(live_server.url + "/accedi/")
    page.fill("#id_username", "demo@pecshop.example")
    page.fill("#id_password", "DemoPec-2026")
    page.get_by_role("button", name="Accedi").click()
    page.goto(live_server.url + "/area-clienti/")


def open_mario(page, live_server, shoot, flow):
    login(page, live_server)
    shoot(flow, "01-area-clienti")
    page.get_by_role("link", name="mario.rossi@pec.it").click()
    page.wait_for_url("**/area-clienti/caselle/*/")
    shoot(flow, "02-casella")


def test_buying_5_gb_of_conservazione_six_months_before_expiry_costs_12_20(
    demo, live_server, shoot
):
    page, flow = demo, "area-acquista"
    open_mario(page, live_server, shoot, flow)
    page.get_by_role("link", name="Acquista", exact=True).click()
    page.select_option("#id_addon", "CONSERVAZIONE")
    page.fill("#id_quantity", "5")
    shoot(flow, "03-acquista")
    page.get_by_role("button", name="Calcola il prezzo").click()
    assert "Rateo: 6 mesi" in page.inner_text("main")
    assert page.inner_text("#imponibile") == "€ 10,00"
    assert page.inner_text("#iva") == "€ 2,20"
    assert page.inner_text("#totale") == "€ 12,20"
    shoot(flow, "04-rateo")
    page.get_by_role("button", name="Prosegui").click()
    page.wait_for_url("**/paga/")
    page.check("text=Pagamento riuscito")
    page.get_by_role("button", name="Conferma il pagamento").click()
    page.wait_for_url("**/ordini/*/")
    order = Order.objects.get()
    assert (order.status, str(order.total)) == (OrderStatus.PAID, "12.20")

    mailbox = Mailbox.objects.get(address="mario.rossi@pec.it")
    page.goto(f"{live_server.url}/area-clienti/caselle/{mailbox.pk}/")
    services = page.inner_text("main")
    assert "/ 5 GB" in services  # the conservazione quota is now 5 GB
    assert mailbox.addons.get(addon__code="CONSERVAZIONE").quantity == 5
    shoot(flow, "05-nuova-quota")


def test_renewing_with_5_gb_added_costs_66_98(demo, live_server, shoot):
    page, flow = demo, "area-rinnova"
    open_mario(page, live_server, shoot, flow)
    page.get_by_role("link", name="Rinnova", exact=True).click()
    page.check("#id_years_0")
    page.fill("#id_add_CONSERVAZIONE", "5")
    shoot(flow, "03-rinnova")
    page.get_by_role("button", name="Calcola il prezzo").click()
    assert page.inner_text("#imponibile") == "€ 54,90"
    assert page.inner_text("#iva") == "€ 12,08"
    assert page.inner_text("#totale") == "€ 66,98"
    shoot(flow, "04-riepilogo")
    page.get_by_role("button", name="Prosegui").click()
    page.wait_for_url("**/paga/")
    page.check("text=Pagamento riuscito")
    page.get_by_role("button", name="Conferma il pagamento").click()
    page.wait_for_url("**/ordini/*/")
    mailbox = Mailbox.objects.get(address="mario.rossi@pec.it")
    assert str(Order.objects.get().total) == "66.98"
    assert mailbox.expires_on == add_years(mailbox.activated_on, 2)  # a year after the old expiry
    shoot(flow, "05-pagato")


def test_saving_a_client_company_and_correcting_its_address(demo, live_server, shoot):
    page, flow = demo, "area-titolari"
    login(page, live_server)
    page.get_by_role("link", name="Titolari").click()
    page.wait_for_url("**/area-clienti/titolari/")
    shoot(flow, "01-titolari")
    page.get_by_role("link", name="Aggiungi un titolare").click()
    page.check("text=azienda o professionista con partita IVA")
    page.fill("#id_company_name", "Verdi Costruzioni S.r.l.")
    page.fill("#id_vat_number", "00743110158")  # a wrong check digit
    page.fill("#id_fiscal_code", "00743110157")
    page.fill("#id_legal_representative", "Anna Verdi")
    page.fill("#id_street", "Via Garibaldi 3")
    page.fill("#id_postal_code", "10122")
    page.fill("#id_city", "Torino")
    page.fill("#id_province", "to")
    page.fill("#id_email", "amministrazione@verdi.example")
    page.get_by_role("button", name="Salva").click()
    assert "Partita IVA" in page.inner_text(".error-summary")
    shoot(flow, "02-partita-iva-errata")
    page.fill("#id_vat_number", "00743110157")
    page.get_by_role("button", name="Salva").click()
    page.wait_for_url("**/area-clienti/titolari/")
    assert "Verdi Costruzioni S.r.l." in page.inner_text("main")
    page.get_by_role("link", name="Modifica Verdi Costruzioni S.r.l.").click()
    page.fill("#id_street", "Corso Francia 8")
    page.get_by_role("button", name="Salva").click()
    page.wait_for_url("**/area-clienti/titolari/")
    assert "Corso Francia 8, 10122 Torino (TO)" in page.inner_text("main")
    shoot(flow, "03-salvato")
