"""The monthly package for the conservatore."""

import csv
import io
import zipfile
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from billing.models import Invoice, InvoiceKind
from billing.sdi.preservation import parse_month, preservation_export
from billing.sdi.services import receipt_store, sdi_send
from tests.billing import sdi_files
from tests.billing.test_orders import new_mailbox

pytestmark = pytest.mark.django_db


@pytest.fixture
def invoice_on(alice, order_for, pay):
    def make(local_part, day, *, send=True, years=2):
        order = order_for(new_mailbox(alice, local_part=local_part, years=years), today=day)
        pay(order, paid_on=day)
        invoice = Invoice.objects.get(order=order, kind=InvoiceKind.INVOICE)
        transmission = invoice.sdi_transmissions.get()
        if send:
            assert sdi_send(transmission_id=transmission.pk) == "sent"
            transmission.refresh_from_db()
        return invoice, transmission

    return make


def unpack(content: bytes):
    archive = zipfile.ZipFile(io.BytesIO(content))
    rows = list(csv.DictReader(io.StringIO(archive.read("indice.csv").decode("utf-8-sig"))))
    return archive, rows


def test_the_zip_holds_exactly_the_months_sent_documents_and_their_receipts(invoice_on):
    first, first_t = invoice_on("primo", date(2026, 11, 2))
    second, second_t = invoice_on("secondo", date(2026, 11, 30), years=3)
    _, december_t = invoice_on("dicembre", date(2026, 12, 1))
    invoice_on("non-inviato", date(2026, 11, 15), send=False)
    receipt_store(name="rc-primo.xml", content=sdi_files.rc(first_t.file_name))
    receipt_store(name="mc-secondo.xml", content=sdi_files.mc(second_t.file_name))
    receipt_store(name="rc-dicembre.xml", content=sdi_files.rc(december_t.file_name))

    export = preservation_export(month=date(2026, 11, 1))
    archive, rows = unpack(export.content)

    assert sorted(archive.namelist()) == sorted(
        [
            f"fatture/{first_t.file_name}",
            f"fatture/{second_t.file_name}",
            "ricevute/rc-primo.xml",
            "ricevute/mc-secondo.xml",
            "indice.csv",
        ]
    )
    assert archive.read(f"fatture/{first_t.file_name}") == first_t.xml.encode()
    assert archive.read("ricevute/rc-primo.xml") == sdi_files.rc(first_t.file_name)
    assert [row["numero"] for row in rows] == [first.display_number, second.display_number]
    assert rows[0] == {
        "numero": first.display_number,
        "data": "2026-11-02",
        "tipo": "TD01",
        "cliente": "Alice Rossi",
        "codice_fiscale_partita_iva": "RSSMRA85T10A562S",
        "imponibile": f"{first.net:.2f}",
        "iva": f"{first.vat:.2f}",
        "totale": f"{first.total:.2f}",
        "identificativo_sdi": "111222333",
        "stato": "consegnata",
        "nome_file": first_t.file_name,
    }
    assert rows[1]["stato"].startswith("non consegnata")
    for column, field in (("imponibile", "net"), ("iva", "vat"), ("totale", "total")):
        in_csv = sum(Decimal(row[column]) for row in rows)
        assert in_csv == getattr(first, field) + getattr(second, field)
    assert export.total == first.total + second.total
    assert (export.documents, export.files, export.receipts) == (2, 2, 2)


def test_a_resent_document_brings_both_files_and_every_receipt(invoice_on, admin_user):
    from billing.sdi.services import sdi_resend

    invoice, first = invoice_on("scartata", date(2026, 11, 20))
    receipt_store(name="ns.xml", content=sdi_files.ns(first.file_name, when="2026-11-20T12:00:00"))
    second = sdi_resend(invoice=invoice, actor=admin_user, reason="CF", today=date(2026, 11, 22))
    sdi_send(transmission_id=second.pk)
    second.refresh_from_db()
    receipt_store(name="rc.xml", content=sdi_files.rc(second.file_name))

    archive, rows = unpack(preservation_export(month=date(2026, 11, 1)).content)

    assert f"fatture/{first.file_name}" in archive.namelist()
    assert f"fatture/{second.file_name}" in archive.namelist()
    assert {"ricevute/ns.xml", "ricevute/rc.xml"} <= set(archive.namelist())
    assert len(rows) == 1
    assert rows[0]["stato"] == "consegnata"
    assert rows[0]["nome_file"] == second.file_name


def test_the_command_writes_the_zip(invoice_on, tmp_path):
    invoice_on("comando", date(2026, 11, 3))
    target = tmp_path / "novembre.zip"
    out = io.StringIO()

    call_command("export_preservation", "--month", "2026-11", "--output", str(target), stdout=out)

    assert "1 documenti" in out.getvalue()
    _, rows = unpack(target.read_bytes())
    assert len(rows) == 1


@pytest.mark.parametrize("text", ["2026-13", "novembre", "", "26-11"])
def test_a_bad_month_is_refused_with_a_clear_message(text):
    with pytest.raises(ValueError, match="Mese non valido"):
        parse_month(text)


def test_the_command_refuses_a_bad_month(db):
    with pytest.raises(CommandError, match="Mese non valido"):
        call_command("export_preservation", "--month", "2026-13")
