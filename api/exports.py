"""CSV exports of the mailboxes (with the dashboard's filters) and of the invoices (per
period), for the Area Clienti and the API alike: UTF-8 with a BOM, ";" between fields and
Italian numbers and dates (`1.234,56`, `25/05/2027`), as Italian spreadsheets expect."""

import csv
import io
from datetime import date
from decimal import Decimal

from area.listing import ALL, Filters, mailbox_listing
from area.selectors import STATUS_LABELS
from billing.catalogue_cache import current_catalogue
from billing.models import Invoice
from billing.money import format_eur
from customers.models import Customer

MAX_PERIOD_DAYS = 3660


class ExportError(Exception):
    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


def number_it(amount: Decimal) -> str:
    """`1.234,56`: the Italian way, without the currency sign."""
    return format_eur(amount).replace("€ ", "")


def gb_it(mb: int) -> str:
    return f"{mb / 1024:.2f}".replace(".", ",")


def _date(value: date | None) -> str:
    return f"{value:%d/%m/%Y}" if value else ""


def _csv(header: list[str], rows) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


MAILBOX_HEADER = [
    "Indirizzo",
    "Titolare",
    "Codice fiscale / P.IVA",
    "Tipologia",
    "Stato",
    "Attivata il",
    "Scadenza",
    "Rinnovo automatico",
    "Prezzo annuo (EUR, IVA esclusa)",
    "Servizi aggiuntivi",
    "Spazio casella usato (GB)",
    "Archivio usato (GB)",
    "Conservazione usata (GB)",
]


def mailboxes_csv(customer: Customer, filters: Filters, *, today: date) -> bytes:
    listed = mailbox_listing(
        customer.pk, customer.own_holder_id, filters, today=today, size=ALL, split=False
    )["all"]
    catalogue = current_catalogue(today, version=listed.catalogue_version)
    rows = []
    for mailbox in listed.rows:
        holdings = mailbox.holdings
        yearly = catalogue.tier(mailbox.tier_code).price_per_year + sum(
            (catalogue.addon(c).price_per_year * q for c, q in holdings.items()),
            Decimal("0"),
        )
        addons = ", ".join(
            f"{catalogue.addon(c).name} {catalogue.addon(c).units(q)}"
            for c, q in sorted(holdings.items())
        )
        rows.append(
            [
                mailbox.address,
                mailbox.holder_name,
                mailbox.holder_tax_id,
                mailbox.tier_name,
                STATUS_LABELS[mailbox.status],
                _date(mailbox.activated_on),
                _date(mailbox.expires_on),
                "sì" if mailbox.auto_renew else "no",
                number_it(yearly),
                addons,
                gb_it(mailbox.usage_mb["mailbox"]),
                gb_it(mailbox.usage_mb["archive"]),
                gb_it(mailbox.usage_mb["conservation"]),
            ]
        )
    return _csv(MAILBOX_HEADER, rows)


INVOICE_HEADER = [
    "Numero",
    "Tipo",
    "Data",
    "Ordine",
    "Intestatario",
    "Codice fiscale / P.IVA",
    "Imponibile (EUR)",
    "Aliquota IVA (%)",
    "IVA (EUR)",
    "Totale (EUR)",
]


def check_period(date_from: date | None, date_to: date | None) -> None:
    if date_from and date_to and date_from > date_to:
        raise ExportError("La data iniziale deve precedere quella finale.", field="from")
    if date_from and date_to and (date_to - date_from).days > MAX_PERIOD_DAYS:
        raise ExportError("Il periodo può essere al massimo di 10 anni.", field="to")


def invoices_csv(
    customer: Customer, *, date_from: date | None = None, date_to: date | None = None
) -> bytes:
    check_period(date_from, date_to)
    invoices = (
        Invoice.objects.filter(customer=customer)
        .select_related("order")
        .order_by("issued_on", "year", "number")
    )
    if date_from:
        invoices = invoices.filter(issued_on__gte=date_from)
    if date_to:
        invoices = invoices.filter(issued_on__lte=date_to)
    rows = [
        [
            invoice.display_number,
            invoice.get_kind_display(),
            _date(invoice.issued_on),
            invoice.order.number,
            invoice.buyer.get("name", ""),
            invoice.buyer.get("vat_number") or invoice.buyer.get("fiscal_code", ""),
            number_it(invoice.net),
            number_it(invoice.vat_rate),
            number_it(invoice.vat),
            number_it(invoice.total),
        ]
        for invoice in invoices.iterator(chunk_size=500)
    ]
    return _csv(INVOICE_HEADER, rows)
