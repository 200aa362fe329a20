"""Invoice documents: FatturaPA XML checked against the official schema, and the PDF copy.

Every document here is built in the test, with no database.
"""

import dataclasses
import io
import re
import xml.etree.ElementTree as ET
from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import a38
import pytest
from a38.validation import Validation
from pypdf import PdfReader
from stdnum.it import codicefiscale, iva

from billing.documents import (
    InvoiceDocument,
    InvoiceDocumentLine,
    document_from_invoice,
    invoice_fatturapa_xml,
    invoice_pdf,
    progressivo_invio,
    validate_fatturapa,
)
from billing.money import quantize, vat_of

D = Decimal

SELLER = {
    "name": "PEC Shop S.r.l.",
    "vat_number": "12345670017",
    "fiscal_code": "12345670017",
    "street": "Via del Corso 100",
    "postal_code": "00186",
    "city": "Roma",
    "province": "RM",
    "tax_regime": "RF01",
    "email": "fatture@pecshop.example",
}

PERSON = {
    "kind": "person",
    "name": "Mario Rossi",
    "first_name": "Mario",
    "last_name": "Rossi",
    "company_name": "",
    "vat_number": "",
    "fiscal_code": "RSSMRA85T10A562S",
    "street": "Via Garibaldi 12",
    "postal_code": "20121",
    "city": "Milano",
    "province": "MI",
    "country": "IT",
    "email": "mario.rossi@example.it",
    "sdi_code": "",
    "invoice_pec": "",
}

COMPANY_WITH_SDI = {
    "kind": "company",
    "name": "Ferramenta Bianchi S.r.l.",
    "first_name": "",
    "last_name": "",
    "company_name": "Ferramenta Bianchi S.r.l.",
    "vat_number": "00743110157",
    "fiscal_code": "00743110157",
    "street": "Corso Italia 5",
    "postal_code": "10121",
    "city": "Torino",
    "province": "TO",
    "country": "IT",
    "email": "amministrazione@bianchi.example",
    "sdi_code": "M5UXCR1",
    "invoice_pec": "",
}

COMPANY_WITH_PEC = {
    **COMPANY_WITH_SDI,
    "sdi_code": "",
    "invoice_pec": "fatture@pec.bianchi.example",
}

LINES = (
    InvoiceDocumentLine(1, "PEC-PRO", "Casella PEC Pro", 1, 12, D("24.90"), D("24.90")),
    InvoiceDocumentLine(2, "SPAZIO", "Spazio aggiuntivo casella", 3, 12, D("3.00"), D("9.00")),
)


def make_document(
    *, buyer=PERSON, lines=LINES, kind="invoice", credited_number=None, number=7
) -> InvoiceDocument:
    net = sum((line.net for line in lines), D("0.00"))
    vat = vat_of(net)
    return InvoiceDocument(
        kind=kind,
        year=2026,
        number=number,
        issued_on=date(2026, 3, 15),
        seller=SELLER,
        buyer=buyer,
        lines=lines,
        net=net,
        vat_rate=D("22.00"),
        vat=vat,
        total=net + vat,
        credited_number=credited_number,
        order_number="ORD-2026-00042",
    )


def credit_note(buyer=PERSON) -> InvoiceDocument:
    return make_document(buyer=buyer, kind="credit_note", credited_number="2026/3", number=9)


def parse(xml: bytes) -> ET.Element:
    return ET.fromstring(xml)


def text_at(root: ET.Element, path: str) -> str | None:
    element = root.find(path)
    return None if element is None else element.text


BUYER = "FatturaElettronicaHeader/CessionarioCommittente/DatiAnagrafici"
TRANSMISSION = "FatturaElettronicaHeader/DatiTrasmissione"
GENERAL = "FatturaElettronicaBody/DatiGenerali/DatiGeneraliDocumento"
SUMMARY = "FatturaElettronicaBody/DatiBeniServizi/DatiRiepilogo"
DETAIL = "FatturaElettronicaBody/DatiBeniServizi/DettaglioLinee"


