"""Every page a customer or a billing clerk uses, checked in the browser: no serious or
critical axe-core violation, nothing wider than a 390 px phone, the total beside "Prosegui"
on every preview, and a screenshot at 1280 and 390 px (screenshots/checks-*)."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from django_otp.oath import totp

from mailboxes.models import Mailbox
from tests.billing.test_orders import new_mailbox
from tests.conftest import give_second_factor

pytestmark = pytest.mark.django_db(transaction=True)


def pay_on_test_gateway(page):
    page.wait_for_url("**/paga/")
    page.check("text=Pagamento riuscito")
    page.get_by_role("button", name="Conferma il pagamento").click()
    page.wait_for_url(re.compile(r".*/ordini/[\d-]+/$"))


def test_every_page_of_the_web_cart_passes_the_checks(checker, live_server):
    check = checker("checks-negozio")
    page = check.page
    url = live_server.url
    for path, name in (
        ("/", "catalogo"),
        ("/accedi/", "accedi"),
        ("/registrati/", "registrati"),
        ("/area-clienti/accedi-casella/", "accedi-casella"),
        ("/carrello/", "carrello-vuoto"),
    ):
        page.goto(url + path)
        check.check(name)

    page.goto(url + "/configura/pro/")
    check.check("configura")
    page.fill("#id_local_part", "x")
    page.fill("#id_addon_CONSERVAZIONE", "500")
    page.get_by_role("button", name="Aggiorna il prezzo").click()
    check.check("configura-errori")
    page.fill("#id_local_part", "studio.verdi")
    page.fill("#id_addon_CONSERVAZIONE", "5")
    page.get_by_role("button", name="Aggiungi al carrello").click()
    page.wait_for_url("**/carrello/")
    check.check("carrello")

    page.get_by_role("link", name="Procedi all'acquisto").click()
    check.check("checkout-account")
    page.fill("#id_email", "nuovo@cliente.example")
    page.fill("#id_password1", "Una-Password-Sicura-2026")
    page.fill("#id_password2", "Una-Password-Sicura-2026")
    page.get_by_role("button", name="Crea l'account e continua").click()
    # The address is confirmed through the link e-mailed to it; the cart waits.
    page.wait_for_selector("text=Controlla la tua e-mail")
    check.check("checkout-conferma-email")
    link = re.search(r"(http://\S+/registrati/conferma/\S+)", mail.outbox[-1].body).group(1)
    page.goto(link)
    page.wait_for_url("**/checkout/dati/")
    # The company fields follow the choice of persona fisica / azienda.
    assert page.is_visible("#id_buyer-first_name")
    assert not page.is_visible("#id_buyer-company_name")
    check.check("checkout-dati")
    page.check("#id_buyer-kind_1")
    assert page.is_visible("#id_buyer-company_name")
    assert not page.is_visible("#id_buyer-first_name")
    page.check("#id_buyer-kind_0")
    page.get_by_role("button", name="Prosegui").click()
    check.check("checkout-dati-errori")

    page.fill("#id_buyer-first_name", "Mario")
    page.fill("#id_buyer-last_name", "Verdi")
    page.fill("#id_buyer-fiscal_code", "RSSMRA85T10A562S")
    page.fill("#id_buyer-street", "Via Roma 1")
    page.fill("#id_buyer-postal_code", "00184")
    page.fill("#id_buyer-city", "Roma")
    page.fill("#id_buyer-province", "RM")
    page.fill("#id_buyer-email", "nuovo@cliente.example")
    prefix = page.locator("input[name$='-password1']").get_attribute("name").split("-")[0]
    page.fill(f"#id_{prefix}-password1", "Casella-Segreta-2026")
    page.fill(f"#id_{prefix}-password2", "Casella-Segreta-2026")
    page.check("#id_payment_method_0")
    page.check("#id_accept_terms")
    page.check("#id_accept_privacy")
    page.get_by_role("button", name="Prosegui").click()
    page.wait_for_url("**/paga/")
    check.check("pagamento")
    pay_on_test_gateway(page)
    check.check("ordine-pagato")
    check.assert_clean()


def open_action(page, url, mailbox, action):
    page.goto(f"{url}/area-clienti/caselle/{mailbox.pk}/{action}/")


def test_every_page_of_the_area_clienti_passes_the_checks(checker, live_server):
    call_command("seed_demo", "--today", timezone.localdate().isoformat(), verbosity=0)
    check = checker("checks-area")
    page = check.page
    url = live_server.url
    page.goto(url + "/accedi/")
    page.fill("#id_username", "demo@pecshop.example")
    page.fill("#id_password", "DemoPec-2026")
    page.get_by_role("button", name="Accedi").click()
    page.wait_for_url("**/area-clienti/")  # the Area Clienti, not the catalogue
    check.check("dashboard")

    mario = Mailbox.objects.get(address="mario.rossi@pec.it")
    studio = Mailbox.objects.get(address="studio.rossi@pec.it")
    premium = Mailbox.objects.get(address="amministrazione@pec.it")
    lapsed = Mailbox.objects.get(address="scaduta.rossi@pec.it")
    for mailbox in (mario, studio, premium, lapsed):
        page.goto(f"{url}/area-clienti/caselle/{mailbox.pk}/")
        check.check(f"casella-{mailbox.address.split('@')[0]}")

    open_action(page, url, mario, "acquista")
    check.check("acquista")
    page.select_option("#id_addon", "CONSERVAZIONE")
    page.fill("#id_quantity", "5")
    page.get_by_role("button", name="Calcola il prezzo").click()
    check.check("acquista-riepilogo", preview=True)

    open_action(page, url, premium, "aumenta")
    check.check("aumenta")
    page.select_option("#id_addon", "SPAZIO")
    page.fill("#id_quantity", "2")
    page.get_by_role("button", name="Calcola il prezzo").click()
    check.check("aumenta-riepilogo", preview=True)

    open_action(page, url, premium, "multiutente")
    check.check("multiutente")
    page.fill("#id_quantity", "2")
    page.get_by_role("button", name="Calcola il prezzo").click()
    check.check("multiutente-riepilogo", preview=True)

    open_action(page, url, studio, "upgrade")
    check.check("upgrade")
    page.check("#id_to_tier_0")
    page.get_by_role("button", name="Calcola il prezzo").click()
    check.check("upgrade-riepilogo", preview=True)

    open_action(page, url, mario, "rinnova")
    check.check("rinnova")
    page.check("#id_years_1")
    page.get_by_role("button", name="Calcola il prezzo").click()
    check.check("rinnova-riepilogo", preview=True)

    open_action(page, url, lapsed, "rinnova")
    page.check("#id_years_0")
    page.get_by_role("button", name="Calcola il prezzo").click()
    assert "Periodo di tolleranza" in page.inner_text("main")
    check.check("rinnova-scaduta-riepilogo", preview=True)

    for action in ("riduci", "disdetta", "titolare"):
        open_action(page, url, premium, action)
        check.check(action)

    page.goto(url + "/area-clienti/titolari/")
    check.check("titolari")
    page.goto(url + "/area-clienti/titolari/nuovo/")
    check.check("titolare-nuovo")

    open_action(page, url, mario, "acquista")
    page.select_option("#id_addon", "CONSERVAZIONE")
    page.fill("#id_quantity", "1")
    page.get_by_role("button", name="Calcola il prezzo").click()
    page.get_by_role("button", name="Prosegui").click()
    pay_on_test_gateway(page)
    check.check("ordine")
    check.assert_clean()


def test_the_main_admin_pages_pass_the_checks(checker, live_server, alice, order_for, pay):
    from billing.models import Invoice

    order = order_for(new_mailbox(alice))
    pay(order)
    invoice = Invoice.objects.get(order=order)
    mailbox = order.items.get().mailbox
    staff = get_user_model().objects.create_superuser(
        "contabile", "contabile@pecshop.example", "Pw-2026!x"
    )
    device = give_second_factor(staff)  # the admin asks every staff account for one
    check = checker("checks-admin")
    page = check.page
    url = live_server.url
    page.goto(url + "/admin/login/")
    page.fill("#id_username", "contabile")
    page.fill("#id_password", "Pw-2026!x")
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    page.fill("#id_otp_token", f"{code:06d}")
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")
    check.check("home")
    for path, name in (
        ("/admin/billing/order/cruscotto/", "cruscotto"),
        ("/admin/mailboxes/mailbox/", "caselle"),
        (f"/admin/mailboxes/mailbox/{mailbox.pk}/change/", "casella"),
        ("/admin/billing/order/", "ordini"),
        (f"/admin/billing/order/{order.pk}/change/", "ordine"),
        ("/admin/billing/invoice/", "fatture"),
        (f"/admin/billing/invoice/{invoice.pk}/change/", "fattura"),
    ):
        response = page.goto(url + path)
        assert response.status == 200, path
        check.check(name)
    check.assert_clean()
