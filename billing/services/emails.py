"""The e-mails about an order: received (with bank details for a transfer), paid (with the
invoice attached) and cancelled. Each is written to the outbox once per order and kind, in
the transaction of the change it tells about, and sent after commit."""

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction

from billing.models import InvoiceKind, ItemKind, Order, OrderEvent, PaymentMethod
from outbox.attachments import Reference
from outbox.services import email_enqueue
from pecshop.mail import email_build

INVOICE_PDF = "billing.invoice_pdf"

SUBJECTS = {
    "received": "Ordine {number} ricevuto",
    "paid": "Pagamento ricevuto: ordine {number}",
    "cancelled": "Ordine {number} annullato",
}


def order_email_render(*, order: Order, kind: str) -> tuple[EmailMessage, list[Reference]]:
    """The e-mail as the customer receives it, and the attachments to regenerate when it
    is sent (the invoice PDF of a paid order). Renders only: storing and sending are the
    outbox's."""
    if kind not in SUBJECTS:
        raise ValueError(f"unknown e-mail kind {kind!r}")
    invoice = order.invoices.filter(kind=InvoiceKind.INVOICE).first()
    context = {
        "order": order,
        "lines": list(order.lines.all()),
        "invoice": invoice,
        "bank_transfer": order.payment_method == PaymentMethod.BANK_TRANSFER,
        "bank_holder": settings.BANK_ACCOUNT_HOLDER,
        "bank_iban": settings.BANK_IBAN,
        "bank_days": settings.BANK_TRANSFER_DAYS,
        "site_url": settings.SITE_URL,
        "mailboxes": [i.mailbox for i in order.items.select_related("mailbox")],
        "new_mailboxes": order.items.filter(kind=ItemKind.NEW_MAILBOX).exists(),
        # The reason the daily jobs give; what staff write stays in the history.
        "reason": (
            order.events.filter(to_status="cancelled", actor__isnull=True)
            .values_list("reason", flat=True)
            .first()
            if kind == "cancelled"
            else ""
        ),
    }
    if kind == "paid" and invoice is not None:
        from billing.services.withdrawals import is_consumer
        from billing.withdrawal_rule import withdrawal_last_day

        if is_consumer(order):
            context["withdrawal_until"] = withdrawal_last_day(invoice.issued_on)
    message = email_build(
        f"order_{kind}",
        context,
        subject=SUBJECTS[kind].format(number=order.number),
        to=[order.customer.email],
    )
    references = []
    if kind == "paid" and invoice is not None:
        references.append(
            Reference(
                filename=f"fattura-{invoice.year}-{invoice.number}.pdf",
                mimetype="application/pdf",
                source=INVOICE_PDF,
                ref=invoice.pk,
            )
        )
    return message, references


def order_email_queue(*, order: Order, kind: str) -> bool:
    """Write the order's e-mail of `kind` to the outbox in the caller's transaction, once
    per order and kind; it is sent after commit. False if it was written before."""
    marker = f"email_{kind}"
    if OrderEvent.objects.filter(order=order, kind=marker).exists():
        return False
    message, references = order_email_render(order=order, kind=kind)
    with transaction.atomic():
        email = email_enqueue(
            message=message, key=f"order:{order.pk}:{kind}", references=references
        )
        if email is None:
            return False
        OrderEvent.objects.create(order=order, kind=marker, data={"to": order.customer.email})
    return True


def order_email_send(*, order_id: int, kind: str) -> str:
    """For a caller outside a transaction (an older queued task): queue it in the outbox
    now, once."""
    with transaction.atomic():
        order = (
            Order.objects.select_for_update(of=("self",))
            .select_related("customer__user", "billing_holder")
            .get(pk=order_id)
        )
        queued = order_email_queue(order=order, kind=kind)
    return "sent" if queued else "already sent"


def invoice_pdf_attachment(invoice_id: int) -> bytes:
    """The outbox's generator of an issued invoice's PDF (registered as INVOICE_PDF)."""
    from billing.documents import document_from_invoice, invoice_pdf
    from billing.models import Invoice

    return invoice_pdf(document_from_invoice(Invoice.objects.get(pk=invoice_id)))