def test_the_identifiers_used_here_are_real_valid_ones():
    assert iva.is_valid(SELLER["vat_number"])
    assert iva.is_valid(COMPANY_WITH_SDI["vat_number"])
    assert codicefiscale.is_valid(PERSON["fiscal_code"])


# --- FatturaPA XML -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "document",
    [
        pytest.param(make_document(buyer=PERSON), id="private-person"),
        pytest.param(make_document(buyer=COMPANY_WITH_SDI), id="company-with-sdi-code"),
        pytest.param(make_document(buyer=COMPANY_WITH_PEC), id="company-with-pec-only"),
        pytest.param(credit_note(buyer=PERSON), id="credit-note-to-a-person"),
        pytest.param(credit_note(buyer=COMPANY_WITH_SDI), id="credit-note-to-a-company"),
    ],
)
def test_the_xml_is_valid_against_the_official_schema(document):
    xml = invoice_fatturapa_xml(document)

    assert validate_fatturapa(xml) == []
    assert parse(xml).get("versione") == "FPR12"


@pytest.mark.parametrize(
    "document",
    [
        pytest.param(make_document(buyer=PERSON), id="private-person"),
        pytest.param(make_document(buyer=COMPANY_WITH_SDI), id="company-with-sdi-code"),
        pytest.param(make_document(buyer=COMPANY_WITH_PEC), id="company-with-pec-only"),
        pytest.param(credit_note(buyer=COMPANY_WITH_SDI), id="credit-note"),
    ],
)
def test_a38_finds_nothing_wrong_but_its_known_false_alarm_for_consumers(document):
    fattura = a38.auto_from_etree(parse(invoice_fatturapa_xml(document)))
    validation = Validation()
    fattura.validate(validation)

    # a38 0.1.8 wants a PEC whenever CodiceDestinatario is 0000000, which is wrong for consumers.
    is_consumer = not document.buyer["vat_number"]
    errors = [e for e in validation.errors if not (is_consumer and e.code == "00426")]
    assert [str(e) for e in errors] == []


def test_a_private_person_gets_0000000_and_is_identified_by_codice_fiscale_only():
    root = parse(invoice_fatturapa_xml(make_document(buyer=PERSON)))

    assert text_at(root, f"{TRANSMISSION}/CodiceDestinatario") == "0000000"
    assert root.find(f"{TRANSMISSION}/PECDestinatario") is None
    assert text_at(root, f"{BUYER}/CodiceFiscale") == "RSSMRA85T10A562S"
    assert root.find(f"{BUYER}/IdFiscaleIVA") is None
    assert text_at(root, f"{BUYER}/Anagrafica/Nome") == "Mario"
    assert text_at(root, f"{BUYER}/Anagrafica/Cognome") == "Rossi"
    assert root.find(f"{BUYER}/Anagrafica/Denominazione") is None


def test_a_company_with_an_sdi_code_receives_through_it_and_is_identified_by_partita_iva():
    root = parse(invoice_fatturapa_xml(make_document(buyer=COMPANY_WITH_SDI)))

    assert text_at(root, f"{TRANSMISSION}/CodiceDestinatario") == "M5UXCR1"
    assert root.find(f"{TRANSMISSION}/PECDestinatario") is None
    assert text_at(root, f"{BUYER}/IdFiscaleIVA/IdPaese") == "IT"
    assert text_at(root, f"{BUYER}/IdFiscaleIVA/IdCodice") == "00743110157"
    # Its codice fiscale is its partita IVA: no need to repeat it.
    assert root.find(f"{BUYER}/CodiceFiscale") is None
    assert text_at(root, f"{BUYER}/Anagrafica/Denominazione") == "Ferramenta Bianchi S.r.l."
    assert root.find(f"{BUYER}/Anagrafica/Nome") is None


