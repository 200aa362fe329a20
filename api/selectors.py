"""Reads of the API, always scoped to the token's account (another account's = 404)."""

from dataclasses import asdict
from datetime import date

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.urls import reverse

from area.listing import Filters, ListedMailbox, Listing, SqlValue, listing
from area.selectors import STATUS_LABELS, customer_mailbox, usage_bars
from billing.catalogue_cache import current_catalogue
from billing.models import Invoice, Order, Payment, PaymentMethod
from billing.services.saved_card_charge import card_charge_of
from customers.models import Customer
from mailboxes.models import Mailbox


def page_of(queryset, number: int, size: int):
    paginator = Paginator(queryset, size)
    # Past the last page: an empty page, not the last one again (clients loop until empty).
    count = paginator.count
    pages = max(1, paginator.num_pages)
    start = (number - 1) * size
    items = list(queryset[start : start + size]) if start < count else []
    return {"count": count, "page": number, "pages": pages, "page_size": size}, items


def mailbox_dict(catalogue, mailbox: Mailbox | ListedMailbox, today: date, own_holder_id) -> dict:
    if isinstance(mailbox, Mailbox):
        mailbox = ListedMailbox.of(mailbox, own_holder_id)
    return {
        "id": mailbox.pk,
        "address": mailbox.address,
        "tier": mailbox.tier_code,
        "tier_name": mailbox.tier_name,
        "status": mailbox.status,
        "status_label": STATUS_LABELS[mailbox.status],
        "activated_on": mailbox.activated_on,
        "expires_on": mailbox.expires_on,
        "expiring": mailbox.expiring(today),
        "own": mailbox.own,
        "holder": {
            "id": mailbox.holder_id,
            "name": mailbox.holder_name,
            "tax_id": mailbox.holder_tax_id,
        },
        "auto_renew": mailbox.auto_renew,
        "addons": [
            {
                "code": item.code,
                "name": item.name,
                "quantity": item.quantity,
                "status": item.status,
                "next_quantity": item.next_quantity,
            }
            for item in mailbox.addons
        ],
        "usage": [
            {
                "quota": bar.quota,
                "used_mb": bar.used_mb,
                "quota_gb": bar.quota_gb,
                "percent": bar.percent,
            }
            for bar in usage_bars(catalogue, mailbox.tier_code, mailbox.usage_mb, mailbox.holdings)
        ],
    }


def mailbox_list(
    customer_id: int | SqlValue, own_holder_id, filters: Filters, *, today, page, size
) -> Listing:
    """The statement of a page of the account's mailboxes (`mailbox_list_page` reads its
    rows); the account as ids, or as the subqueries of a token (`api.auth.PendingToken`)."""
    return listing(
        customer_id, own_holder_id, filters, today=today, size=size, others_page=page, split=False
    )


def mailbox_list_page(asked: Listing, rows: list, customer: Customer, *, today, page, size):
    """The page `asked` for, from its statement's rows; past the last page an empty one
    (clients loop until empty)."""
    listed = asked.pages(rows, customer.own_holder_id)["all"]
    catalogue = current_catalogue(today, version=listed.catalogue_version)
    return {
        "count": listed.count,
        "page": page,
        "pages": max(1, -(-listed.count // size)),
        "page_size": size,
        "items": [mailbox_dict(catalogue, m, today, customer.own_holder_id) for m in listed.rows],
    }


def mailbox_get(customer: Customer, mailbox_id: int) -> Mailbox | None:
    return customer_mailbox(customer, mailbox_id)


def _url(name: str, *args) -> str:
    return settings.SITE_URL + reverse(name, args=args)


def invoice_ref(invoice: Invoice) -> dict:
    return {
        "id": invoice.pk,
        "number": invoice.display_number,
        "kind": invoice.kind,
        "pdf_url": _url("api_v1:invoice_pdf", invoice.pk),
        "xml_url": _url("api_v1:invoice_xml", invoice.pk),
    }


def _card_charge(order: Order) -> dict | None:
    charges = getattr(order, "card_charges", None)
    charge = card_charge_of(charges[0] if charges else None)
    return None if charge is None else asdict(charge)


def order_dict(order: Order) -> dict:
    awaiting = order.status == "awaiting"
    online = order.payment_method in (PaymentMethod.CARD, PaymentMethod.PAYPAL)
    return {
        "number": order.number,
        "status": order.status,
        "status_label": order.get_status_display(),
        "payment_method": order.payment_method,
        "placed_on": order.placed_on,
        "paid_at": order.paid_at,
        "net": f"{order.net:.2f}",
        "vat": f"{order.vat:.2f}",
        "total": f"{order.total:.2f}",
        "lines": [
            {
                "mailbox_id": line.item.mailbox_id,
                "kind": line.kind,
                "code": line.code,
                "description": line.description,
                "quantity": line.quantity,
                "months": line.months,
                "unit_price": f"{line.unit_price:.2f}",
                "net": f"{line.net:.2f}",
            }
            for line in order.lines.all()
        ],
        "payment_url": _url("billing:order_pay", order.number) if awaiting and online else None,
        "saved_card_charge": _card_charge(order),
        "bank_transfer": {
            "beneficiary": settings.BANK_ACCOUNT_HOLDER,
            "iban": settings.BANK_IBAN,
            "reference": f"Ordine {order.number}",
        }
        if awaiting and order.payment_method == PaymentMethod.BANK_TRANSFER
        else None,
        "invoices": [invoice_ref(i) for i in order.invoices.all()],
    }


def customer_orders(customer: Customer):
    card_charges = Payment.objects.filter(saved_card__isnull=False).select_related("saved_card")
    return Order.objects.filter(customer=customer).prefetch_related(
        "lines__item",
        "invoices",
        Prefetch("payments", queryset=card_charges.order_by("-id"), to_attr="card_charges"),
    )


def customer_invoices(customer: Customer, *, date_from=None, date_to=None):
    invoices = (
        Invoice.objects.filter(customer=customer)
        .select_related("order")
        .prefetch_related("lines")
        .order_by("-issued_on", "-year", "-number")
    )
    if date_from:
        invoices = invoices.filter(issued_on__gte=date_from)
    if date_to:
        invoices = invoices.filter(issued_on__lte=date_to)
    return invoices


def invoice_dict(invoice: Invoice) -> dict:
    return {
        **invoice_ref(invoice),
        "issued_on": invoice.issued_on,
        "order_number": invoice.order.number,
        "net": f"{invoice.net:.2f}",
        "vat": f"{invoice.vat:.2f}",
        "total": f"{invoice.total:.2f}",
        "lines": [
            {
                "code": line.code,
                "description": line.description,
                "quantity": line.quantity,
                "months": line.months,
                "unit_price": f"{line.unit_price:.2f}",
                "net": f"{line.net:.2f}",
            }
            for line in invoice.lines.all()
        ],
    }
