"""Metodi di pagamento: the cards saved at the gateway for the automatic renewals.

Only the account reaches them: another account's card is a 404, and so is the page for a
session opened with a mailbox's own credentials.
"""

from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from area.views import area_required
from billing.models import SavedCard
from billing.services.saved_cards import (
    SavedCardError,
    card_setup_finish,
    card_setup_start,
    saved_card_remove,
    saved_card_set_default,
    saved_cards_of,
)
from billing.views.common import current_customer


def _account(request):
    customer = current_customer(request)
    if customer is None:
        raise Http404
    return customer


@area_required
def payment_methods(request):
    customer = _account(request)
    return render(
        request,
        "area/payment_methods.html",
        {"cards": list(saved_cards_of(customer).order_by("-is_default", "-created_at", "-id"))},
    )


@area_required
@require_POST
def payment_method_default(request, pk: int):
    try:
        card = saved_card_set_default(customer=_account(request), card_id=pk)
    except SavedCard.DoesNotExist:
        raise Http404 from None
    messages.success(request, f"{card} pagherà i rinnovi automatici.")
    return redirect("area:payment_methods")


@area_required
@require_POST
def payment_method_remove(request, pk: int):
    try:
        card = saved_card_remove(customer=_account(request), card_id=pk)
    except SavedCard.DoesNotExist:
        raise Http404 from None
    messages.success(request, f"Carta {card} rimossa.")
    return redirect("area:payment_methods")


@area_required
@require_POST
def payment_method_add(request):
    """Save a card outside a payment: only with the explicit consent box ticked."""
    customer = _account(request)
    if request.POST.get("consent") != "on":
        messages.error(
            request,
            "Per salvare una carta spunta il consenso al suo uso per i rinnovi automatici.",
        )
        return redirect("area:payment_methods")
    try:
        url = card_setup_start(
            customer=customer,
            return_url=settings.SITE_URL + reverse("area:payment_method_saved"),
        )
    except SavedCardError as error:
        messages.error(request, error.message)
        return redirect("area:payment_methods")
    return redirect(url)


@area_required
def payment_method_saved(request):
    """The gateway's card page comes back here."""
    customer = _account(request)
    reference = request.GET.get("session_id") or request.GET.get("setup") or ""
    if not reference:
        messages.info(request, "Nessuna carta salvata.")
        return redirect("area:payment_methods")
    try:
        card = card_setup_finish(customer=customer, reference=reference[:255])
    except SavedCardError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Carta {card} salvata per i rinnovi automatici.")
    return redirect("area:payment_methods")
