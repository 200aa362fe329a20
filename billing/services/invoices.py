"""Issuing invoices and credit notes, numbered per calendar year with no gap and no repeat.

The number is taken from `InvoiceSequence` under a row lock, as the last step of the
transaction that issues the document: the lock is held only from there to the commit, and
a transaction that rolls back gives its number back with it.
"""

from datetime import date
from decimal import Decimal

from django.db import transaction

from billing.lines import holder_name_for_line, named_description
from billing.models import Invoice, InvoiceKind, InvoiceLine, InvoiceSequence, Order
from billing.money import quantize, vat_of
from billing.sdi.services import sdi_enqueue
from customers.models import Holder


def holder_snapshot(holder: Holder) -> dict:
    """The buyer's data as they are on the day the document is issued."""
    return {
        "kind": holder.kind,
        "name": holder.display_name,
        "first_name": holder.first_name,
        "last_name": holder.last_name,
        "company_name": holder.company_name,
        "vat_number": holder.vat_number,
        "fiscal_code": holder.fiscal_code,
        "street": holder.street,
        "postal_code": holder.postal_code,
        "city": holder.city,
        "province": holder.province,
        "country": "IT",
        "email": holder.email,
        "sdi_code": holder.sdi_code,
        "invoice_pec": holder.invoice_pec,
    }


def _copies(lines, *, billing_holder=None) -> list[InvoiceLine]:
    """Unsaved invoice lines with the content of `lines` (an order's or an invoice's).

    An order line written before lines named their mailbox gets the name now, from its
    item's mailbox (`billing_holder` given): what the invoice says is fixed when it is issued.
    """
    copies = []
    for line in lines:
        address, holder_name = line.mailbox_address, line.holder_name
        description = line.description
        item = getattr(line, "item", None) if billing_holder is not None else None
        if not address and item is not None and item.mailbox is not None:
            address = item.mailbox.address
            holder_name = holder_name_for_line(item.mailbox.holder, billing_holder)
            description = named_description(description, address, holder_name)
        copies.append(
            InvoiceLine(
                position=line.position,
                code=line.code,
                description=description,
                quantity=line.quantity,
                months=line.months,
                unit_price=line.unit_price,
                net=line.net,
                mailbox_address=address,
                holder_name=holder_name,
            )
        )
    return copies


def next_invoice_number(year: int) -> int:
    """Must run inside the issuing transaction; keeps the year's row locked until commit."""
    InvoiceSequence.objects.bulk_create([InvoiceSequence(year=year)], ignore_conflicts=True)
    sequence = InvoiceSequence.objects.select_for_update().get(year=year)
    sequence.last_number += 1
    sequence.save(update_fields=["last_number"])
    return sequence.last_number


def _issue(*, kind, order, issued_on, buyer, lines, credited=None) -> Invoice:
    net = quantize(sum((line.net for line in lines), Decimal("0")))
    vat = vat_of(net)
    # Everything is ready: only now take the number, so the lock is held briefly.
    number = next_invoice_number(issued_on.year)
    invoice = Invoice.objects.create(
        kind=kind,
        year=issued_on.year,
        number=number,
        issued_on=issued_on,
        order=order,
        customer_id=order.customer_id,
        credited_invoice=credited,
        buyer=buyer,
        net=net,
        vat=vat,
        total=net + vat,
    )
    for line in lines:
        line.invoice = invoice
    InvoiceLine.objects.bulk_create(lines)
    # The outbox row of the transmission to the SDI, in the issuing transaction.
    sdi_enqueue(invoice=invoice)
    return invoice


@transaction.atomic
def invoice_issue(*, order: Order, issued_on: date) -> Invoice:
    """The invoice of a paid order: its frozen lines and its billing holder's data."""
    lines = _copies(
        order.lines.select_related("item__mailbox__holder"), billing_holder=order.billing_holder
    )
    return _issue(
        kind=InvoiceKind.INVOICE,
        order=order,
        issued_on=issued_on,
        buyer=holder_snapshot(order.billing_holder),
        lines=lines,
    )


@transaction.atomic
def credit_note_issue(
    *, invoice: Invoice, issued_on: date, net: Decimal | None = None, description: str = ""
) -> Invoice:
    """A credit note for the whole invoice, or for `net` of it (a partial refund)."""
    if invoice.kind != InvoiceKind.INVOICE:
        raise ValueError("Una nota di credito si emette solo su una fattura.")
    credited = sum((c.net for c in invoice.credit_notes.all()), Decimal("0"))
    available = invoice.net - credited
    if net is None:
        net = available
    if not (Decimal("0") < net <= available):
        raise ValueError(
            f"Importo da stornare non valido: al massimo {available} sulla fattura "
            f"{invoice.display_number}."
        )
    if net == invoice.net:
        lines = _copies(invoice.lines.all())
    else:
        lines = [
            InvoiceLine(
                position=1,
                code="STORNO",
                description=description
                or f"Storno parziale della fattura {invoice.display_number}",
                quantity=1,
                months=0,
                unit_price=net,
                net=net,
            )
        ]
    return _issue(
        kind=InvoiceKind.CREDIT_NOTE,
        order=invoice.order,
        issued_on=issued_on,
        buyer=invoice.buyer,
        lines=lines,
        credited=invoice,
    )
