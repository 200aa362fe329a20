"""The SDI in the back office: each document's transmission history, the resend after a
discard, the receipts, the Cruscotto and the preservation export."""

import csv
import io
import zipfile
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.models import Invoice, InvoiceKind
from billing.sdi.models import SdiState
from billing.sdi.services import receipt_store, sdi_send
from tests.billing import sdi_files

pytestmark = pytest.mark.django_db


@pytest.fixture
def invoice(paid_order):
    return Invoice.objects.get(order=paid_order, kind=InvoiceKind.INVOICE)


def send(invoice):
    transmission = invoice.sdi_transmissions.get(is_current=True)
    assert sdi_send(transmission_id=transmission.pk) == "sent"
    transmission.refresh_from_db()
    return transmission


def discard(invoice):
    transmission = send(invoice)
    when = timezone.localtime().replace(microsecond=0, tzinfo=None).isoformat()
    receipt_store(
        name=sdi_files.receipt_name(transmission.file_name, "NS"),
        content=sdi_files.ns(
            transmission.file_name,
            sdi_id="98765",
            when=when,
            errors=(("00305", "IdCodice non valido"),),
        ),
    )
    transmission.refresh_from_db()
    return transmission


def test_the_document_page_shows_its_transmission_history_with_receipts_and_errors(
    invoice, support, client
):
    first = discard(invoice)
    client.force_login(support)

    page = client.get(reverse("admin:billing_invoice_change", args=[invoice.pk]))

    assert page.status_code == 200
    html = page.content.decode()
    assert "Trasmissione allo SdI" in html
    assert first.file_name in html
    assert "98765" in html  # the SDI's id
    assert "scartata" in html
    assert "00305: IdCodice non valido" in html
    assert sdi_files.receipt_name(first.file_name, "NS") in html
    # Supporto sees it but may not resend.
    assert "Reinvia allo SdI" not in html


def test_amministrazione_resends_a_discarded_document_from_its_page(
    invoice, accounting, client, alice
):
    first = discard(invoice)
    client.force_login(accounting)
    page = client.get(reverse("admin:billing_invoice_change", args=[invoice.pk]))
    assert "Reinvia allo SdI dopo la correzione" in page.content.decode()
    url = reverse("admin:billing_invoice_operation", args=["reinvia-sdi"]) + f"?ids={invoice.pk}"

    response = client.post(url, {"ids": str(invoice.pk), "reason": "Codice fiscale corretto"})

    assert response.status_code == 302
    current = invoice.sdi_transmissions.get(is_current=True)
    assert current.pk != first.pk
    assert current.state == SdiState.QUEUED
    assert current.actor == accounting
    assert current.reason == "Codice fiscale corretto"
    sdi_send(transmission_id=current.pk)
    current.refresh_from_db()
    assert current.file_name != first.file_name


def test_supporto_cannot_resend(invoice, support, client):
    discard(invoice)
    client.force_login(support)
    url = reverse("admin:billing_invoice_operation", args=["reinvia-sdi"]) + f"?ids={invoice.pk}"

    assert client.get(url).status_code == 403
    assert client.post(url, {"ids": str(invoice.pk), "reason": "x"}).status_code == 403
    assert invoice.sdi_transmissions.count() == 1


def test_a_document_that_was_not_discarded_is_not_resent_and_staff_are_told(
    invoice, accounting, client
):
    send(invoice)
    client.force_login(accounting)
    url = reverse("admin:billing_invoice_operation", args=["reinvia-sdi"]) + f"?ids={invoice.pk}"

    response = client.post(url, {"ids": str(invoice.pk), "reason": "prova"}, follow=True)

    assert "si reinvia solo un documento scartato" in response.content.decode()
    assert invoice.sdi_transmissions.count() == 1


def test_the_xml_download_is_the_file_as_sent_under_its_name(invoice, support, client):
    transmission = send(invoice)
    client.force_login(support)

    response = client.get(reverse("admin:billing_invoice_xml", args=[invoice.pk]))

    assert response.content == transmission.xml.encode()
    assert transmission.file_name in response["Content-Disposition"]


def test_the_cruscotto_shows_the_sdi_figures_with_links(invoice, support, client):
    discard(invoice)
    receipt_store(name="rotta.xml", content=b"<rotto")
    client.force_login(support)

    html = client.get(reverse("admin:cruscotto")).content.decode()

    assert "Documenti scartati dallo SdI" in html
    assert "Ricevute SdI da verificare" in html
    assert "rotta.xml" in html
    assert "state__exact=discarded" in html
    assert "reinvio con stesso numero e data entro il" in html
    listed = client.get(
        reverse("admin:billing_sditransmission_changelist")
        + "?is_current__exact=1&state__exact=discarded"
    )
    assert listed.status_code == 200
    assert invoice.sdi_transmissions.get().file_name in listed.content.decode()


def test_the_receipts_list_shows_a_flagged_receipt_with_its_content(support, client):
    receipt_store(name="rotta.xml", content=b"<rotto")
    client.force_login(support)

    listed = client.get(reverse("admin:billing_sdireceipt_changelist") + "?status__exact=flagged")
    assert "rotta.xml" in listed.content.decode()


# --- the preservation export -----------------------------------------------------------------


def read_zip(content: bytes):
    archive = zipfile.ZipFile(io.BytesIO(content))
    rows = list(csv.DictReader(io.StringIO(archive.read("indice.csv").decode("utf-8-sig"))))
    return archive, rows


def test_amministrazione_downloads_the_months_preservation_zip(invoice, accounting, client):
    transmission = send(invoice)
    receipt_store(name="rc.xml", content=sdi_files.rc(transmission.file_name))
    client.force_login(accounting)
    changelist = client.get(reverse("admin:billing_invoice_changelist")).content.decode()
    assert "Export per la conservazione" in changelist
    url = reverse("admin:billing_invoice_preservation")

    assert client.get(url).status_code == 200
    response = client.get(url, {"mese": f"{invoice.issued_on:%Y-%m}"})

    assert response["Content-Type"] == "application/zip"
    archive, rows = read_zip(response.content)
    assert sorted(archive.namelist()) == [
        f"fatture/{transmission.file_name}",
        "indice.csv",
        "ricevute/rc.xml",
    ]
    assert rows[0]["numero"] == invoice.display_number
    assert rows[0]["stato"] == "consegnata"


def test_a_bad_month_is_an_italian_message_not_an_error(accounting, client):
    client.force_login(accounting)

    page = client.get(
        reverse("admin:billing_invoice_preservation"), {"mese": "novembre"}, follow=True
    )

    assert page.status_code == 200
    assert "Mese non valido" in page.content.decode()


def test_supporto_does_not_download_the_preservation_export(support, client):
    client.force_login(support)

    assert client.get(reverse("admin:billing_invoice_preservation")).status_code == 403
    changelist = client.get(reverse("admin:billing_invoice_changelist")).content.decode()
    assert "Export per la conservazione" not in changelist


def test_the_invoice_list_shows_each_documents_sdi_state(invoice, support, client):
    send(invoice)
    client.force_login(support)

    html = client.get(reverse("admin:billing_invoice_changelist")).content.decode()

    assert "inviata, in attesa di esito" in html


def test_the_preservation_totals_equal_the_sum_of_the_documents(invoice, paid_order):
    from billing.sdi.preservation import preservation_export

    send(invoice)
    export = preservation_export(month=invoice.issued_on)
    _, rows = read_zip(export.content)

    assert export.total == sum(Decimal(r["totale"]) for r in rows) == invoice.total
