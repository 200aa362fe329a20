from datetime import date
from decimal import Decimal as D

import pytest

from billing.documents import (
    document_from_invoice,
    invoice_fatturapa_xml,
    invoice_pdf,
    validate_fatturapa,
)
from billing.models import Invoice, InvoiceKind
from billing.services.invoices import credit_note_issue
from customers.services import holder_create
from tests.billing.test_orders import new_mailbox
from tests.conftest import COMPANY

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid_invoice(alice, order_for, pay):
    def make(local_part="fattura", customer=None, **kwargs):
        order = order_for(
            new_mailbox(customer or alice, local_part=local_part, **kwargs), customer=customer
        )
        pay(order)
        return Invoice.objects.get(order=order, kind=InvoiceKind.INVOICE)

    return make


def test_the_fatturapa_of_a_private_person_validates_against_the_schema(paid_invoice):
    xml = invoice_fatturapa_xml(document_from_invoice(paid_invoice()))
    assert validate_fatturapa(xml) == []
    assert b"<CodiceDestinatario>0000000</CodiceDestinatario>" in xml
    assert b"RSSMRA85T10A562S" in xml


def test_the_fatturapa_of_a_company_carries_its_sdi_code_and_partita_iva(bob, order_for, pay):
    from customers.models import Customer

    company = holder_create(customer=bob, **COMPANY)
    Customer.objects.filter(pk=bob.pk).update(own_holder=company)
    bob.refresh_from_db()
    order = order_for(new_mailbox(bob, local_part="azienda"), customer=bob)
    pay(order)
    xml = invoice_fatturapa_xml(document_from_invoice(Invoice.objects.get(order=order)))
    assert validate_fatturapa(xml) == []
    assert b"<CodiceDestinatario>M5UXCR1</CodiceDestinatario>" in xml
    assert b"00743110157" in xml


def test_the_invoice_pdf_is_made_from_the_issued_invoice(paid_invoice):
    pdf = invoice_pdf(document_from_invoice(paid_invoice()))
    assert pdf.startswith(b"%PDF")


def test_the_buyer_data_on_an_invoice_do_not_change_with_the_profile(alice, paid_invoice):
    invoice = paid_invoice()
    alice.own_holder.street = "Via Nuova 99"
    alice.own_holder.save()
    invoice.refresh_from_db()
    assert invoice.buyer["street"] == "Via Roma 1"


def test_an_issued_invoice_can_be_neither_edited_nor_deleted(paid_invoice):
    invoice = paid_invoice()
    invoice.total = D("0.01")
    with pytest.raises(ValueError, match="nota di credito"):
        invoice.save()
    with pytest.raises(ValueError):
        invoice.delete()
    assert Invoice.objects.get(pk=invoice.pk).total == D("60.76")


def test_credit_notes_continue_the_same_numbering_without_gaps(paid_invoice):
    first = paid_invoice("prima")
    note = credit_note_issue(invoice=first, issued_on=date(2026, 12, 2))
    second = paid_invoice("seconda")
    assert [first.number, note.number, second.number] == [1, 2, 3]
    assert (note.kind, note.credited_invoice, note.total) == ("credit_note", first, D("60.76"))
    xml = invoice_fatturapa_xml(document_from_invoice(note))
    assert validate_fatturapa(xml) == []
    assert b"<TipoDocumento>TD04</TipoDocumento>" in xml


def test_a_partial_credit_note_cannot_exceed_what_is_left_to_credit(paid_invoice):
    invoice = paid_invoice()
    partial = credit_note_issue(invoice=invoice, issued_on=date(2026, 12, 2), net=D("20.00"))
    assert (partial.net, partial.vat, partial.total) == (D("20.00"), D("4.40"), D("24.40"))
    with pytest.raises(ValueError, match="al massimo 29.80"):
        credit_note_issue(invoice=invoice, issued_on=date(2026, 12, 2), net=D("30.00"))


def test_numbering_restarts_each_calendar_year(alice, order_for, pay):
    december = order_for(new_mailbox(alice, local_part="dicembre"))
    pay(december, paid_on=date(2026, 12, 31))
    january = order_for(new_mailbox(alice, local_part="gennaio"))
    pay(january, paid_on=date(2027, 1, 1))
    assert sorted(Invoice.objects.values_list("year", "number")) == [(2026, 1), (2027, 1)]
