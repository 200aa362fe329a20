"""Every line about a mailbox names its address, and its holder when the holder is not the
invoiced party: on the order, in the e-mails, in the PDF and in the FatturaPA."""

import io
import xml.etree.ElementTree as ET

import pytest
from django.core import mail
from pypdf import PdfReader

from billing.documents import (
    document_from_invoice,
    invoice_fatturapa_xml,
    invoice_pdf,
    validate_fatturapa,
)
from billing.models import Invoice, InvoiceKind, OrderLine
from billing.services.items import ItemSpec
from customers.services import holder_create
from tests.billing.test_orders import new_mailbox
from tests.conftest import COMPANY

pytestmark = pytest.mark.django_db


def pdf_text(pdf: bytes) -> str:
    return " ".join(
        " ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages
    )


@pytest.fixture
def company(alice):
    return holder_create(customer=alice, **COMPANY)


@pytest.fixture
def two_mailbox_invoice(alice, company, order_for, pay):
    """Alice buys two Pro mailboxes for 2 years: one for herself, one for a company."""
    order = order_for(
        new_mailbox(alice, local_part="alice.rossi"),
        new_mailbox(alice, local_part="bianchi.srl", holder=company),
    )
    pay(order)
    return Invoice.objects.get(order=order, kind=InvoiceKind.INVOICE)


def test_the_order_lines_name_the_mailbox_and_the_holder_who_is_not_the_buyer(
    two_mailbox_invoice,
):
    own, other = OrderLine.objects.filter(order=two_mailbox_invoice.order).order_by("position")

    assert (own.mailbox_address, own.holder_name) == ("alice.rossi@pec.it", "")
    assert own.description == "Casella PEC Pro, 2 anni – alice.rossi@pec.it"
    assert (other.mailbox_address, other.holder_name) == ("bianchi.srl@pec.it", "Bianchi S.r.l.")
    assert other.description == (
        "Casella PEC Pro, 2 anni – bianchi.srl@pec.it (titolare: Bianchi S.r.l.)"
    )


def test_the_invoice_pdf_of_a_two_mailbox_order_names_both_addresses(two_mailbox_invoice):
    text = pdf_text(invoice_pdf(document_from_invoice(two_mailbox_invoice)))

    assert "alice.rossi@pec.it" in text
    assert "bianchi.srl@pec.it" in text
    assert "titolare: Bianchi S.r.l." in text


def test_the_fatturapa_of_a_two_mailbox_order_names_both_addresses_in_each_line(
    two_mailbox_invoice,
):
    xml = invoice_fatturapa_xml(document_from_invoice(two_mailbox_invoice))
    assert validate_fatturapa(xml) == []

    lines = ET.fromstring(xml).findall(".//DettaglioLinee")
    described = [line.findtext("Descrizione") for line in lines]
    assert "alice.rossi@pec.it" in described[0]
    assert "bianchi.srl@pec.it" in described[1]
    assert "titolare: Bianchi S.r.l." in described[1]
    references = [
        {
            data.findtext("TipoDato"): data.findtext("RiferimentoTesto")
            for data in line.findall("AltriDatiGestionali")
        }
        for line in lines
    ]
    assert references == [
        {"CASELLA": "alice.rossi@pec.it"},
        {"CASELLA": "bianchi.srl@pec.it", "TITOLARE": "Bianchi S.r.l."},
    ]


def test_the_order_page_and_the_order_email_name_the_addresses(
    alice, company, order_for, client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        order = order_for(
            new_mailbox(alice, local_part="alice.rossi"),
            new_mailbox(alice, local_part="bianchi.srl", holder=company),
        )
    body = mail.outbox[-1].body
    assert "Casella PEC Pro, 2 anni – alice.rossi@pec.it" in body
    assert "Casella PEC Pro, 2 anni – bianchi.srl@pec.it (titolare: Bianchi S.r.l.)" in body

    client.force_login(alice.user)
    from django.urls import reverse

    page = client.get(reverse("billing:order_done", args=[order.number]))
    html = page.content.decode()
    assert "Casella PEC Pro, 2 anni – bianchi.srl@pec.it (titolare: Bianchi S.r.l.)" in html


def test_an_addon_bought_for_an_existing_mailbox_names_it(alice, make_mailbox, order_for, pay):
    mailbox = make_mailbox(address="esistente@pec.it")
    order = order_for(
        ItemSpec("addon", {"add": {"CONSERVAZIONE": 5}}, mailbox_id=mailbox.pk),
    )
    pay(order)
    line = Invoice.objects.get(order=order).lines.get()

    assert line.mailbox_address == "esistente@pec.it"
    assert "esistente@pec.it" in line.description


def test_an_issued_invoice_keeps_what_its_lines_said(two_mailbox_invoice, alice):
    line = two_mailbox_invoice.lines.get(mailbox_address="bianchi.srl@pec.it")
    holder = line.invoice.order.items.get(position=1).mailbox.holder
    holder.company_name = "Bianchi Nuova S.p.A."
    holder.save()

    line.refresh_from_db()
    xml = invoice_fatturapa_xml(document_from_invoice(two_mailbox_invoice))
    assert "Bianchi S.r.l." in line.description
    assert b"Bianchi Nuova" not in xml


def test_an_order_placed_before_lines_named_mailboxes_is_named_when_invoiced(alice, order_for, pay):
    order = order_for(new_mailbox(alice, local_part="vecchio"))
    # As an order line was written before: no address of its own.
    OrderLine.objects.filter(order=order).update(
        description="Casella PEC Pro, 2 anni", mailbox_address="", holder_name=""
    )
    pay(order)

    line = Invoice.objects.get(order=order).lines.get()
    assert line.description == "Casella PEC Pro, 2 anni – vecchio@pec.it"
    assert line.mailbox_address == "vecchio@pec.it"


def test_a_full_credit_note_names_the_same_mailboxes(two_mailbox_invoice, admin_user):
    from datetime import date

    from billing.services.refunds import order_refund

    note = order_refund(
        order=two_mailbox_invoice.order, actor=admin_user, reason="reso", today=date(2026, 11, 26)
    ).credit_note

    assert [line.mailbox_address for line in note.lines.all()] == [
        "alice.rossi@pec.it",
        "bianchi.srl@pec.it",
    ]
    xml = invoice_fatturapa_xml(document_from_invoice(note))
    assert validate_fatturapa(xml) == []
    assert b"<RiferimentoTesto>bianchi.srl@pec.it</RiferimentoTesto>" in xml