def test_a_company_with_only_a_pec_gets_0000000_and_its_pec():
    root = parse(invoice_fatturapa_xml(make_document(buyer=COMPANY_WITH_PEC)))

    assert text_at(root, f"{TRANSMISSION}/CodiceDestinatario") == "0000000"
    assert text_at(root, f"{TRANSMISSION}/PECDestinatario") == "fatture@pec.bianchi.example"


def test_a_company_whose_codice_fiscale_differs_from_its_partita_iva_carries_both():
    buyer = {**COMPANY_WITH_SDI, "fiscal_code": "RSSMRA85T10A562S"}
    xml = invoice_fatturapa_xml(make_document(buyer=buyer))
    root = parse(xml)

    assert validate_fatturapa(xml) == []
    assert text_at(root, f"{BUYER}/IdFiscaleIVA/IdCodice") == "00743110157"
    assert text_at(root, f"{BUYER}/CodiceFiscale") == "RSSMRA85T10A562S"


def test_the_seller_is_identified_by_partita_iva_with_its_tax_regime_and_address():
    root = parse(invoice_fatturapa_xml(make_document()))
    seller = "FatturaElettronicaHeader/CedentePrestatore"

    assert text_at(root, f"{seller}/DatiAnagrafici/IdFiscaleIVA/IdPaese") == "IT"
    assert text_at(root, f"{seller}/DatiAnagrafici/IdFiscaleIVA/IdCodice") == "12345670017"
    assert text_at(root, f"{seller}/DatiAnagrafici/RegimeFiscale") == "RF01"
    assert text_at(root, f"{seller}/DatiAnagrafici/Anagrafica/Denominazione") == "PEC Shop S.r.l."
    assert text_at(root, f"{seller}/Sede/CAP") == "00186"
    assert text_at(root, f"{seller}/Sede/Comune") == "Roma"


def test_an_invoice_is_td01_numbered_year_slash_number_in_euro():
    root = parse(invoice_fatturapa_xml(make_document()))

    assert text_at(root, f"{GENERAL}/TipoDocumento") == "TD01"
    assert text_at(root, f"{GENERAL}/Numero") == "2026/7"
    assert text_at(root, f"{GENERAL}/Data") == "2026-03-15"
    assert text_at(root, f"{GENERAL}/Divisa") == "EUR"
    assert text_at(root, f"{TRANSMISSION}/ProgressivoInvio") == "2026000007"
    assert root.find("FatturaElettronicaBody/DatiGenerali/DatiFattureCollegate") is None
    order = "FatturaElettronicaBody/DatiGenerali/DatiOrdineAcquisto/IdDocumento"
    assert text_at(root, order) == "ORD-2026-00042"


def test_a_credit_note_is_td04_with_positive_amounts_and_names_the_invoice_it_credits():
    document = credit_note()
    root = parse(invoice_fatturapa_xml(document))

    assert text_at(root, f"{GENERAL}/TipoDocumento") == "TD04"
    assert text_at(root, f"{GENERAL}/Numero") == "2026/9"
    linked = "FatturaElettronicaBody/DatiGenerali/DatiFattureCollegate/IdDocumento"
    assert text_at(root, linked) == "2026/3"
    assert D(text_at(root, f"{GENERAL}/ImportoTotaleDocumento")) == document.total > 0
    assert D(text_at(root, f"{SUMMARY}/Imposta")) == document.vat > 0


def test_the_totals_in_the_xml_are_the_documents_exactly():
    document = make_document(buyer=COMPANY_WITH_SDI)
    root = parse(invoice_fatturapa_xml(document))

    assert len(root.findall(SUMMARY)) == 1
    assert text_at(root, f"{SUMMARY}/AliquotaIVA") == "22.00"
    assert text_at(root, f"{SUMMARY}/ImponibileImporto") == "33.90"
    assert text_at(root, f"{SUMMARY}/Imposta") == "7.46"
    assert text_at(root, f"{GENERAL}/ImportoTotaleDocumento") == "41.36"
    assert (document.net, document.vat, document.total) == (D("33.90"), D("7.46"), D("41.36"))


