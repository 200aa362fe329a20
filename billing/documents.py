"""Invoice documents: the customer's PDF and the FatturaPA XML for the SDI exchange.

Both are rendered from an `InvoiceDocument`, plain data with no ORM, so that they can be
built and tested without a database. Amounts are taken as stored on the invoice and are
never recomputed here: VAT is computed once on the total net when the invoice is issued
(`billing.money.vat_of`), and both documents must show exactly that figure.
"""

from __future__ import annotations

import io
import logging
import unicodedata
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import a38
import xmlschema
from django.conf import settings
from fpdf import FPDF
from fpdf.fonts import FontFace

from billing.money import format_eur
from billing.pricing import months_text

# fpdf2 subsets the embedded font through fontTools, which logs every table at INFO.
logging.getLogger("fontTools").setLevel(logging.WARNING)

if TYPE_CHECKING:
    from billing.models import Invoice

DocumentKind = Literal["invoice", "credit_note"]

BUYER_KEYS = (
    "kind",
    "name",
    "first_name",
    "last_name",
    "company_name",
    "vat_number",
    "fiscal_code",
    "street",
    "postal_code",
    "city",
    "province",
    "country",
    "email",
    "sdi_code",
    "invoice_pec",
)

# Recipient code of whoever receives in the tax portal (consumers) or by PEC.
NO_SDI_CODE = "0000000"


@dataclass(frozen=True)
class InvoiceDocumentLine:
    position: int
    code: str
    description: str
    quantity: int
    months: int
    unit_price: Decimal
    net: Decimal
    mailbox_address: str = ""
    holder_name: str = ""


@dataclass(frozen=True)
class InvoiceDocument:
    kind: DocumentKind
    year: int
    number: int
    issued_on: date
    seller: dict[str, str]
    buyer: dict[str, str]
    lines: tuple[InvoiceDocumentLine, ...]
    net: Decimal
    vat_rate: Decimal
    vat: Decimal
    total: Decimal
    credited_number: str | None
    order_number: str
    credited_issued_on: date | None = None
    # What the customer's copy says of the electronic document, true when it is rendered.
    courtesy_note: str = ""

    def __post_init__(self) -> None:
        if self.kind not in ("invoice", "credit_note"):
            raise ValueError(f"unknown document kind {self.kind!r}")
        if (self.kind == "credit_note") != bool(self.credited_number):
            raise ValueError("a credit note, and only a credit note, names the invoice it credits")
        if not self.lines:
            raise ValueError("a document has at least one line")
        if sum((line.net for line in self.lines), Decimal(0)) != self.net:
            raise ValueError("the lines' net does not add up to the document's net")
        if self.net + self.vat != self.total:
            raise ValueError("total is not net plus VAT")

    @property
    def display_number(self) -> str:
        return f"{self.year}/{self.number}"

    @property
    def is_credit_note(self) -> bool:
        return self.kind == "credit_note"

    @property
    def title(self) -> str:
        return "Nota di credito" if self.is_credit_note else "Fattura"


def document_from_invoice(invoice: Invoice, *, buyer: dict | None = None) -> InvoiceDocument:
    """The document of a saved `billing.models.Invoice`, as it was issued, with the buyer's
    data of its current transmission to the SDI (corrected after a discard) unless `buyer`
    is given, and the courtesy note that is true now."""
    from billing.sdi.wording import courtesy_note

    credited = invoice.credited_invoice
    transmission = invoice.sdi_transmissions.filter(is_current=True).first()
    if buyer is None:
        buyer = transmission.buyer if transmission is not None else invoice.buyer
    buyer = {key: str(buyer.get(key) or "") for key in BUYER_KEYS}
    return InvoiceDocument(
        kind=invoice.kind,
        year=invoice.year,
        number=invoice.number,
        issued_on=invoice.issued_on,
        seller=dict(settings.SELLER),
        buyer=buyer,
        lines=tuple(
            InvoiceDocumentLine(
                position=line.position,
                code=line.code,
                description=line.description,
                quantity=line.quantity,
                months=line.months,
                unit_price=line.unit_price,
                net=line.net,
                mailbox_address=line.mailbox_address,
                holder_name=line.holder_name,
            )
            for line in invoice.lines.all()
        ),
        net=invoice.net,
        vat_rate=invoice.vat_rate,
        vat=invoice.vat,
        total=invoice.total,
        credited_number=credited.display_number if credited is not None else None,
        order_number=invoice.order.number or "",
        credited_issued_on=credited.issued_on if credited is not None else None,
        courtesy_note=courtesy_note(transmission),
    )


