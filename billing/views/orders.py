from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from payments import PaymentError, RedirectNeeded

from area.sessions import session_mailbox_id, session_orders
from billing.models import InvoiceKind, Order, OrderStatus, PaymentMethod
from billing.services.payments import payment_current
from billing.views.common import current_customer


def _customer_order(request, number: str) -> Order:
    """An order of the logged-in customer, or one placed in this session with a mailbox's
    own credentials (a renewal); anyone else's is a 404."""
    customer = current_customer(request)
    orders = Order.objects.select_related("billing_holder")
    if customer is not None:
        return get_object_or_404(orders, number=number, customer=customer)
    if number in session_orders(request):
        mailbox_id = session_mailbox_id(request)
        return get_object_or_404(orders.distinct(), number=number, items__mailbox_id=mailbox_id)
    raise Http404


def _needs_login(request, number: str) -> bool:
    return not request.user.is_authenticated and number not in session_orders(request)


def order_detail(request, number: str):
    """The confirmation page: what was ordered, what happens next, and once paid the
    active mailboxes with their expiry."""
    if _needs_login(request, number):
        return redirect_to_login(request.get_full_path())
    order = _customer_order(request, number)
    items = list(order.items.select_related("mailbox__tier").prefetch_related("lines"))
    context = {
        "order": order,
        "items": items,
        "invoice": order.invoices.filter(kind=InvoiceKind.INVOICE).first(),
        "bank_holder": settings.BANK_ACCOUNT_HOLDER,
        "bank_iban": settings.BANK_IBAN,
        "bank_days": settings.BANK_TRANSFER_DAYS,
        "payment_failed": request.resolver_match.url_name == "payment_failed",
        **_withdrawal_context(request, order),
    }
    return render(request, "billing/order_detail.html", context)


def _withdrawal_context(request, order: Order) -> dict:
    """The link "Recedi dal contratto qui" while the period is open, or the receipt."""
    from django.utils import timezone

    from billing.services.withdrawals import withdrawable_orders, withdrawal_deadline
    from billing.withdrawal_models import Withdrawal

    customer = current_customer(request)
    if customer is None:  # a mailbox-credential session does not withdraw
        return {}
    open_now = (
        withdrawable_orders(customer=customer, today=timezone.localdate())
        .filter(pk=order.pk)
        .exists()
    )
    invoice = order.invoices.filter(kind=InvoiceKind.INVOICE).first()
    return {
        "withdrawal_open": open_now,
        "withdrawal_deadline": withdrawal_deadline(invoice.issued_on) if open_now else None,
        "withdrawal": Withdrawal.objects.filter(order=order).first(),
    }


def order_pay(request, number: str):
    """The gateway's page for an order paid by card or PayPal."""
    if _needs_login(request, number):
        return redirect_to_login(request.get_full_path())
    order = _customer_order(request, number)
    if order.status != OrderStatus.AWAITING_PAYMENT or order.payment_method not in (
        PaymentMethod.CARD,
        PaymentMethod.PAYPAL,
    ):
        return redirect("billing:order_done", number=order.number)
    # The consent to save the card comes with the payer's submission; a change of mind
    # starts a new attempt (the previous one is cancelled at the gateway).
    card = order.payment_method == PaymentMethod.CARD
    save_card = None
    if request.method == "POST":
        save_card = card and request.POST.get("save_card") in ("on", "1", "true")
    payment = payment_current(order=order, save_card=save_card)
    if payment is None:
        return redirect("billing:order_done", number=order.number)
    try:
        form = payment.get_form(data=request.POST if request.method == "POST" else None)
    except RedirectNeeded as redirect_to:
        return redirect(str(redirect_to))
    except PaymentError as error:
        messages.error(request, f"Il pagamento non è stato avviato: {error.message}. Riprova.")
        form = None
    return render(
        request,
        "billing/order_pay.html",
        {
            "order": order,
            "payment": payment,
            "form": form,
            "offer_save_card": card and gateway_saves_cards(),
            "save_card": payment.save_card,
            "test_gateway": settings.PAYMENT_GATEWAY == "test",
        },
    )


def gateway_saves_cards() -> bool:
    from billing.gateways import GatewayError, gateway_named

    try:
        return gateway_named(PaymentMethod.CARD).saves_cards
    except GatewayError:
        return False
