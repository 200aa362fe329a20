"""Accesso API: the account's API tokens (created, named, revoked; shown once) and, below,
its webhook endpoints with their recent deliveries."""

from datetime import date

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from api.models import DeliveryStatus, TokenScope, WebhookDelivery, WebhookEventType
from api.services import TokenError, token_create, token_revoke
from api.webhooks import (
    WebhookError,
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_resend,
)
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


# --- webhooks ---------------------------------------------------------------------------------


class WebhookForm(forms.Form):
    url = forms.URLField(
        label="Indirizzo (URL) che riceve gli eventi",
        max_length=500,
        assume_scheme="https",
        error_messages={
            "required": "Indica l'indirizzo.",
            "invalid": "Indica un indirizzo http:// o https:// valido.",
        },
    )
    events = forms.MultipleChoiceField(
        label="Eventi",
        choices=WebhookEventType.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Scegli almeno un evento."},
    )


RECENT_DELIVERIES = 30


@area_required
def webhooks(request):
    customer = _customer(request)
    form = WebhookForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        try:
            created = webhook_endpoint_create(
                customer=customer, url=form.cleaned_data["url"], events=form.cleaned_data["events"]
            )
        except WebhookError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            form = WebhookForm()
    endpoints = list(customer.webhook_endpoints.filter(active=True))
    deliveries = list(
        WebhookDelivery.objects.filter(endpoint__customer=customer)
        .select_related("endpoint")
        .order_by("-created_at", "-id")[:RECENT_DELIVERIES]
    )
    return render(
        request,
        "area/webhooks.html",
        {
            "form": form,
            "endpoints": endpoints,
            "deliveries": deliveries,
            "created": created,
            "forms_with_errors": [form] if form.errors else [],
        },
    )


@area_required
@require_POST
def webhook_delete(request, pk: int):
    customer = _customer(request)
    endpoint = get_object_or_404(customer.webhook_endpoints.filter(active=True), pk=pk)
    webhook_endpoint_delete(endpoint=endpoint)
    messages.success(request, f"Il webhook {endpoint.url} non riceverà più eventi.")
    return redirect("area:webhooks")


@area_required
@require_POST
def webhook_resend_view(request, pk: int):
    customer = _customer(request)
    delivery = get_object_or_404(
        WebhookDelivery.objects.select_related("endpoint"), pk=pk, endpoint__customer=customer
    )
    copy = webhook_resend(delivery=delivery)
    if copy.status == DeliveryStatus.DELIVERED:
        messages.success(request, f"Evento inviato di nuovo: risposta {copy.response_status}.")
    else:
        messages.error(
            request,
            "Invio non riuscito"
            + (f" (risposta {copy.response_status})" if copy.response_status else "")
            + ": sarà ritentato automaticamente.",
        )
    return redirect("area:webhooks")
