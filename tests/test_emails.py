"""Every e-mail of the shop carries a plain-text body and an HTML alternative, in the shop's
look, with the order or mailbox details in a table and absolute links that work."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client

from tests.billing.test_orders import new_mailbox
from tests.mailboxes.test_lifecycle import EXPIRY, run_day

pytestmark = pytest.mark.django_db

SITE = "https://shop.example.it"


def html_part(message) -> str:
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    return html


def links(html: str) -> list[str]:
    return re.findall(r'href="([^"]+)"', html)


def test_the_order_emails_have_a_text_and_an_html_part_with_the_order_in_a_table(
    alice, order_for, pay, settings, django_capture_on_commit_callbacks
):
    settings.SITE_URL = SITE
    with django_capture_on_commit_callbacks(execute=True):
        order = order_for(new_mailbox(alice), method="bank_transfer")
    received = mail.outbox[0]
    assert order.number in received.body and "IBAN" in received.body  # the text part
    html = html_part(received)
    assert "<table" in html and f"<strong>{order.number}</strong>" in html
    assert re.search(r"<th[^>]*>IBAN</th>", html)
    total = f"{order.total:.2f}".replace(".", ",")
    assert f"€ {total}" in html
    assert f'href="{SITE}/ordini/{order.number}/"' in html
    assert all(link.startswith(SITE) for link in links(html))


def test_the_paid_email_lists_the_mailboxes_in_its_html_part(
    alice, order_for, pay, settings, django_capture_on_commit_callbacks
):
    settings.SITE_URL = SITE
    with django_capture_on_commit_callbacks(execute=True):
        order = order_for(new_mailbox(alice), method="card")
    with django_capture_on_commit_callbacks(execute=True):
        pay(order)
    paid = mail.outbox[1]
    assert paid.attachments[0][0].endswith(".pdf")  # the invoice still travels with it
    html = html_part(paid)
    assert "studio.rossi@pec.it" in paid.body and "studio.rossi@pec.it" in html
    assert all(link.startswith(SITE) for link in links(html))


def test_the_links_of_an_html_email_lead_to_pages_that_exist(
    alice, order_for, settings, django_capture_on_commit_callbacks
):
    settings.SITE_URL = SITE
    with django_capture_on_commit_callbacks(execute=True):
        order_for(new_mailbox(alice), method="card")
    client = Client()
    client.force_login(alice.user)
    for link in links(html_part(mail.outbox[0])):
        assert client.get(link.removeprefix(SITE)).status_code in (200, 302), link


def test_a_reminder_has_both_parts_with_the_mailbox_and_a_renewal_link(make_mailbox, settings):
    settings.SITE_URL = SITE
    mailbox = make_mailbox()
    run_day(EXPIRY - timedelta(days=30))
    [message] = mail.outbox
    assert mailbox.address in message.body
    html = html_part(message)
    assert mailbox.address in html and "<table" in html
    assert f"{SITE}/area-clienti/caselle/{mailbox.pk}/rinnova/" in links(html)


def test_the_password_reset_email_has_an_html_part_with_the_link(
    alice, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # the outbox sends after commit
        Client().post("/password/reimposta/", {"email": "alice@example.it"})
    [message] = mail.outbox
    link = re.search(r"http://testserver/password/nuova/\S+/", message.body).group(0)
    assert link in links(html_part(message))


# --- every other e-mail: both parts, written to the outbox and sent from its row ------------


def sent_from_the_outbox(message, key: str):
    """The row the outbox wrote for `message` (under `key`), sent, holding both parts."""
    from outbox.models import EmailStatus, OutboundEmail

    row = OutboundEmail.objects.get(key=key)
    assert row.status == EmailStatus.SENT
    assert (row.subject, row.to) == (message.subject, message.to)
    assert row.body == message.body and row.html_body == html_part(message)
    html = row.html_body
    assert "PEC Shop" in html and "#0b5cad" in html  # the shop's look (emails/_base.html)
    assert all(link.startswith(("http://", "https://")) for link in links(html))
    return row


def test_the_card_expiry_notice_has_both_parts_and_goes_through_the_outbox(
    alice, order_for, pay, settings, django_capture_on_commit_callbacks
):
    from billing.gateways import CardDetails
    from billing.models import CardExpiryNotice
    from billing.services.card_expiry import card_expiry_notice_send, card_expiry_notices
    from billing.services.saved_cards import saved_card_record
    from mailboxes.models import Mailbox
    from tests.billing.test_lifecycle import BOUGHT
    from tests.billing.test_lifecycle import EXPIRY as CARD_EXPIRY

    settings.SITE_URL = SITE
    pay(order_for(new_mailbox(alice, years=1), method="card", today=BOUGHT), paid_on=BOUGHT)
    mailbox = Mailbox.objects.get(address="studio.rossi@pec.it")
    saved_card_record(
        customer=alice,
        gateway="test",
        details=CardDetails("test-customer", "test-card-old", "Visa", "1111", 10, 2027),
    )
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert card_expiry_notices(today=CARD_EXPIRY - timedelta(days=37)) == {"noticed": 1}
    [message] = mail.outbox
    notice = CardExpiryNotice.objects.get()
    sent_from_the_outbox(message, f"card_expiry:{notice.pk}")
    html = html_part(message)
    assert "1111" in message.body and "1111" in html and mailbox.address in html
    assert f"{SITE}/area-clienti/metodi-di-pagamento/" in links(html)
    assert notice.sent_at is not None
    # An older task by id finds it queued already: nothing more is written or sent.
    assert card_expiry_notice_send(notice_id=notice.pk) == "already sent"
    assert len(mail.outbox) == 1


def test_the_missed_sdi_delivery_email_has_both_parts_and_the_courtesy_copy_by_reference(
    alice, order_for, pay, settings, django_capture_on_commit_callbacks
):
    from billing.models import Invoice, InvoiceKind
    from billing.sdi.services import not_delivered_email_send, receipt_store, sdi_send
    from outbox.models import OutboundEmail
    from tests.billing import sdi_files

    settings.SITE_URL = SITE
    order = order_for(new_mailbox(alice))
    pay(order)
    invoice = Invoice.objects.get(order=order, kind=InvoiceKind.INVOICE)
    transmission = invoice.sdi_transmissions.get(is_current=True)
    assert sdi_send(transmission_id=transmission.pk) == "sent"
    transmission.refresh_from_db()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        receipt_store(name="mc.xml", content=sdi_files.mc(transmission.file_name))
    [message] = mail.outbox
    row = sent_from_the_outbox(message, f"sdi_not_delivered:{transmission.pk}")
    # The PDF is named, not stored: made again from the issued invoice when sent.
    assert row.attachments == [
        {
            "filename": f"fattura-{invoice.year}-{invoice.number}.pdf",
            "mimetype": "application/pdf",
            "source": "billing.invoice_pdf",
            "ref": invoice.pk,
        }
    ]
    ((name, pdf, mimetype),) = message.attachments
    assert mimetype == "application/pdf" and pdf.startswith(b"%PDF")
    assert "Agenzia delle Entrate" in html_part(message)
    assert not_delivered_email_send(transmission_id=transmission.pk) == "already"
    assert OutboundEmail.objects.filter(key__startswith="sdi_not_delivered:").count() == 1


def test_the_withdrawal_acknowledgement_is_written_with_the_withdrawal_and_has_both_parts(
    alice, order_for, pay, settings, django_capture_on_commit_callbacks
):
    from billing.services.withdrawals import order_withdraw, withdrawal_email_send
    from outbox.models import OutboundEmail
    from tests.billing.test_withdrawals import PAID_ON, at

    settings.SITE_URL = SITE
    order = order_for(new_mailbox(alice))
    pay(order)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=False) as after_commit:
        withdrawal = order_withdraw(order=order, now=at(PAID_ON))
        # In the withdrawal's transaction, before anything runs after its commit.
        assert OutboundEmail.objects.filter(key=f"withdrawal:{withdrawal.pk}").exists()
    assert mail.outbox == []
    for callback in after_commit:
        callback()
    [message] = [m for m in mail.outbox if m.subject.startswith("Recesso registrato")]
    row = sent_from_the_outbox(message, f"withdrawal:{withdrawal.pk}")
    note = withdrawal.credit_note
    assert row.attachments[0]["source"] == "billing.invoice_pdf"
    ((name, pdf, _),) = message.attachments
    assert name == f"nota-di-credito-{note.year}-{note.number}.pdf" and pdf.startswith(b"%PDF")
    html = html_part(message)
    assert note.display_number in html and "<table" in html
    assert f"{SITE}/area-clienti/ordini/{order.number}/recesso/ricevuta/" in links(html)
    assert withdrawal_email_send(withdrawal_id=withdrawal.pk) == "already sent"
    assert OutboundEmail.objects.filter(key__startswith="withdrawal:").count() == 1


def test_the_signup_emails_have_both_parts_and_go_through_the_outbox(
    alice, settings, django_capture_on_commit_callbacks
):
    from django.contrib.auth import get_user_model

    from customers.security import customer_signup
    from outbox.models import OutboundEmail

    settings.SITE_URL = SITE
    with django_capture_on_commit_callbacks(execute=True):
        customer_signup(email="nuova@example.it", password="Password-Lunga-9")
        customer_signup(email="alice@example.it", password="Password-Lunga-9")
    confirm, existing = mail.outbox
    user = get_user_model().objects.get(username="nuova@example.it")
    sent_from_the_outbox(confirm, f"signup_confirm:{user.pk}")
    assert confirm.subject == "Conferma il tuo indirizzo per PEC Shop"
    link = re.search(rf"{SITE}/registrati/conferma/\S+", confirm.body).group(0)
    assert link in links(html_part(confirm))
    assert existing.subject == "Il tuo account PEC Shop"
    assert "ha già un account" in existing.body and "ha già un account" in html_part(existing)
    row = OutboundEmail.objects.get(to=["alice@example.it"])
    assert row.html_body == html_part(existing) and row.status == "sent"
