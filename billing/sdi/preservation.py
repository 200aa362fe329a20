"""The monthly package for the provider's conservatore (long-term legal storage).

One ZIP per month of issue: every FatturaPA file sent to the SDI for the documents dated in
that month (`fatture/`), every file the SDI sent back about them (`ricevute/`), and
`indice.csv` with one row per document. Documents of the month not sent yet are not in it
(they are on the Cruscotto); run it again once they are.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.db.models import Exists, OuterRef, Prefetch

from billing.models import Invoice, InvoiceKind
from billing.sdi.models import SdiReceipt, SdiTransmission

MONTH = re.compile(r"^(\d{4})-(\d{2})$")
CSV_COLUMNS = [
    "numero",
    "data",
    "tipo",
    "cliente",
    "codice_fiscale_partita_iva",
    "imponibile",
    "iva",
    "totale",
    "identificativo_sdi",
    "stato",
    "nome_file",
]


def parse_month(text: str) -> date:
    """`2026-11` -> 2026-11-01; ValueError with an Italian message otherwise."""
    match = MONTH.match((text or "").strip())
    if not match or not 1 <= int(match[2]) <= 12 or int(match[1]) < 2000:
        raise ValueError(f"Mese non valido: «{text}». Usa il formato AAAA-MM, es. 2026-11.")
    return date(int(match[1]), int(match[2]), 1)


@dataclass
class PreservationExport:
    month: date
    content: bytes
    documents: int
    files: int
    receipts: int
    net: Decimal
    vat: Decimal
    total: Decimal

    @property
    def filename(self) -> str:
        return f"conservazione-{self.month:%Y-%m}.zip"


def preservation_export(*, month: date) -> PreservationExport:
    first = month.replace(day=1)
    after = first + relativedelta(months=1)
    sent = SdiTransmission.objects.filter(invoice=OuterRef("pk"), sent_at__isnull=False)
    invoices = (
        Invoice.objects.filter(issued_on__gte=first, issued_on__lt=after)
        .filter(Exists(sent))
        .prefetch_related(
            Prefetch(
                "sdi_transmissions",
                queryset=SdiTransmission.objects.filter(sent_at__isnull=False)
                .order_by("id")
                .prefetch_related(Prefetch("receipts", queryset=SdiReceipt.objects.order_by("id"))),
            )
        )
        .order_by("issued_on", "year", "number")
    )
    # Entries dated by the month, not the clock: the same month gives the same archive.
    stamp = (first.year, first.month, 1, 0, 0, 0)
    index = io.StringIO()
    writer = csv.writer(index, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    buffer = io.BytesIO()
    counts = {"documents": 0, "files": 0, "receipts": 0}
    net = vat = total = Decimal("0.00")
    used_names: set[str] = set()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:

        def add(path: str, data: bytes) -> None:
            archive.writestr(zipfile.ZipInfo(path, date_time=stamp), data, zipfile.ZIP_DEFLATED)

        for invoice in invoices:
            transmissions = list(invoice.sdi_transmissions.all())
            last = transmissions[-1]
            for transmission in transmissions:
                add(f"fatture/{transmission.file_name}", transmission.xml.encode("utf-8"))
                counts["files"] += 1
                for receipt in transmission.receipts.all():
                    name = receipt.name
                    if name in used_names:
                        name = f"{receipt.pk}_{name}"
                    used_names.add(name)
                    add(f"ricevute/{name}", bytes(receipt.content))
                    counts["receipts"] += 1
            buyer = last.buyer or invoice.buyer
            writer.writerow(
                [
                    invoice.display_number,
                    invoice.issued_on.isoformat(),
                    "TD04" if invoice.kind == InvoiceKind.CREDIT_NOTE else "TD01",
                    buyer.get("name", ""),
                    buyer.get("vat_number") or buyer.get("fiscal_code", ""),
                    f"{invoice.net:.2f}",
                    f"{invoice.vat:.2f}",
                    f"{invoice.total:.2f}",
                    last.sdi_id,
                    last.get_state_display(),
                    last.file_name,
                ]
            )
            counts["documents"] += 1
            net += invoice.net
            vat += invoice.vat
            total += invoice.total
        add("indice.csv", index.getvalue().encode("utf-8-sig"))
    return PreservationExport(
        month=first, content=buffer.getvalue(), net=net, vat=vat, total=total, **counts
    )
