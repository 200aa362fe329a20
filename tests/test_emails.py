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
