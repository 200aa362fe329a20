"""Recedi dal contratto qui: the consumer's online withdrawal (art. 54-bis Codice del Consumo).

Only the logged-in account's own orders: another customer's order, and any session opened
with a mailbox's own credentials, get a 404. The page names the order, what will be undone,
the refund and its breakdown, how it is paid and the deadline, and asks for one
confirmation; the receipt page and the e-mail acknowledge it.
"""

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from area.views import area_required
from billing.models import Order
from billing.services.withdrawals import (
    WithdrawalRefused,
    iban_error,
    order_withdraw,
    withdrawable_orders,
    withdrawal_preview,
)
from billing.views.common import current_customer
from billing.withdrawal_models import Withdrawal


class WithdrawalForm(forms.Form):
    """Only what a bank-transfer refund needs: the IBAN (checked by its check digits)."""

    iban = forms.CharField(
        label="IBAN per il rimborso",
        max_length=42,
        required=False,
        help_text="Il conto, intestato a te, su cui ricevere il rimborso con bonifico.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def __init__(self, *args, needs_iban: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.needs_iban = needs_iban
        if needs_iban:
            self.fields["iban"].required = True
        else:
            del self.fields["iban"]

    def clean_iban(self) -> str:
        value = self.cleaned_data.get("iban", "")
        message = iban_error(value)
        if message:
            raise forms.ValidationError(message)
        return value


def _customer(request):
    """The logged-in account; a mailbox-credential session cannot withdraw (404)."""
    customer = current_customer(request)
    if customer is None:
        raise Http404
    return customer


def _order(request, number: str) -> Order:
    return get_object_or_404(
        Order.objects.select_related("billing_holder", "customer"),
        number=number,
        customer=_customer(request),
    )


@area_required
def withdrawal_start(request):
    """The entry point of the dashboard: the orders that may be withdrawn now."""
    customer = _customer(request)
    now = timezone.now()
    orders = [
        (order, withdrawal_preview(order=order, now=now))
        for order in withdrawable_orders(customer=customer, today=timezone.localdate(now))
    ]
    return render(
        request,
        "area/withdrawal_start.html",
        {"orders": orders, "withdrawals": customer.withdrawals.select_related("order")[:20]},
    )


@area_required
def withdrawal(request, number: str):
    order = _order(request, number)
    now = timezone.now()
    preview = withdrawal_preview(order=order, now=now)
    if preview.refused is not None and preview.refused.code == "already":
        messages.info(request, preview.refused.message)
        return redirect("area:withdrawal_receipt", number=order.number)
    form = WithdrawalForm(
        request.POST if request.method == "POST" else None, needs_iban=preview.needs_iban
    )
    status = 200
    if request.method == "POST":
        if preview.refused is not None:
            status = 403
        elif form.is_valid():
            try:
                order_withdraw(
                    order=order,
                    now=now,
                    iban=form.cleaned_data.get("iban", ""),
                    actor=request.user,
                )
            except WithdrawalRefused as refused:
                if refused.code == "already":
                    messages.info(request, refused.message)
                    return redirect("area:withdrawal_receipt", number=order.number)
                if refused.code == "iban":
                    form.add_error("iban", refused.message)
                else:
                    preview.refused = refused
                    status = 403
            else:
                return redirect("area:withdrawal_receipt", number=order.number)
    return render(
        request,
        "area/withdrawal.html",
        {
            "order": order,
            "preview": preview,
            "form": form,
            "forms_with_errors": [form] if form.is_bound and form.errors else [],
        },
        status=status,
    )


@area_required
def withdrawal_receipt(request, number: str):
    order = _order(request, number)
    withdrawal = get_object_or_404(
        Withdrawal.objects.select_related("credit_note", "order__billing_holder"), order=order
    )
    return render(
        request,
        "area/withdrawal_receipt.html",
        {"order": order, "withdrawal": withdrawal},
    )