def test_vat_in_the_xml_is_computed_on_the_total_net_even_where_per_line_vat_would_differ():
    # Three SMS notices for 7 months: 2.33 each. VAT per line is 0.51 * 3 = 1.53, VAT on the
    # total net is 6.99 * 22% = 1.5378 -> 1.54. The shop charges the latter.
    lines = tuple(
        InvoiceDocumentLine(n, "SMS", "Avviso SMS di ricezione", 1, 7, D("4.00"), D("2.33"))
        for n in (1, 2, 3)
    )
    document = make_document(buyer=COMPANY_WITH_SDI, lines=lines)
    per_line_vat = sum(quantize(line.net * 22 / 100) for line in lines)
    on_total_vat = quantize(document.net * 22 / 100)
    assert per_line_vat != on_total_vat

    xml = invoice_fatturapa_xml(document)
    root = parse(xml)

    assert validate_fatturapa(xml) == []
    assert D(text_at(root, f"{SUMMARY}/ImponibileImporto")) == D("6.99") == document.net
    assert D(text_at(root, f"{SUMMARY}/Imposta")) == on_total_vat == D("1.54") == document.vat
    assert D(text_at(root, f"{GENERAL}/ImportoTotaleDocumento")) == D("8.53") == document.total


def test_the_xml_carries_the_stored_vat_and_never_recomputes_it():
    # An invoice issued with a VAT one cent off what 22% of its net gives today: the XML must
    # still say what the issued invoice says.
    lines = (InvoiceDocumentLine(1, "SMS", "Avviso SMS", 1, 7, D("4.00"), D("6.99")),)
    document = dataclasses.replace(make_document(lines=lines), vat=D("1.53"), total=D("8.52"))
    root = parse(invoice_fatturapa_xml(document))

    assert text_at(root, f"{SUMMARY}/Imposta") == "1.53"
    assert text_at(root, f"{GENERAL}/ImportoTotaleDocumento") == "8.52"


def test_each_line_is_priced_at_its_stored_net_with_no_quantity():
    root = parse(invoice_fatturapa_xml(make_document()))
    details = root.findall(DETAIL)

    assert [text_at(d, "NumeroLinea") for d in details] == ["1", "2"]
    assert [text_at(d, "PrezzoUnitario") for d in details] == ["24.90", "9.00"]
    assert [text_at(d, "PrezzoTotale") for d in details] == ["24.90", "9.00"]
    assert [d.find("Quantita") for d in details] == [None, None]
    assert [text_at(d, "AliquotaIVA") for d in details] == ["22.00", "22.00"]
    assert text_at(details[1], "Descrizione") == "Spazio aggiuntivo casella (quantità 3, 12 mesi)"
    assert text_at(details[1], "CodiceArticolo/CodiceValore") == "SPAZIO"


def test_text_outside_latin1_is_simplified_so_that_the_xml_stays_valid():
    buyer = {**PERSON, "first_name": "Ľudmila", "last_name": "Dvořák"}
    lines = (
        InvoiceDocumentLine(
            1, "SMS", "Avviso SMS “rapido” – 4 € l’anno", 1, 12, D("4.00"), D("4.00")
        ),
    )
    xml = invoice_fatturapa_xml(make_document(buyer=buyer, lines=lines))
    root = parse(xml)

    assert validate_fatturapa(xml) == []
    assert text_at(root, f"{BUYER}/Anagrafica/Nome") == "Ludmila"
    assert text_at(root, f"{BUYER}/Anagrafica/Cognome") == "Dvorák"  # á is latin-1, ř is not
    assert text_at(root, f"{DETAIL}/Descrizione").startswith('Avviso SMS "rapido" - 4 EUR l\'anno')


