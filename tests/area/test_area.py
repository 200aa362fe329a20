"""The Area Clienti: scoped to the customer, the seed's actions with the rateo."""

import re
from datetime import date
from decimal import Decimal as D

import pytest
from django.contrib.auth.hashers import make_password
from django.test import Client

from billing.models import Invoice, Order, OrderStatus
from mailboxes.models import Mailbox, MailboxEvent, MailboxStatus
from mailboxes.services import mailbox_set_usage, mailbox_transition

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 25)


def logged(customer_or_user) -> Client:
    client = Client()
    user = getattr(customer_or_user, "user", customer_or_user)
    client.force_login(user)
    return client


def action_urls(pk: int) -> list[str]:
    base = f"/area-clienti/caselle/{pk}/"
    return [base] + [
        base + suffix
        for suffix in (
            "acquista/",
            "aumenta/",
            "multiutente/",
            "upgrade/",
            "rinnova/",
            "riduci/",
            "disdetta/",
            "titolare/",
            "rinnovo-automatico/",
        )
    ]


def test_the_owner_reaches_every_page_of_the_mailbox(alice, studio):
    client = logged(alice)
    for url in action_urls(studio.pk):
        response = client.get(url)
        assert response.status_code in (200, 405), url


@pytest.mark.parametrize("method", ["get", "post"])
def test_another_customers_mailbox_is_a_404_everywhere(bob, studio, method):
    client = logged(bob)
    for url in action_urls(studio.pk):
        expected = 405 if method == "get" and url.endswith("rinnovo-automatico/") else 404
        assert getattr(client, method)(url).status_code == expected, url
    studio.refresh_from_db()
    assert studio.status == MailboxStatus.ACTIVE and not studio.auto_renew


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_stranger_without_an_account_sees_nothing(charlie, studio, method):
    client = logged(charlie)
    for url in action_urls(studio.pk):
        expected = 405 if method == "get" and url.endswith("rinnovo-automatico/") else 404
        assert getattr(client, method)(url).status_code == expected, url


def test_anonymous_visitors_are_sent_to_login(studio):
    response = Client().get(f"/area-clienti/caselle/{studio.pk}/")
    assert response.status_code == 302 and "/accedi/" in response["Location"]


def test_another_customers_order_and_invoice_are_404(alice, bob, studio, order_for, pay):
    from billing.services.items import ItemSpec

    order = order_for(ItemSpec("addon", {"add": {"CONSERVAZIONE": 5}}, studio.pk))
    pay(order)
    invoice = Invoice.objects.get()
    client = logged(bob)
    assert client.get(f"/ordini/{order.number}/").status_code == 404
    assert client.get(f"/area-clienti/fatture/{invoice.pk}.pdf").status_code == 404
    owner = logged(alice)
    pdf = owner.get(f"/area-clienti/fatture/{invoice.pk}.pdf")
    assert pdf.status_code == 200 and pdf.content[:4] == b"%PDF"
    xml = owner.get(f"/area-clienti/fatture/{invoice.pk}.xml")
    assert b"FatturaElettronica" in xml.content


def test_csrf_is_enforced_on_area_actions(alice, studio):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice.user)
    response = client.post(
        f"/area-clienti/caselle/{studio.pk}/rinnovo-automatico/", {"enabled": "1"}
    )
    assert response.status_code == 403
    studio.refresh_from_db()
    assert not studio.auto_renew


def test_the_dashboard_splits_own_mailboxes_from_other_holders(alice, make_mailbox):
    from customers.services import holder_create
    from tests.conftest import COMPANY

    make_mailbox(address="mia@pec.it")
    company = holder_create(customer=alice, **COMPANY)
    make_mailbox(address="cliente@pec.it", holder=company)
    page = logged(alice).get("/area-clienti/")
    own, others = page.context["pages"]["own"], page.context["pages"]["others"]
    assert [r.mailbox.address for r in own.rows] == ["mia@pec.it"]
    assert [r.mailbox.address for r in others.rows] == ["cliente@pec.it"]