def _is_company(buyer: dict[str, str]) -> bool:
    return bool(buyer.get("vat_number"))


def _rate_label(rate: Decimal) -> str:
    """`22%`, or `4,5%` for a rate with decimals."""
    text = f"{rate.normalize():f}".replace(".", ",")
    return f"{text}%"


def _place(data: dict[str, str]) -> str:
    place = " ".join(part for part in (data.get("postal_code", ""), data.get("city", "")) if part)
    if data.get("province"):
        place += f" ({data['province']})"
    return place


# --- PDF -------------------------------------------------------------------------------

# An embedded Unicode TrueType font (DejaVu Sans, vendored in billing/fonts with its
# licence): any name prints as written ("Đurić", "Łukasz", "Nguyễn", "D’Amico") and so does €.
FONT_DIR = Path(__file__).resolve().parent / "fonts"
PDF_FONT = "DejaVu"
INK = (33, 37, 41)
MUTED = (108, 117, 125)
RULE = (206, 212, 218)
SHADE = (241, 243, 245)
# Without a transmission (a document rendered outside the shop's database): no claim at all.
COURTESY_COPY_NOTE = "Copia di cortesia, priva di valore fiscale."


def _pdf_text(text: str) -> str:
    return text


class _InvoicePDF(FPDF):
    def __init__(self, document_label: str) -> None:
        super().__init__(format="A4", unit="mm")
        self.add_font(PDF_FONT, "", FONT_DIR / "DejaVuSans.ttf")
        self.add_font(PDF_FONT, "B", FONT_DIR / "DejaVuSans-Bold.ttf")
        self.courtesy_note = COURTESY_COPY_NOTE
        # Every page says which document it belongs to, in case the pages get separated.
        self.document_label = document_label

    def footer(self) -> None:
        self.set_y(-18)
        self.set_draw_color(*RULE)
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
        self.ln(1.5)
        self.set_font(PDF_FONT, size=7)
        self.set_text_color(*MUTED)
        self.multi_cell(0, 3.4, self.courtesy_note, align="L", new_x="LMARGIN", new_y="NEXT")
        self.cell(self.epw / 2, 3.4, _pdf_text(self.document_label))
        self.cell(self.epw / 2, 3.4, f"Pagina {self.page_no()}/{{nb}}", align="R")


def invoice_pdf(doc: InvoiceDocument) -> bytes:
    """The customer's copy of an invoice or credit note, A4, in Italian."""
    pdf = _InvoicePDF(f"{doc.title} n. {doc.display_number} del {doc.issued_on:%d/%m/%Y}")
    pdf.courtesy_note = doc.courtesy_note or COURTESY_COPY_NOTE
    pdf.set_margins(18, 16, 18)
    pdf.set_auto_page_break(auto=True, margin=24)
    pdf.set_title(_pdf_text(f"{doc.title} n. {doc.display_number}"))
    pdf.set_author(_pdf_text(doc.seller.get("name", "")))
    # Dated by the document, not the clock: the same document always renders to the same bytes.
    pdf.set_creation_date(datetime.combine(doc.issued_on, time(12), tzinfo=UTC))
    pdf.add_page()
    pdf.set_text_color(*INK)

    _pdf_heading(pdf, doc)
    _pdf_parties(pdf, doc)
    _pdf_lines(pdf, doc)
    _pdf_totals(pdf, doc)
    return bytes(pdf.output())


