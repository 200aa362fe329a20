"""Recedi dal contratto qui: reachable while the period is open, scoped to the account, one
confirmation, the receipt; refusals with a clear Italian message. Revoca disdetta."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.hashers import make_password
from django.core import mail
from django.test import Client

from billing.models import InvoiceKind, Order, OrderStatus
from billing.services.items import ItemSpec
from billing.withdrawal_models import Withdrawal
from mailboxes.models import Mailbox, MailboxStatus
from tests.billing.test_orders import new_mailbox
from tests.conftest import COMPANY, make_customer

pytestmark = pytest.mark.django_db
ROME = ZoneInfo("Europe/Rome")


@pytest.fixture
def clock(monkeypatch):
    """The Area Clienti asks timezone.now(): pin it (and the day) to a given moment."""
    from django.utils import timezone

    def set_to(moment: datetime):
        monkeypatch.setattr(timezone, "now", lambda: moment)
        monkeypatch.setattr(timezone, "localdate", lambda *a, **k: moment.date())

    set_to(datetime(2026, 11, 25, 10, 0, tzinfo=ROME))
    return set_to


def logged(customer) -> Client:
    client = Client()
    client.force_login(customer.user)
    return client


@pytest.fixture
def paid_order(alice, order_for, pay, clock):
    order = order_for(new_mailbox(alice, addons={"CONSERVAZIONE": 5}))
    pay(order)
    order.refresh_from_db()
    return order


def url(order, suffix=""):
    return f"/area-clienti/ordini/{order.number}/recesso/{suffix}"


def test_the_link_is_on_the_dashboard_the_order_page_and_the_mailbox_page(alice, paid_order):
    client = logged(alice)
    mailbox = Mailbox.objects.get(address="studio.rossi@pec.it")
    dashboard = client.get("/area-clienti/").content.decode()
    assert "Recedi dal contratto qui" in dashboard and "/area-clienti/recesso/" in dashboard
    start = client.get("/area-clienti/recesso/").content.decode()
    assert url(paid_order) in start and "09/12/2026 alle 23:59" in start
    assert url(paid_order) in client.get(f"/ordini/{paid_order.number}/").content.decode()
    assert url(paid_order) in client.get(f"/area-clienti/caselle/{mailbox.pk}/").content.decode()


def test_the_dashboard_link_comes_with_the_list_and_goes_when_the_period_ends(
    alice, paid_order, clock
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = logged(alice)
    client.get("/area-clienti/")
    with CaptureQueriesContext(connection) as queries:
        dashboard = client.get("/area-clienti/").content.decode()
    assert "Recedi dal contratto qui" in dashboard
    assert not [q for q in queries if q["sql"].startswith('SELECT 1 AS "a" FROM "billing_order"')]

    def dashboard_on(moment):  # a new login each time: a session ages with the clock
        clock(moment)
        return logged(alice).get("/area-clienti/").content.decode()

    assert "Recedi dal contratto qui" in dashboard_on(datetime(2026, 12, 9, 23, 0, tzinfo=ROME))
    assert "Recedi dal contratto qui" not in dashboard_on(datetime(2026, 12, 10, 9, tzinfo=ROME))
    Order.objects.filter(pk=paid_order.pk).update(status=OrderStatus.CANCELLED)
    assert "Recedi dal contratto qui" not in dashboard_on(datetime(2026, 11, 26, 9, tzinfo=ROME))


def test_the_mailbox_page_finds_a_withdrawable_order_behind_more_orders_than_it_shows(
    alice, paid_order
):
    from decimal import Decimal

    from area.selectors import ORDERS_SHOWN
    from billing.models import OrderItem

    mailbox = Mailbox.objects.get(address="studio.rossi@pec.it")
    page = f"/area-clienti/caselle/{mailbox.pk}/"
    assert url(paid_order) in logged(alice).get(page).content.decode()  # read with the orders
    for n in range(ORDERS_SHOWN):  # newer orders of the same mailbox, never paid
        newer = Order.objects.create(
            customer=alice,
            billing_holder=alice.own_holder,
            status=OrderStatus.CANCELLED,
            payment_method=paid_order.payment_method,
            net=Decimal("1.00"),
            vat=Decimal("0.22"),
            total=Decimal("1.22"),
            placed_on=paid_order.placed_on,
            placement_key=f"prova-{n}",
        )
        OrderItem.objects.create(order=newer, position=1, kind="addon", mailbox=mailbox)
    response = logged(alice).get(page)
    assert paid_order not in response.context["orders"]  # no longer among the orders shown
    assert url(paid_order) in response.content.decode()  # still withdrawable


def test_the_link_is_in_the_order_paid_email(
    alice, order_for, pay, clock, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    order = order_for(new_mailbox(alice))
    with django_capture_on_commit_callbacks(execute=True):  # the outbox sends after commit
        pay(order)
    [paid] = [m for m in mail.outbox if m.subject.startswith("Pagamento ricevuto")]
    body = paid.body
    assert "Recedi dal contratto qui" in body and url(order) in body
    assert "entro il 09/12/2026 alle 23:59" in body


def test_the_order_paid_email_of_a_business_offers_no_withdrawal(
    order_for, pay, clock, django_capture_on_commit_callbacks
):
    company = make_customer("ufficio@bianchi.example", COMPANY)
    order = order_for(new_mailbox(company), customer=company)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):  # the outbox sends after commit
        pay(order)
    [paid] = [m for m in mail.outbox if m.subject.startswith("Pagamento ricevuto")]
    assert "recedere" not in paid.body.lower()
    assert "recedere" not in paid.alternatives[0][0].lower()


def test_the_page_shows_what_is_undone_the_refund_and_the_deadline(alice, paid_order):
    page = logged(alice).get(url(paid_order)).content.decode()
    assert f"Recesso dall&#x27;ordine {paid_order.number}" in page or paid_order.number in page
    assert "studio.rossi@pec.it viene cancellata" in page
    for figure in ("€ 89,80", "€ 0,00", "€ 19,76", "€ 109,56"):
        assert figure in page
    assert "09/12/2026 alle 23:59" in page
    assert "torna sul metodo di pagamento usato" in page
    assert page.count("Conferma il recesso") == 1
    assert not Withdrawal.objects.exists()  # showing the page changes nothing


def test_confirming_withdraws_and_the_receipt_acknowledges_it(
    alice, paid_order, clock, django_capture_on_commit_callbacks
):
    clock(datetime(2026, 11, 25, 17, 42, tzinfo=ROME))
    client = logged(alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url(paid_order))
    assert response.status_code == 302
    assert response["Location"] == url(paid_order, "ricevuta/")
    receipt = client.get(response["Location"]).content.decode()
    withdrawal = Withdrawal.objects.get()
    assert "25/11/2026 17:42" in receipt
    assert f"n. {withdrawal.credit_note.display_number}" in receipt
    assert f"/area-clienti/fatture/{withdrawal.credit_note.pk}.pdf" in receipt
    assert "studio.rossi@pec.it è stata cancellata" in receipt
    assert "€ 109,56" in receipt
    pdf = client.get(f"/area-clienti/fatture/{withdrawal.credit_note.pk}.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert Mailbox.objects.get().status == MailboxStatus.CANCELLED
    (message,) = [m for m in mail.outbox if "Recesso registrato" in m.subject]
    assert "25/11/2026 alle 17:42" in message.body
    # the order page now points to the receipt, and the button is gone
    order_page = client.get(f"/ordini/{paid_order.number}/").content.decode()
    assert url(paid_order, "ricevuta/") in order_page
    assert "Recedi dal contratto qui" not in order_page


def test_a_second_confirmation_changes_nothing_and_shows_the_receipt(alice, paid_order):
    client = logged(alice)
    client.post(url(paid_order))
    again = client.post(url(paid_order))
    assert again["Location"] == url(paid_order, "ricevuta/")
    assert "Hai già esercitato il recesso" in client.get(again["Location"]).content.decode()
    assert paid_order.invoices.filter(kind=InvoiceKind.CREDIT_NOTE).count() == 1


def test_after_the_deadline_the_button_is_gone_and_a_post_is_refused(alice, paid_order, clock):
    clock(datetime(2026, 12, 10, 0, 1, tzinfo=ROME))
    client = logged(alice)
    page = client.get(url(paid_order)).content.decode()
    assert "Conferma il recesso" not in page
    assert "è terminato il 09/12/2026 alle 23:59" in page
    assert "Recedi dal contratto qui" not in client.get("/area-clienti/").content.decode()
    assert url(paid_order) not in client.get(f"/ordini/{paid_order.number}/").content.decode()
    refused = client.post(url(paid_order))
    assert refused.status_code == 403
    assert "non è più possibile recedere" in refused.content.decode()
    paid_order.refresh_from_db()
    assert paid_order.status == OrderStatus.PAID
    assert not Withdrawal.objects.exists()


def test_a_business_holder_gets_a_plain_statement_and_nothing_offered(order_for, pay, clock):
    company = make_customer("ufficio@bianchi.example", COMPANY)
    order = order_for(new_mailbox(company), customer=company)
    pay(order)
    client = logged(company)
    page = client.get(url(order)).content.decode()
    assert "solo ai consumatori" in page and "Conferma il recesso" not in page
    assert "Recedi dal contratto qui" not in client.get("/area-clienti/").content.decode()
    assert client.post(url(order)).status_code == 403
    assert not Withdrawal.objects.exists()


def test_an_unpaid_order_is_refused_with_a_message(alice, order_for, clock):
    order = order_for(new_mailbox(alice), method="bank_transfer")
    client = logged(alice)
    assert "non è pagato" in client.get(url(order)).content.decode()
    refused = client.post(url(order))
    assert refused.status_code == 403 and "non è pagato" in refused.content.decode()


def test_another_customers_order_is_a_404(bob, paid_order):
    client = logged(bob)
    for path in (url(paid_order), url(paid_order, "ricevuta/")):
        assert client.get(path).status_code == 404
        assert client.post(path).status_code == 404
    assert not Withdrawal.objects.exists()


def test_a_mailbox_credential_session_cannot_withdraw(alice, paid_order):
    mailbox = Mailbox.objects.get()
    Mailbox.objects.filter(pk=mailbox.pk).update(password=make_password("Casella-Segreta-1"))
    client = Client()
    client.post(
        "/area-clienti/accedi-casella/",
        {"address": mailbox.address, "password": "Casella-Segreta-1"},
    )
    assert "Recedi" not in client.get(f"/area-clienti/caselle/{mailbox.pk}/").content.decode()
    for path in ("/area-clienti/recesso/", url(paid_order), url(paid_order, "ricevuta/")):
        assert client.get(path).status_code == 404
        assert client.post(path).status_code == 404
    assert not Withdrawal.objects.exists()


def test_a_bank_transfer_refund_asks_for_a_valid_iban(alice, order_for, clock):
    from billing.services.payments import bank_transfer_register

    order = order_for(new_mailbox(alice), method="bank_transfer")
    bank_transfer_register(
        order=order, amount=order.total, received_on=date(2026, 11, 25), bank_reference="CRO-7"
    )
    client = logged(alice)
    assert "IBAN per il rimborso" in client.get(url(order)).content.decode()
    wrong = client.post(url(order), {"iban": "IT00X0542811101000000123456"})
    assert wrong.status_code == 200 and "L&#x27;IBAN non è valido" in wrong.content.decode()
    assert not Withdrawal.objects.exists()
    done = client.post(url(order), {"iban": "IT60X0542811101000000123456"})
    assert done.status_code == 302
    assert Withdrawal.objects.get().iban == "IT60X0542811101000000123456"


def test_a_withdrawn_addon_that_no_longer_fits_says_so_on_the_mailbox_page(
    alice, make_mailbox, order_for, pay, clock
):
    from mailboxes.services import mailbox_set_usage

    mailbox = make_mailbox()
    order = order_for(ItemSpec("addon", {"add": {"SPAZIO": 5}}, mailbox.pk))
    pay(order)
    mailbox_set_usage(
        mailbox=mailbox,
        mailbox_mb=4 * 1024,
        archive_mb=0,
        conservation_mb=0,
        at=datetime(2026, 11, 25, 9, tzinfo=ROME),
    )
    client = logged(alice)
    receipt = client.get(client.post(url(order))["Location"]).content.decode()
    assert "elimina almeno 2 GB" in receipt
    page = client.get(f"/area-clienti/caselle/{mailbox.pk}/").content.decode()
    assert "elimina almeno 2 GB" in page


# --- Revoca disdetta -------------------------------------------------------------------------


@pytest.fixture
def cancelled_at_expiry(alice, make_mailbox, clock):
    mailbox = make_mailbox()
    logged(alice).post(
        f"/area-clienti/caselle/{mailbox.pk}/disdetta/", {"when": "expiry", "confirm": "on"}
    )
    mailbox.refresh_from_db()
    assert mailbox.cancel_at_expiry
    return mailbox


def test_turning_automatic_renewal_on_does_not_remove_a_disdetta(alice, cancelled_at_expiry):
    client = logged(alice)
    response = client.post(
        f"/area-clienti/caselle/{cancelled_at_expiry.pk}/rinnovo-automatico/",
        {"enabled": "1"},
        follow=True,
    )
    assert "revoca prima la disdetta" in response.content.decode()
    cancelled_at_expiry.refresh_from_db()
    assert cancelled_at_expiry.cancel_at_expiry and not cancelled_at_expiry.auto_renew


def test_revoca_disdetta_is_its_own_action_with_a_confirmation(alice, cancelled_at_expiry):
    client = logged(alice)
    path = f"/area-clienti/caselle/{cancelled_at_expiry.pk}/revoca-disdetta/"
    assert path in client.get(f"/area-clienti/caselle/{cancelled_at_expiry.pk}/").content.decode()
    confirmation = client.get(path)
    assert "Conferma: revoca la disdetta" in confirmation.content.decode()
    cancelled_at_expiry.refresh_from_db()
    assert cancelled_at_expiry.cancel_at_expiry  # a GET changes nothing
    done = client.post(path, {}, follow=True)
    assert "Disdetta revocata" in done.content.decode()
    cancelled_at_expiry.refresh_from_db()
    assert not cancelled_at_expiry.cancel_at_expiry
    assert cancelled_at_expiry.events.filter(reason="disdetta revocata dal cliente").exists()
    # and now automatic renewal can be turned on
    client.post(
        f"/area-clienti/caselle/{cancelled_at_expiry.pk}/rinnovo-automatico/", {"enabled": "1"}
    )
    cancelled_at_expiry.refresh_from_db()
    assert cancelled_at_expiry.auto_renew


def test_revoca_disdetta_of_another_customers_mailbox_is_a_404(bob, cancelled_at_expiry):
    path = f"/area-clienti/caselle/{cancelled_at_expiry.pk}/revoca-disdetta/"
    assert logged(bob).post(path, {"confirm": "on"}).status_code == 404
    cancelled_at_expiry.refresh_from_db()
    assert cancelled_at_expiry.cancel_at_expiry