def test_the_dashboard_follows_every_change_of_a_mailbox(alice, studio, addons):
    from mailboxes.services import addon_attach

    client = logged(alice)
    assert "Conservazione" not in client.get("/area-clienti/").content.decode()
    addon_attach(mailbox=studio, addon=addons["CONSERVAZIONE"], quantity=5)
    assert "Conservazione" in client.get("/area-clienti/").content.decode()
    mailbox_transition(mailbox=studio, to_status=MailboxStatus.CANCELLED, today=TODAY)
    assert "studio@pec.it" not in client.get("/area-clienti/").content.decode()


def test_the_dashboard_searches_and_filters(alice, make_mailbox):
    make_mailbox(address="alfa@pec.it", tier="standard")
    expiring = make_mailbox(address="beta@pec.it", activated_on=date(2025, 12, 10))
    client = logged(alice)
    found = client.get("/area-clienti/", {"q": "alf"}).context["pages"]["own"].rows
    assert [r.mailbox.address for r in found] == ["alfa@pec.it"]
    soon = client.get("/area-clienti/", {"scadenza": "30"}).context["pages"]["own"].rows
    assert [r.mailbox.pk for r in soon] == [expiring.pk]
    standard = client.get("/area-clienti/", {"tipologia": "standard"}).context["pages"]["own"].rows
    assert [r.mailbox.address for r in standard] == ["alfa@pec.it"]


def _mailboxes(alice, tiers, n, prefix):
    Mailbox.objects.bulk_create(
        Mailbox(
            address=f"{prefix}{i:04d}@pec.it",
            tier=tiers["pro"],
            holder=alice.own_holder,
            customer=alice,
            term_years=1,
            status="active",
            activated_on=date(2026, 1, 1),
            expires_on=date(2027, 1, 1),
            usage_mailbox_mb=i,
        )
        for i in range(n)
    )