@pytest.mark.parametrize(
    ("year", "number", "expected"),
    [(2026, 1, "2026000001"), (2026, 7, "2026000007"), (2027, 999999, "2027999999")],
)
def test_progressivo_invio_is_the_year_and_the_number_in_ten_characters(year, number, expected):
    assert progressivo_invio(year, number) == expected


def test_progressivo_invio_refuses_a_number_that_does_not_fit():
    with pytest.raises(ValueError, match="ProgressivoInvio"):
        progressivo_invio(2026, 1_000_000)


@pytest.mark.parametrize(
    ("original", "tampered"),
    [
        (b"<AliquotaIVA>22.00</AliquotaIVA>", b"<AliquotaIVA>22</AliquotaIVA>"),
        (b"<CAP>20121</CAP>", b"<CAP>2012</CAP>"),
        (b"<TipoDocumento>TD01</TipoDocumento>", b"<TipoDocumento>TD99</TipoDocumento>"),
        (b"<Divisa>EUR</Divisa>", b""),
        (b"<Imposta>7.46</Imposta>", b"<Imposta>7,46</Imposta>"),
    ],
)
def test_a_tampered_xml_fails_validation(original, tampered):
    xml = invoice_fatturapa_xml(make_document())
    assert original in xml

    assert validate_fatturapa(xml.replace(original, tampered, 1)) != []


def test_a_document_that_is_not_xml_is_reported_not_raised():
    errors = validate_fatturapa(b"<FatturaElettronica><unclosed></FatturaElettronica>")

    assert len(errors) == 1
    assert "not a readable XML document" in errors[0]


# --- PDF --------------------------------------------------------------------------------


def pdf_text(pdf: bytes) -> str:
    """The text drawn on the pages, as a PDF reader extracts it (the font is embedded, with
    its Unicode map), with lines wrapped inside a cell joined by a space."""
    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def test_the_pdf_shows_the_number_the_date_the_buyer_and_the_total():
    document = make_document(buyer=COMPANY_WITH_SDI)
    pdf = invoice_pdf(document)
    text = pdf_text(pdf)

    assert pdf.startswith(b"%PDF")
    assert "FATTURA" in text
    assert "n. 2026/7 del 15/03/2026" in text
    assert "Spett.le" in text
    assert "Ferramenta Bianchi S.r.l." in text
    assert "P.IVA 00743110157" in text
    assert "Codice destinatario SDI: M5UXCR1" in text
    assert "Ordine n. ORD-2026-00042" in text
    assert "€ 41,36" in text
    assert "€ 7,46" in text
    assert "22%" in text


def test_the_pdf_of_a_private_person_shows_the_codice_fiscale():
    text = pdf_text(invoice_pdf(make_document(buyer=PERSON)))

    assert "Mario Rossi" in text
    assert "C.F. RSSMRA85T10A562S" in text
    assert "P.IVA 00743110157" not in text


def test_the_pdf_of_a_credit_note_names_the_invoice_it_credits():
    text = pdf_text(invoice_pdf(credit_note()))

    assert "NOTA DI CREDITO" in text
    assert "a storno della fattura n. 2026/3" in text
    assert "Totale nota di credito" in text


def test_the_pdf_lists_every_line_with_quantity_months_and_prices():
    text = pdf_text(invoice_pdf(make_document()))

    for expected in ("Casella PEC Pro", "Spazio aggiuntivo casella", "€ 24,90", "€ 3,00", "€ 9,00"):
        assert expected in text
    assert "Prezzo unitario" in text
    assert "Quantità" in text


def test_the_pdf_renders_the_same_bytes_for_the_same_document():
    assert invoice_pdf(make_document()) == invoice_pdf(make_document())