def _pdf_heading(pdf: FPDF, doc: InvoiceDocument) -> None:
    seller = doc.seller
    top = pdf.get_y()
    half = pdf.epw / 2

    pdf.set_font(PDF_FONT, "B", 15)
    pdf.cell(half, 7, _pdf_text(seller.get("name", "")), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(PDF_FONT, size=9)
    pdf.set_text_color(*MUTED)
    seller_lines = [
        seller.get("street", ""),
        _place(seller),
        f"P.IVA {seller.get('vat_number', '')}",
        f"C.F. {seller.get('fiscal_code', '')}",
        seller.get("email", ""),
    ]
    for text in filter(None, seller_lines):
        pdf.cell(half, 4.4, _pdf_text(text), new_x="LMARGIN", new_y="NEXT")
    seller_bottom = pdf.get_y()

    pdf.set_xy(pdf.l_margin + half, top)
    pdf.set_text_color(*INK)
    pdf.set_font(PDF_FONT, "B", 20)
    pdf.cell(half, 9, _pdf_text(doc.title.upper()), align="R", new_x="LEFT", new_y="NEXT")
    pdf.set_font(PDF_FONT, "B", 11)
    pdf.cell(
        half,
        6,
        _pdf_text(f"n. {doc.display_number} del {doc.issued_on:%d/%m/%Y}"),
        align="R",
        new_x="LEFT",
        new_y="NEXT",
    )
    pdf.set_font(PDF_FONT, size=9)
    pdf.set_text_color(*MUTED)
    if doc.order_number:
        pdf.cell(
            half,
            4.4,
            _pdf_text(f"Ordine n. {doc.order_number}"),
            align="R",
            new_x="LEFT",
            new_y="NEXT",
        )
    # The legal document is the electronic one: the PDF says what it is on its first lines.
    pdf.cell(half, 4.4, "Copia di cortesia", align="R")

    pdf.set_text_color(*INK)
    pdf.set_y(max(seller_bottom, pdf.get_y()) + 5)
    pdf.set_draw_color(*RULE)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
    pdf.ln(6)


def _buyer_lines(buyer: dict[str, str]) -> list[str]:
    lines = [buyer.get("street", ""), _place(buyer)]
    if buyer.get("country") and buyer["country"] != "IT":
        lines.append(buyer["country"])
    if _is_company(buyer):
        lines.append(f"P.IVA {buyer['vat_number']}")
        if buyer.get("fiscal_code") and buyer["fiscal_code"] != buyer["vat_number"]:
            lines.append(f"C.F. {buyer['fiscal_code']}")
        if buyer.get("sdi_code"):
            lines.append(f"Codice destinatario SDI: {buyer['sdi_code']}")
        elif buyer.get("invoice_pec"):
            lines.append(f"PEC: {buyer['invoice_pec']}")
    elif buyer.get("fiscal_code"):
        lines.append(f"C.F. {buyer['fiscal_code']}")
    return [line for line in lines if line]


def _pdf_parties(pdf: FPDF, doc: InvoiceDocument) -> None:
    buyer = doc.buyer
    top = pdf.get_y()
    box_x = pdf.l_margin + pdf.epw * 0.52
    box_w = pdf.w - pdf.r_margin - box_x
    pad = 4

    # Left: what the document refers to.
    pdf.set_font(PDF_FONT, "B", 8)
    pdf.set_text_color(*MUTED)
    pdf.cell(box_x - pdf.l_margin - 6, 4.5, "RIFERIMENTI", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(*INK)
    pdf.set_font(PDF_FONT, size=9.5)
    references = [
        f"{doc.title} n. {doc.display_number}",
        f"Data: {doc.issued_on:%d/%m/%Y}",
    ]
    if doc.order_number:
        references.append(f"Ordine n. {doc.order_number}")
    for text in references:
        pdf.cell(box_x - pdf.l_margin - 6, 5, _pdf_text(text), new_x="LMARGIN", new_y="NEXT")
    if doc.is_credit_note:
        pdf.ln(1)
        pdf.set_font(PDF_FONT, "B", 9.5)
        pdf.multi_cell(
            box_x - pdf.l_margin - 6,
            5,
            _pdf_text(f"Nota di credito a storno della fattura n. {doc.credited_number}"),
            new_x="LMARGIN",
            new_y="NEXT",
        )
    left_bottom = pdf.get_y()

    # Right: the buyer, in a box.
    pdf.set_xy(box_x + pad, top + pad - 1)
    pdf.set_font(PDF_FONT, "B", 8)
    pdf.set_text_color(*MUTED)
    pdf.cell(box_w - 2 * pad, 4.5, "Spett.le", new_x="LEFT", new_y="NEXT")
    pdf.set_text_color(*INK)
    pdf.set_font(PDF_FONT, "B", 11)
    pdf.multi_cell(
        box_w - 2 * pad, 5.5, _pdf_text(buyer.get("name", "")), new_x="LEFT", new_y="NEXT"
    )
    pdf.set_font(PDF_FONT, size=9.5)
    for text in _buyer_lines(buyer):
        pdf.multi_cell(box_w - 2 * pad, 4.8, _pdf_text(text), new_x="LEFT", new_y="NEXT")
    box_bottom = pdf.get_y() + pad - 1
    pdf.set_draw_color(*RULE)
    pdf.rect(box_x, top, box_w, box_bottom - top, round_corners=True, corner_radius=2)

    pdf.set_xy(pdf.l_margin, max(left_bottom, box_bottom) + 9)


def _pdf_lines(pdf: FPDF, doc: InvoiceDocument) -> None:
    headings = ("Descrizione", "Quantità", "Mesi", "Prezzo unitario annuo", "Imponibile")
    pdf.set_font(PDF_FONT, size=9)
    pdf.set_draw_color(*RULE)
    with pdf.table(
        col_widths=(80, 22, 14, 29, 29),
        width=pdf.epw,
        text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"),
        borders_layout="HORIZONTAL_LINES",
        headings_style=FontFace(emphasis="BOLD", fill_color=SHADE, size_pt=8.5),
        line_height=5,
        padding=(1.6, 2),
        v_align="TOP",
    ) as table:
        heading = table.row()
        for text in headings:
            heading.cell(_pdf_text(text))
        for line in doc.lines:
            row = table.row()
            row.cell(_pdf_text(line.description))
            row.cell(str(line.quantity))
            row.cell(str(line.months))
            row.cell(_pdf_text(format_eur(line.unit_price)))
            row.cell(_pdf_text(format_eur(line.net)))
    pdf.ln(7)


def _pdf_totals(pdf: FPDF, doc: InvoiceDocument) -> None:
    width = 100
    # Keep the summary and the total together on one page.
    if pdf.get_y() + 32 > pdf.page_break_trigger:
        pdf.add_page()
    x = pdf.w - pdf.r_margin - width

    pdf.set_x(x)
    pdf.set_font(PDF_FONT, "B", 8)
    pdf.set_text_color(*MUTED)
    pdf.cell(width, 4.5, "RIEPILOGO IVA", new_x="LEFT", new_y="NEXT")
    pdf.set_text_color(*INK)
    pdf.set_font(PDF_FONT, size=9)
    with pdf.table(
        col_widths=(34, 22, 44),
        width=width,
        align="RIGHT",
        text_align=("RIGHT", "RIGHT", "RIGHT"),
        borders_layout="HORIZONTAL_LINES",
        headings_style=FontFace(emphasis="BOLD", fill_color=SHADE, size_pt=8.5),
        line_height=5,
        padding=(1.6, 2),
    ) as table:
        heading = table.row()
        for text in ("Imponibile", "Aliquota", "Imposta"):
            heading.cell(text)
        row = table.row()
        row.cell(_pdf_text(format_eur(doc.net)))
        row.cell(_rate_label(doc.vat_rate))
        row.cell(_pdf_text(format_eur(doc.vat)))

    pdf.ln(3)
    pdf.set_x(x)
    pdf.set_fill_color(*SHADE)
    pdf.set_font(PDF_FONT, "B", 11.5)
    label = "Totale nota di credito" if doc.is_credit_note else "Totale fattura"
    pdf.cell(width * 0.56, 9, f"  {label}", fill=True)
    pdf.cell(width * 0.44, 9, _pdf_text(f"{format_eur(doc.total)}  "), fill=True, align="R")
    pdf.ln(9)


# --- FatturaPA XML ---------------------------------------------------------------------

FATTURAPA_NAMESPACE = "http://ivaservizi.agenziaentrate.gov.it/docs/xsd/fatture/v1.2"
# The prefix every FatturaPA sample uses; without it ElementTree would write "ns0:".
ET.register_namespace("p", FATTURAPA_NAMESPACE)

# Typographic characters with a plain equivalent: the schema accepts latin-1 only.
_LATIN1_REPLACEMENTS = str.maketrans(
    {
        "€": "EUR",
        "‘": "'",
        "’": "'",
        "“": '"',
        "”": '"',
        "–": "-",
        "—": "-",
        "…": "...",
    }
)


def _latin1(text: str, max_length: int) -> str:
    """`text` as the schema's `String...LatinType` accepts it: latin-1, one line, cut to size."""
    text = " ".join(text.translate(_LATIN1_REPLACEMENTS).split())
    chars = []
    for char in text:
        if ord(char) > 0xFF:
            char = (
                unicodedata.normalize("NFKD", char).encode("latin-1", "ignore").decode("latin-1")
                or "?"
            )
        chars.append(char)
    return "".join(chars)[:max_length].rstrip()


def progressivo_invio(year: int, number: int) -> str:
    """The transmission's id: unique per sender, at most 10 characters, e.g. `2026000007`."""
    value = f"{year:04d}{number:06d}"
    if len(value) > 10:
        raise ValueError(f"invoice number {number} does not fit ProgressivoInvio")
    return value


def _sede(data: dict[str, str]) -> dict[str, str | None]:
    return {
        "indirizzo": _latin1(data.get("street", ""), 60),
        "cap": data.get("postal_code", ""),
        "comune": _latin1(data.get("city", ""), 60),
        "provincia": data.get("province", "").upper() or None,
        "nazione": data.get("country") or "IT",
    }


def _seller(seller: dict[str, str]) -> a38.CedentePrestatore:
    fiscal_code = seller.get("fiscal_code", "")
    return a38.CedentePrestatore(
        dati_anagrafici=a38.DatiAnagraficiCedentePrestatore(
            id_fiscale_iva=a38.IdFiscaleIVA(id_paese="IT", id_codice=seller["vat_number"]),
            codice_fiscale=fiscal_code if fiscal_code != seller["vat_number"] else None,
            anagrafica=a38.Anagrafica(denominazione=_latin1(seller["name"], 80)),
            regime_fiscale=seller["tax_regime"],
        ),
        sede=a38.Sede(**_sede(seller)),
        contatti=a38.Contatti(email=seller["email"]) if seller.get("email") else None,
    )


def _buyer(buyer: dict[str, str]) -> a38.CessionarioCommittente:
    vat_number = buyer.get("vat_number", "")
    fiscal_code = buyer.get("fiscal_code", "").upper()
    if buyer.get("kind") == "person" and buyer.get("first_name") and buyer.get("last_name"):
        anagrafica = a38.Anagrafica(
            nome=_latin1(buyer["first_name"], 60), cognome=_latin1(buyer["last_name"], 60)
        )
    else:
        name = buyer.get("company_name") or buyer.get("name", "")
        anagrafica = a38.Anagrafica(denominazione=_latin1(name, 80))
    return a38.CessionarioCommittente(
        dati_anagrafici=a38.DatiAnagraficiCessionarioCommittente(
            id_fiscale_iva=a38.IdFiscaleIVA(id_paese="IT", id_codice=vat_number)
            if vat_number
            else None,
            codice_fiscale=fiscal_code if fiscal_code and fiscal_code != vat_number else None,
            anagrafica=anagrafica,
        ),
        sede=a38.Sede(**_sede(buyer)),
    )


def _recipient(buyer: dict[str, str]) -> tuple[str, str | None]:
    """(CodiceDestinatario, PECDestinatario): a business receives by SDI code or by PEC; a
    consumer gets `0000000` and finds the invoice in the tax portal."""
    if not _is_company(buyer):
        return NO_SDI_CODE, None
    sdi_code = buyer.get("sdi_code", "").strip().upper()
    if sdi_code and sdi_code != NO_SDI_CODE:
        return sdi_code, None
    return NO_SDI_CODE, buyer.get("invoice_pec", "").strip() or None


def _line_description(line: InvoiceDocumentLine) -> str:
    return f"{line.description} (quantità {line.quantity}, {months_text(line.months)})"


def _line_references(line: InvoiceDocumentLine) -> list[a38.AltriDatiGestionali] | None:
    """The mailbox (and its holder) of a line, for a clerk's software to reconcile by."""
    references = []
    if line.mailbox_address:
        references.append(
            a38.AltriDatiGestionali(
                tipo_dato="CASELLA", riferimento_testo=_latin1(line.mailbox_address, 60)
            )
        )
    if line.holder_name:
        references.append(
            a38.AltriDatiGestionali(
                tipo_dato="TITOLARE", riferimento_testo=_latin1(line.holder_name, 60)
            )
        )
    return references or None


def invoice_fatturapa_xml(doc: InvoiceDocument, *, progressivo: str | None = None) -> bytes:
    """The FatturaPA (FPR12) XML of an invoice (TD01) or credit note (TD04), UTF-8.

    `progressivo` is the transmission's own progressive (the one in its file name); without
    it, one derived from the document's number."""
    seller = doc.seller
    codice_destinatario, pec_destinatario = _recipient(doc.buyer)

    fattura = a38.FatturaPrivati12()
    fattura.fattura_elettronica_header = a38.FatturaElettronicaHeader(
        dati_trasmissione=a38.DatiTrasmissione(
            id_trasmittente=a38.IdTrasmittente(
                id_paese="IT", id_codice=seller.get("fiscal_code") or seller["vat_number"]
            ),
            progressivo_invio=progressivo or progressivo_invio(doc.year, doc.number),
            formato_trasmissione="FPR12",
            codice_destinatario=codice_destinatario,
            pec_destinatario=pec_destinatario,
        ),
        cedente_prestatore=_seller(seller),
        cessionario_committente=_buyer(doc.buyer),
    )

    body = fattura.fattura_elettronica_body[0]
    # A credit note carries positive amounts: TD04 itself says they are to be subtracted.
    body.dati_generali.dati_generali_documento = a38.DatiGeneraliDocumento(
        tipo_documento="TD04" if doc.is_credit_note else "TD01",
        divisa="EUR",
        data=doc.issued_on,
        numero=doc.display_number,
        importo_totale_documento=doc.total,
    )
    if doc.order_number:
        body.dati_generali.dati_ordine_acquisto.append(
            a38.DatiOrdineAcquisto(id_documento=doc.order_number)
        )
    if doc.credited_number:
        body.dati_generali.dati_fatture_collegate.append(
            a38.DatiFattureCollegate(id_documento=doc.credited_number, data=doc.credited_issued_on)
        )

    services = body.dati_beni_servizi
    for index, line in enumerate(doc.lines, start=1):
        # One line at its net with no Quantita: PrezzoTotale is then exactly the stored net,
        # with no unit price * quantity for a reader to round differently.
        services.dettaglio_linee.append(
            a38.DettaglioLinee(
                numero_linea=index,
                codice_articolo=[a38.CodiceArticolo(codice_tipo="INTERNO", codice_valore=line.code)]
                if line.code
                else None,
                descrizione=_latin1(_line_description(line), 1000),
                prezzo_unitario=line.net,
                prezzo_totale=line.net,
                aliquota_iva=doc.vat_rate,
                altri_dati_gestionali=_line_references(line),
            )
        )
    # Set by hand, not with a38's build_dati_riepilogo(): VAT is the one computed on the total
    # net when the invoice was issued, to the cent, and the XML must carry that very figure.
    services.dati_riepilogo.append(
        a38.DatiRiepilogo(
            aliquota_iva=doc.vat_rate,
            imponibile_importo=doc.net,
            imposta=doc.vat,
            esigibilita_iva="I",
        )
    )

    buffer = io.BytesIO()
    fattura.build_etree().write(buffer, encoding="UTF-8", xml_declaration=True)
    return buffer.getvalue()


SCHEMA_PATH = Path(__file__).resolve().parent / "schemas" / "FatturaPA_FPR12_v1.2.3.xsd"
_schema: xmlschema.XMLSchema | None = None


def _fatturapa_schema() -> xmlschema.XMLSchema:
    global _schema
    if _schema is None:
        # allow="local": the schema's import of xmldsig points at w3.org; xmlschema then falls
        # back to its bundled copy instead of fetching it.
        _schema = xmlschema.XMLSchema(SCHEMA_PATH, allow="local")
    return _schema


def validate_fatturapa(xml: bytes) -> list[str]:
    """The XSD errors of a FatturaPA FPR12 document, empty when it is valid."""
    schema = _fatturapa_schema()
    try:
        resource = xmlschema.XMLResource(io.BytesIO(xml), allow="none", defuse="always")
    except xmlschema.XMLResourceError as error:
        return [f"not a readable XML document: {error}"]
    return [
        f"{error.path}: {error.reason}" if error.reason else str(error)
        for error in schema.iter_errors(resource)
    ]