def test_the_dashboard_runs_the_same_queries_for_5_and_500_mailboxes(
    alice, tiers, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from billing.catalogue_cache import forget_local_copies

    client = logged(alice)
    _mailboxes(alice, tiers, 5, "poche")
    client.get("/area-clienti/")
    forget_local_copies()
    with CaptureQueriesContext(connection) as few:
        client.get("/area-clienti/")
    _mailboxes(alice, tiers, 495, "tante")
    forget_local_copies()
    with CaptureQueriesContext(connection) as many:
        response = client.get("/area-clienti/")
    # user, catalogue, counts, the page, an open withdrawal (+ session)
    assert len(many) == len(few) <= 6
    assert response.context["pages"]["own"].paginator.count == 500


def test_the_mailbox_page_runs_the_same_queries_with_30_addons_and_1000_events(
    alice, studio, addons
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from billing.catalogue_cache import forget_local_copies
    from mailboxes.models import MailboxAddOn
    from mailboxes.services import addon_attach

    addon_attach(mailbox=studio, addon=addons["SPAZIO"], quantity=1)  # one add-on held
    client = logged(alice)
    url = f"/area-clienti/caselle/{studio.pk}/"
    client.get(url)
    forget_local_copies()
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    MailboxAddOn.objects.bulk_create(
        MailboxAddOn(mailbox=studio, addon=addons["CONSERVAZIONE"], quantity=1, status="ended")
        for _ in range(30)
    )
    MailboxEvent.objects.bulk_create(
        MailboxEvent(mailbox=studio, kind="usage", data={"n": n}) for n in range(1000)
    )
    forget_local_copies()
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert len(many) == len(few) <= 8
    assert len(response.context["events"].object_list) == 20
    assert studio.addons.count() == 31


def test_the_headers_cart_size_is_read_with_every_page_and_never_stale(alice, studio):
    """Nothing keeps the cart's size: it is read on every page (on the dashboard and the
    mailbox page with the page's own statements), so an item written by any path, here
    without the cart's services, shows on the next page."""
    from billing.models import Cart, CartItem

    client = logged(alice)
    pages = ["/area-clienti/", f"/area-clienti/caselle/{studio.pk}/", "/", "/carrello/"]

    def sizes():
        return [
            re.search(r'aria-label="(\d+) articoli"', client.get(p).content.decode()).group(1)
            for p in pages
        ]

    assert sizes() == ["0", "0", "0", "0"]
    cart = Cart.objects.create(customer=alice)
    CartItem.objects.bulk_create(
        CartItem(cart=cart, kind="addon", mailbox=studio, params={"add": {"SPAZIO": n}})
        for n in (1, 2)
    )
    assert sizes() == ["2", "2", "2", "2"]
    cart.items.all().delete()
    assert sizes() == ["0", "0", "0", "0"]


def preview(client, mailbox, action, data):
    return client.post(f"/area-clienti/caselle/{mailbox.pk}/{action}/", data)


def confirm(client, mailbox, action, preview_response, method="card"):
    token = preview_response.context["payment_form"].initial["token"]
    return client.post(
        f"/area-clienti/caselle/{mailbox.pk}/{action}/", {"token": token, "payment_method": method}
    )


def test_acquista_shows_the_seed_rateo_and_after_payment_the_new_quota(alice, studio):
    client = logged(alice)
    response = preview(client, studio, "acquista", {"addon": "CONSERVAZIONE", "quantity": "5"})
    quote = response.context["quote"]
    assert (quote.months, quote.net, quote.vat, quote.total) == (
        6,
        D("10.00"),
        D("2.20"),
        D("12.20"),
    )
    page = response.content.decode()
    assert "6 mesi" in page and "€ 12,20" in page

    redirect = confirm(client, studio, "acquista", response)
    order = Order.objects.get()
    assert redirect["Location"] == f"/ordini/{order.number}/paga/"
    client.get(redirect["Location"])
    client.post(redirect["Location"], {"outcome": "success"})
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID and order.total == D("12.20")
    page = client.get(f"/area-clienti/caselle/{studio.pk}/").content.decode()
    assert "0,0 / 5 GB" in page  # Conservazione: 5 GB


def test_the_same_preview_confirmed_twice_places_one_order(alice, studio):
    client = logged(alice)
    response = preview(client, studio, "acquista", {"addon": "CONSERVAZIONE", "quantity": "5"})
    confirm(client, studio, "acquista", response)
    confirm(client, studio, "acquista", response)
    assert Order.objects.count() == 1


def test_rinnova_with_five_gb_added_costs_the_seed_66_98(alice, studio):
    client = logged(alice)
    response = preview(
        client, studio, "rinnova", {"years": "1", "to_tier": "pro", "add_CONSERVAZIONE": "5"}
    )
    assert response.context["quote"].total == D("66.98")
    confirm(client, studio, "rinnova", response, method="bank_transfer")
    assert Order.objects.get().total == D("66.98")


def test_a_tampered_token_is_refused(alice, studio):
    client = logged(alice)
    response = client.post(
        f"/area-clienti/caselle/{studio.pk}/acquista/",
        {"token": "falso", "payment_method": "card"},
        follow=True,
    )
    assert "scaduta" in response.content.decode()
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    ("action", "data", "message"),
    [
        ("acquista", {"addon": "MULTIUTENTE", "quantity": "1"}, "opzione valida"),
        ("acquista", {"addon": "SPAZIO", "quantity": "101"}, "al massimo 100 GB"),
        ("acquista", {"addon": "SPAZIO", "quantity": "0"}, "almeno 1"),
        ("acquista", {"addon": "SPAZIO", "quantity": "-2"}, "almeno 1"),
        ("rinnova", {"years": "6"}, "opzione valida"),
        ("rinnova", {"years": "1", "to_tier": "standard"}, "archivio di sicurezza"),
    ],
)
def test_bad_input_is_refused_with_an_italian_message(alice, studio, action, data, message):
    response = preview(logged(alice), studio, action, data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert "quote" not in response.context


def test_multiutente_on_pro_explains_and_offers_the_upgrade(alice, studio):
    page = logged(alice).get(f"/area-clienti/caselle/{studio.pk}/multiutente/").content.decode()
    assert "solo con la tipologia <strong>Premium</strong>" in page
    assert "Passa a Premium" in page and "€ 9,15" in page  # (39.90 - 24.90) x 6/12 + IVA


def test_upgrade_now_credits_the_sms_the_new_tier_includes(alice, make_mailbox, pay):
    standard = make_mailbox(address="base@pec.it", tier="standard", extras={"SMS": 1})
    client = logged(alice)
    response = preview(client, standard, "upgrade", {"to_tier": "pro"})
    quote = response.context["quote"]
    # Rateo of 6 months: (24.90 - 9.90) x 6/12 = 7.50, SMS credited 4.00 x 6/12 = -2.00.
    assert [line.net for line in quote.lines] == [D("7.50"), D("-2.00")]
    assert (quote.months, quote.net, quote.vat, quote.total) == (
        6,
        D("5.50"),
        D("1.21"),
        D("6.71"),
    )
    assert "€ 6,71" in response.content.decode()
    confirm(client, standard, "upgrade", response)
    pay(Order.objects.get())
    standard.refresh_from_db()
    assert standard.tier.code == "pro" and str(standard.expires_on) == "2027-05-25"
    sms = standard.addons.get(addon__code="SMS")
    assert sms.status != "active"


def test_multiutente_on_premium_adds_users_by_the_rateo(alice, make_mailbox, pay):
    premium = make_mailbox(address="team@pec.it", tier="premium")
    client = logged(alice)
    response = preview(client, premium, "multiutente", {"addon": "MULTIUTENTE", "quantity": "4"})
    quote = response.context["quote"]
    assert (quote.months, quote.net, quote.total) == (6, D("12.00"), D("14.64"))
    confirm(client, premium, "multiutente", response)
    pay(Order.objects.get())
    assert premium.addons.get(addon__code="MULTIUTENTE").quantity == 4
    over = preview(client, premium, "multiutente", {"addon": "MULTIUTENTE", "quantity": "27"})
    assert "quote" not in over.context and "30" in over.content.decode()


def test_a_downgrade_during_the_term_is_not_offered(alice, studio):
    response = logged(alice).get(f"/area-clienti/caselle/{studio.pk}/upgrade/")
    assert [c[0] for c in response.context["form"].fields["to_tier"].choices] == ["premium"]
    bad = preview(logged(alice), studio, "upgrade", {"to_tier": "standard"})
    assert "opzione valida" in bad.content.decode()


def test_an_expired_mailbox_can_only_be_renewed(alice, studio):
    mailbox_transition(mailbox=studio, to_status=MailboxStatus.EXPIRED, today=date(2027, 5, 25))
    client = logged(alice)
    response = client.get(f"/area-clienti/caselle/{studio.pk}/acquista/", follow=True)
    assert "si può solo rinnovare" in response.content.decode()
    assert client.get(f"/area-clienti/caselle/{studio.pk}/rinnova/").status_code == 200


def test_a_cancelled_mailbox_allows_nothing(alice, studio):
    mailbox_transition(mailbox=studio, to_status=MailboxStatus.CANCELLED, today=TODAY)
    client = logged(alice)
    for action in ("acquista", "rinnova", "upgrade"):
        page = client.get(f"/area-clienti/caselle/{studio.pk}/{action}/", follow=True)
        assert "cancellata" in page.content.decode()


def test_riduci_is_refused_while_the_used_space_does_not_fit(alice, make_mailbox):
    mailbox = make_mailbox(
        address="piena@pec.it", extras={"CONSERVAZIONE": 5}, activated_on=date(2026, 5, 25)
    )
    mailbox_set_usage(
        mailbox=mailbox, mailbox_mb=0, archive_mb=0, conservation_mb=3 * 1024 + 10, at=None
    )
    client = logged(alice)
    response = client.post(
        f"/area-clienti/caselle/{mailbox.pk}/riduci/", {"addon": "CONSERVAZIONE", "quantity": "2"}
    )
    assert "elimina almeno 2 GB" in response.content.decode()
    ok = client.post(
        f"/area-clienti/caselle/{mailbox.pk}/riduci/", {"addon": "CONSERVAZIONE", "quantity": "4"}
    )
    assert ok.status_code == 302
    item = mailbox.addons.get()
    assert (item.quantity, item.next_quantity) == (5, 4)


def test_auto_renew_and_disdetta_at_expiry(alice, studio):
    client = logged(alice)
    client.post(f"/area-clienti/caselle/{studio.pk}/rinnovo-automatico/", {"enabled": "1"})
    studio.refresh_from_db()
    assert studio.auto_renew
    refused = client.post(f"/area-clienti/caselle/{studio.pk}/disdetta/", {"when": "expiry"})
    assert "conferma la disdetta" in refused.content.decode()
    client.post(f"/area-clienti/caselle/{studio.pk}/disdetta/", {"when": "expiry", "confirm": "on"})
    studio.refresh_from_db()
    assert studio.cancel_at_expiry and not studio.auto_renew
    assert studio.status == MailboxStatus.ACTIVE


def test_disdetta_now_cancels_the_mailbox_and_its_addons(alice, make_mailbox):
    mailbox = make_mailbox(address="via@pec.it", extras={"SPAZIO": 2})
    logged(alice).post(
        f"/area-clienti/caselle/{mailbox.pk}/disdetta/", {"when": "now", "confirm": "on"}
    )
    mailbox.refresh_from_db()
    assert mailbox.status == MailboxStatus.CANCELLED
    assert set(mailbox.addons.values_list("status", flat=True)) == {"cancelled"}


def test_the_holder_can_be_changed_to_a_new_validated_profile(alice, studio):
    client = logged(alice)
    bad = client.post(
        f"/area-clienti/caselle/{studio.pk}/titolare/",
        {
            "holder": "new",
            "h-kind": "person",
            "h-first_name": "Bruno",
            "h-last_name": "Neri",
            "h-fiscal_code": "RSSMRA85T10A562X",
        },
    )
    assert "carattere di controllo" in bad.content.decode()
    good = client.post(
        f"/area-clienti/caselle/{studio.pk}/titolare/",
        {
            "holder": "new",
            "h-kind": "person",
            "h-first_name": "Bruno",
            "h-last_name": "Verdi",
            "h-fiscal_code": "VRDGPP80A01F205X",
            "h-street": "Via Po 1",
            "h-postal_code": "10100",
            "h-city": "Torino",
            "h-province": "TO",
            "h-email": "bruno@example.it",
        },
    )
    assert good.status_code == 302
    studio.refresh_from_db()
    assert studio.holder.last_name == "Verdi"
    assert studio.events.filter(kind="holder_changed").exists()


def test_a_mailbox_credential_session_sees_one_mailbox_and_may_only_renew_it(
    alice, studio, make_mailbox
):
    other = make_mailbox(address="altra@pec.it")
    Mailbox.objects.filter(pk=studio.pk).update(password=make_password("Casella-Segreta-1"))
    client = Client()
    wrong = client.post(
        "/area-clienti/accedi-casella/", {"address": "studio@pec.it", "password": "sbagliata"}
    )
    assert "non corretti" in wrong.content.decode()
    client.post(
        "/area-clienti/accedi-casella/",
        {"address": "studio@pec.it", "password": "Casella-Segreta-1"},
    )
    page = client.get(f"/area-clienti/caselle/{studio.pk}/").content.decode()
    assert "credenziali della casella" in page
    assert client.get("/area-clienti/")["Location"] == f"/area-clienti/caselle/{studio.pk}/"
    assert client.get(f"/area-clienti/caselle/{other.pk}/").status_code == 404
    for action in ("acquista/", "aumenta/", "upgrade/", "riduci/", "titolare/", "disdetta/"):
        assert client.get(f"/area-clienti/caselle/{studio.pk}/{action}").status_code == 404
        assert client.post(f"/area-clienti/caselle/{studio.pk}/{action}").status_code == 404
    renewal = client.get(f"/area-clienti/caselle/{studio.pk}/rinnova/")
    assert set(renewal.context["form"].fields) == {"years"}
    response = client.post(f"/area-clienti/caselle/{studio.pk}/rinnova/", {"years": "1"})
    redirect = confirm(client, studio, "rinnova", response, method="bank_transfer")
    order = Order.objects.get()
    assert redirect["Location"] == f"/ordini/{order.number}/"
    assert client.get(redirect["Location"]).status_code == 200


def test_a_mailbox_credential_session_gets_the_invoice_of_its_renewal_only(
    alice, studio, order_for, pay
):
    from billing.services.items import ItemSpec

    account_order = order_for(ItemSpec("addon", {"add": {"CONSERVAZIONE": 5}}, studio.pk))
    pay(account_order)
    account_invoice = Invoice.objects.get(order=account_order)
    Mailbox.objects.filter(pk=studio.pk).update(password=make_password("Casella-Segreta-1"))
    client = Client()
    client.post(
        "/area-clienti/accedi-casella/",
        {"address": "studio@pec.it", "password": "Casella-Segreta-1"},
    )
    page = client.get(f"/area-clienti/caselle/{studio.pk}/").content.decode()
    # The account's orders and invoices stay the account's (the history names the order).
    assert f"/ordini/{account_order.number}/" not in page
    assert client.get(f"/area-clienti/fatture/{account_invoice.pk}.pdf").status_code == 404

    response = client.post(f"/area-clienti/caselle/{studio.pk}/rinnova/", {"years": "1"})
    confirm(client, studio, "rinnova", response)
    renewal = Order.objects.exclude(pk=account_order.pk).get()
    pay(renewal)
    invoice = Invoice.objects.get(order=renewal)
    done = client.get(f"/ordini/{renewal.number}/").content.decode()
    assert f"/area-clienti/fatture/{invoice.pk}.pdf" in done
    page = client.get(f"/area-clienti/caselle/{studio.pk}/").content.decode()
    assert f"/ordini/{renewal.number}/" in page
    assert f"/area-clienti/fatture/{invoice.pk}.xml" in page
    pdf = client.get(f"/area-clienti/fatture/{invoice.pk}.pdf")
    assert pdf.status_code == 200 and pdf.content[:4] == b"%PDF"
    assert client.get(f"/area-clienti/fatture/{account_invoice.pk}.xml").status_code == 404


def test_a_second_mailbox_login_in_the_same_browser_does_not_inherit_the_first_s_documents(
    alice, bob, studio, make_mailbox, pay
):
    other = make_mailbox(address="bob@pec.it", customer=bob)
    for mailbox, secret in ((studio, "Casella-Segreta-1"), (other, "Casella-Segreta-2")):
        Mailbox.objects.filter(pk=mailbox.pk).update(password=make_password(secret))
    client = Client()
    client.post(
        "/area-clienti/accedi-casella/",
        {"address": "studio@pec.it", "password": "Casella-Segreta-1"},
    )
    response = client.post(f"/area-clienti/caselle/{studio.pk}/rinnova/", {"years": "1"})
    confirm(client, studio, "rinnova", response)
    renewal = Order.objects.get()
    pay(renewal)
    invoice = Invoice.objects.get(order=renewal)
    assert client.get(f"/area-clienti/fatture/{invoice.pk}.pdf").status_code == 200

    client.post(
        "/area-clienti/accedi-casella/",
        {"address": "bob@pec.it", "password": "Casella-Segreta-2"},
    )
    assert client.get(f"/area-clienti/caselle/{other.pk}/").status_code == 200
    assert client.get(f"/area-clienti/fatture/{invoice.pk}.pdf").status_code == 404
    assert client.get(f"/ordini/{renewal.number}/").status_code in (302, 404)


def test_the_mailbox_page_lists_included_bought_and_scheduled_addons(alice, make_mailbox):
    from area.selectors import addon_rows
    from billing.catalogue_cache import current_catalogue
    from mailboxes.selectors import mailbox_holdings

    mailbox = make_mailbox(address="righe@pec.it", extras={"CONSERVAZIONE": 5})
    item = mailbox.addons.get()
    item.next_quantity = 2
    item.save()
    rows = {r.name: r for r in addon_rows(current_catalogue(), mailbox, mailbox_holdings(mailbox))}
    assert (rows["Conservazione PEC"].bought, rows["Conservazione PEC"].next_quantity) == (5, 2)
    assert (
        rows["Spazio aggiuntivo Archivio di sicurezza"].included,
        rows["Avviso SMS di ricezione"].sold,
    ) == (3, False)
    assert "Utenti aggiuntivi Multiutente" in rows  # Pro includes 1 user, not sold
    page = logged(alice).get(f"/area-clienti/caselle/{mailbox.pk}/").content.decode()
    assert "dal prossimo rinnovo: 2 GB" in page and "fino a 100 GB" in page
    item.next_quantity = 0  # dropped at the next renewal
    item.save()
    page = logged(alice).get(f"/area-clienti/caselle/{mailbox.pk}/").content.decode()
    assert "dal prossimo rinnovo: nessuno" in page


def test_a_standard_mailbox_page_says_the_sms_notice_can_be_bought(alice, make_mailbox):
    mailbox = make_mailbox(address="base@pec.it", tier="standard")
    page = logged(alice).get(f"/area-clienti/caselle/{mailbox.pk}/").content.decode()
    assert re.search(r"Avviso SMS di ricezione</th>.*?<td[^>]*>acquistabile</td>", page, re.S)
    assert "fino a 1 GB" in page  # SPAZIO on Standard: at most 1 GB
    assert "fino a sì" not in page


def test_a_get_by_a_user_without_a_customer_profile_writes_nothing(charlie, studio):
    from customers.models import Customer

    client = logged(charlie)
    before = Customer.objects.count()
    response = client.get("/area-clienti/")
    assert response.status_code == 200
    assert response.context["pages"]["own"].paginator.count == 0
    assert client.get(f"/area-clienti/caselle/{studio.pk}/").status_code == 404
    assert Customer.objects.count() == before
    assert not Customer.objects.filter(user=charlie).exists()


def test_the_history_is_paged_twenty_at_a_time_and_a_bad_page_shows_a_real_one(alice, studio):
    MailboxEvent.objects.bulk_create(
        MailboxEvent(mailbox=studio, kind="usage", data={"n": n}) for n in range(25)
    )
    total = studio.events.count()
    client = logged(alice)
    url = f"/area-clienti/caselle/{studio.pk}/"
    first = client.get(url).context["events"]
    assert (len(first.object_list), first.paginator.count, first.number) == (20, total, 1)
    last = client.get(url, {"eventi": "99"}).context["events"]
    assert last.number == first.paginator.num_pages
    assert len(last.object_list) == total - 20 * (last.number - 1)
    assert client.get(url, {"eventi": "abc"}).context["events"].number == 1
    assert "Pagina 1 di 2" in client.get(url).content.decode()


def test_the_dashboard_pages_each_list_and_counts_both(alice, tiers, make_mailbox):
    from customers.services import holder_create
    from tests.conftest import COMPANY

    _mailboxes(alice, tiers, 25, "mia")
    client_holder = holder_create(customer=alice, **COMPANY)
    Mailbox.objects.bulk_create(
        Mailbox(
            address=f"cliente{i}@pec.it",
            tier=tiers["standard"],
            holder=client_holder,
            customer=alice,
            term_years=1,
            status="active",
            activated_on=date(2026, 1, 1),
            expires_on=date(2027, 1, 1),
        )
        for i in range(3)
    )
    client = logged(alice)
    pages = client.get("/area-clienti/").context["pages"]
    assert (pages["own"].paginator.count, len(pages["own"].rows)) == (25, 20)
    assert (pages["others"].paginator.count, len(pages["others"].rows)) == (3, 3)
    second = client.get("/area-clienti/", {"pagina_mie": "2"}).context["pages"]
    assert (second["own"].number, len(second["own"].rows)) == (2, 5)
    assert second["others"].paginator.count == 3
    beyond = client.get("/area-clienti/", {"pagina_mie": "9"}).context["pages"]
    assert (beyond["own"].number, len(beyond["own"].rows), beyond["others"].paginator.count) == (
        2,
        5,
        3,
    )
    # A filter that leaves the first list empty still counts the other.
    only_clients = client.get("/area-clienti/", {"q": "cliente"}).context["pages"]
    assert (only_clients["own"].paginator.count, only_clients["others"].paginator.count) == (0, 3)
