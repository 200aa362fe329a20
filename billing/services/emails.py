"""The e-mails about an order: received (with bank details for a transfer), paid (with the
invoice attached) and cancelled. Each is sent once per order and kind."""

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string

from billing.models import InvoiceKind, ItemKind, Order, OrderEvent, PaymentMethod

SUBJECTS = {
    "received": "Ordine {number} ricevuto",
    "paid": "Pagamento ricevuto: ordine {number}",
    "cancelled": "Ordine {number} annullato",
}


def order_email_send(*, order_id: int, kind: str) -> str:
    if kind not in SUBJECTS:
        raise ValueError(f"unknown e-mail kind {kind!r}")
    order = Order.objects.select_related("customer__user", "billing_holder").get(pk=order_id)
    marker = f"email_{kind}"
    if OrderEvent.objects.filter(order=order, kind=marker).exists():
        return "already sent"
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
    message = EmailMessage(
        subject=SUBJECTS[kind].format(number=order.number),
        body=render_to_string(f"emails/order_{kind}.txt", context),
        to=[order.customer.email],
    )
    if kind == "paid" and invoice is not None:
        from billing.documents import document_from_invoice, invoice_pdf

        message.attach(
            f"fattura-{invoice.year}-{invoice.number}.pdf",
            invoice_pdf(document_from_invoice(invoice)),
            "application/pdf",
        )
    message.send()
    with transaction.atomic():
        OrderEvent.objects.create(order=order, kind=marker, data={"to": order.customer.email})
    return "sent"
