"""Accesso API: the account's API tokens (created, named, revoked; shown once) and, below,
its webhook endpoints with their recent deliveries."""

from datetime import date

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from api.models import TokenScope
from api.services import TokenError, token_create, token_revoke
from area.views import area_required
from billing.views.common import current_customer


class TokenForm(forms.Form):
    name = forms.CharField(
        label="Nome del token",
        max_length=100,
        error_messages={"required": "Dai un nome al token (es. «gestionale studio»)."},
    )
    scope = forms.ChoiceField(
        label="Permessi",
        choices=TokenScope.choices,
        widget=forms.RadioSelect,
        initial=TokenScope.READ,
        error_messages={"required": "Scegli i permessi del token."},
    )
    expires_on = forms.DateField(
        label="Scadenza (facoltativa)",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": "Indica una data valida (AAAA-MM-GG)."},
        help_text="Dal giorno della scadenza il token non vale più.",
    )


def _customer(request):
    customer = current_customer(request)
    if customer is None:  # a mailbox-credential session has no account's API
        raise Http404
    return customer


def _page(request, customer, form, *, new_token: str | None = None, extra=None):
    context = {
        "tokens": list(customer.api_tokens.all()),
        "form": form,
        "new_token": new_token,
        "today": timezone.localdate(),
        "forms_with_errors": [form] if form.errors else [],
    }
    context.update(extra or {})
    return render(request, "area/api_access.html", context)


@area_required
def api_access(request):
    customer = _customer(request)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        expires_on: date | None = form.cleaned_data["expires_on"]
        try:
            token, raw = token_create(
                customer=customer,
                name=form.cleaned_data["name"],
                scope=form.cleaned_data["scope"],
                expires_on=expires_on,
                today=timezone.localdate(),
            )
        except TokenError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            # Shown on this page only: the shop keeps only its hash.
            return _page(request, customer, TokenForm(), new_token=raw, extra={"created": token})
    return _page(request, customer, form)


@area_required
@require_POST
def api_token_revoke(request, pk: int):
    customer = _customer(request)
    token = get_object_or_404(customer.api_tokens, pk=pk)
    token_revoke(token=token)
    messages.success(request, f"Il token «{token.name}» è stato revocato.")
    return redirect("area:api_access")