def test_the_pdf_prints_names_beyond_latin_1_as_written_with_its_embedded_font():
    buyer = {**PERSON, "name": "Đurić Łukasz Nguyễn D’Amico"}
    pdf = invoice_pdf(make_document(buyer=buyer))
    text = pdf_text(pdf)

    assert "Đurić Łukasz Nguyễn D’Amico" in text
    assert "€ 41,36" in text
    assert b"/FontFile2" in pdf  # the TrueType font travels inside the file


def test_a_long_invoice_flows_onto_more_pages():
    lines = tuple(
        InvoiceDocumentLine(
            n, "SPAZIO", f"Spazio aggiuntivo casella {n}", 1, 12, D("3.00"), D("3.00")
        )
        for n in range(1, 61)
    )
    pdf = invoice_pdf(make_document(lines=lines))
    text = pdf_text(pdf)

    assert len(re.findall(rb"/Type /Page\b(?!s)", pdf)) >= 2
    assert "Spazio aggiuntivo casella 60" in text
    assert "€ 219,60" in text


# --- the document itself ----------------------------------------------------------------


def test_a_document_whose_lines_do_not_add_up_to_its_net_is_refused():
    document = make_document()

    with pytest.raises(ValueError, match="add up"):
        dataclasses.replace(
            document, net=document.net + D("0.01"), total=document.total + D("0.01")
        )


def test_a_document_whose_total_is_not_net_plus_vat_is_refused():
    with pytest.raises(ValueError, match="net plus VAT"):
        dataclasses.replace(make_document(), total=D("1.00"))


@pytest.mark.parametrize(
    ("kind", "credited_number"), [("credit_note", None), ("invoice", "2026/3")]
)
def test_only_a_credit_note_names_a_credited_invoice(kind, credited_number):
    with pytest.raises(ValueError, match="credit note"):
        dataclasses.replace(make_document(), kind=kind, credited_number=credited_number)


def test_a_document_is_built_from_a_saved_invoice_as_it_was_issued(settings):
    settings.SELLER = SELLER
    saved_lines = [
        SimpleNamespace(
            position=1,
            code="PEC-PRO",
            description="Casella PEC Pro – studio@pec.it",
            quantity=1,
            months=12,
            unit_price=D("24.90"),
            net=D("24.90"),
            mailbox_address="studio@pec.it",
            holder_name="",
        )
    ]
    no_transmission = SimpleNamespace(first=lambda: None)
    invoice = SimpleNamespace(
        kind="credit_note",
        year=2026,
        number=9,
        issued_on=date(2026, 3, 15),
        buyer={"kind": "person", "name": "Mario Rossi", "fiscal_code": "RSSMRA85T10A562S"},
        lines=SimpleNamespace(all=lambda: saved_lines),
        net=D("24.90"),
        vat_rate=D("22.00"),
        vat=D("5.48"),
        total=D("30.38"),
        credited_invoice=SimpleNamespace(display_number="2026/3", issued_on=date(2026, 3, 1)),
        order=SimpleNamespace(number="ORD-2026-00042"),
        sdi_transmissions=SimpleNamespace(filter=lambda **_: no_transmission),
    )

    document = document_from_invoice(invoice)

    assert document.kind == "credit_note"
    assert document.display_number == "2026/9"
    assert document.credited_number == "2026/3"
    assert document.order_number == "ORD-2026-00042"
    assert document.seller == SELLER
    assert document.buyer["fiscal_code"] == "RSSMRA85T10A562S"
    assert document.buyer["vat_number"] == ""  # every buyer key is there, "" when absent
    assert document.lines == (
        InvoiceDocumentLine(
            1,
            "PEC-PRO",
            "Casella PEC Pro – studio@pec.it",
            1,
            12,
            D("24.90"),
            D("24.90"),
            mailbox_address="studio@pec.it",
        ),
    )
    assert document.credited_issued_on == date(2026, 3, 1)
    assert (document.net, document.vat, document.total) == (D("24.90"), D("5.48"), D("30.38"))
