"""Checkout: the account, the holder and password of each new mailbox, the payment method."""

from django.contrib import messages
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils import timezone

from billing.forms import CheckoutForm, MailboxSetupForm
from billing.models import ItemKind, Order, PaymentMethod
from billing.services.cart import cart_checkout, cart_summary
from billing.services.orders import OrderError
from billing.views.common import request_cart
from customers.forms import EmailLoginForm, HolderForm, SignupForm
from customers.models import Customer
from customers.services import holder_create

OWN = "own"
NEW = "new"


def checkout(request):
    """Step 1: log in or create the account (the cart is kept either way)."""
    summary = cart_summary(cart=request_cart(request), today=timezone.localdate())
    if not summary.items:
        messages.info(request, "Il carrello è vuoto.")
        return redirect("billing:cart")
    if request.user.is_authenticated:
        return redirect("billing:checkout_details")
    return render(
        request,
        "billing/checkout_account.html",
        {"summary": summary, "login_form": EmailLoginForm(request), "signup_form": SignupForm()},
    )


def _mailbox_forms(request, customer: Customer, summary, data):
    own_label = (
        f"Io: {customer.own_holder.display_name}"
        if customer.own_holder
        else "Io (i dati di fatturazione indicati sopra)"
    )
    saved = list(customer.holders.exclude(pk=customer.own_holder_id))
    choices = [(OWN, own_label)] + [(str(h.pk), h.display_name) for h in saved]
    choices.append((NEW, "Assegna a un altro titolare"))
    rows = []
    for priced in summary.items:
        item = priced.item
        if item.kind != ItemKind.NEW_MAILBOX:
            continue
        setup = MailboxSetupForm(data, prefix=f"m{item.pk}", holder_choices=choices)
        # The new-holder fields count only when "Assegna a un altro titolare" is chosen.
        wants_new = data is not None and data.get(f"m{item.pk}-holder") == NEW
        holder = HolderForm(data if wants_new else None, prefix=f"h{item.pk}", customer=customer)
        rows.append({"item": item, "quote": priced.quote, "setup": setup, "holder": holder})
    return rows


def checkout_details(request):
    """Step 2: holders, passwords, terms and payment method; "Prosegui" places the order."""
    if not request.user.is_authenticated:
        if request.method == "POST":
            messages.warning(
                request,
                "La sessione è scaduta: accedi di nuovo per completare l'acquisto. "
                "Le caselle scelte sono ancora nel carrello se avevi già effettuato l'accesso.",
            )
        return redirect("billing:checkout")
    customer, _ = Customer.objects.get_or_create(user=request.user)
    data = request.POST or None
    if data is not None:
        # The same form submitted twice: the first submission placed the order.
        placed = Order.objects.filter(
            customer=customer, placement_key=data.get("placement_key", "")
        ).first()
        if placed is not None:
            return _go_to_payment(placed)
    cart = request_cart(request)
    summary = cart_summary(cart=cart, today=timezone.localdate())
    if not summary.items:
        messages.info(request, "Il carrello è vuoto.")
        return redirect("billing:cart")
    if not summary.is_valid:
        messages.error(request, "Alcuni articoli del carrello non sono più validi: correggili.")
        return redirect("billing:cart")

    buyer_form = (
        HolderForm(data, prefix="buyer", customer=customer, initial={"email": customer.email})
        if customer.own_holder is None
        else None
    )
    rows = _mailbox_forms(request, customer, summary, data)
    checkout_form = CheckoutForm(data, initial={"placement_key": CheckoutForm.new_key()})

    if data is not None:
        valid = checkout_form.is_valid()
        valid = (buyer_form is None or buyer_form.is_valid()) and valid
        for row in rows:
            valid = row["setup"].is_valid() and valid
            if row["setup"].is_valid() and row["setup"].cleaned_data["holder"] == NEW:
                valid = row["holder"].is_valid() and valid
        if valid:
            try:
                order = _place(customer, cart, buyer_form, rows, checkout_form, request.user)
            except OrderError as error:
                checkout_form.add_error(None, error.message)
            else:
                return _go_to_payment(order)

    return render(
        request,
        "billing/checkout_details.html",
        {
            "summary": summary,
            "buyer_form": buyer_form,
            "rows": rows,
            "checkout_form": checkout_form,
            "forms_with_errors": [
                f for f in _all_forms(buyer_form, rows, checkout_form) if f.errors
            ],
        },
    )


def _all_forms(buyer_form, rows, checkout_form):
    forms = [checkout_form] + ([buyer_form] if buyer_form else [])
    for row in rows:
        forms.append(row["setup"])
        if (
            row["setup"].is_bound
            and row["setup"].is_valid()
            and (row["setup"].cleaned_data["holder"] == NEW)
        ):
            forms.append(row["holder"])
    return forms


@transaction.atomic
def _place(customer, cart, buyer_form, rows, checkout_form, user) -> Order:
    if buyer_form is not None:
        holder_create(customer=customer, own=True, **buyer_form.holder_fields())
        customer.refresh_from_db()
    holders, passwords = {}, {}
    for row in rows:
        item, setup = row["item"], row["setup"].cleaned_data
        if setup["holder"] == OWN:
            holders[item.pk] = customer.own_holder_id
        elif setup["holder"] == NEW:
            holders[item.pk] = holder_create(customer=customer, **row["holder"].holder_fields()).pk
        else:
            holders[item.pk] = int(setup["holder"])
        passwords[item.pk] = setup["password1"]
    return cart_checkout(
        cart=cart,
        customer=customer,
        payment_method=checkout_form.cleaned_data["payment_method"],
        placement_key=checkout_form.cleaned_data["placement_key"],
        today=timezone.localdate(),
        holders=holders,
        passwords=passwords,
        actor=user,
    )


def _go_to_payment(order: Order):
    if order.payment_method == PaymentMethod.BANK_TRANSFER:
        return redirect("billing:order_done", number=order.number)
    return redirect("billing:order_pay", number=order.number)
