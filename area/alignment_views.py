"""Allinea le scadenze: choose mailboxes and a target date, see each mailbox's months and
amount, "Prosegui" to one order. The rule and the order are `billing.services.alignment`."""

import uuid

from django.contrib import messages
from django.core import signing
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone

from area.forms import PaymentChoiceForm
from area.views import area_required
from billing.catalogue_cache import current_catalogue
from billing.models import PaymentMethod
from billing.pricing import PricingError
from billing.services.alignment import (
    aligned_mailbox,
    alignment_candidates,
    alignment_order_place,
    alignment_preview,
    plan_label,
)
from billing.services.orders import OrderError
from billing.views.common import current_customer

TOKEN_SALT = "area-alignment"
TOKEN_MAX_AGE = 3600


def _days(value: str) -> int | None:
    value = (value or "").strip()
    if not value:
        return None
    if not value.isdigit():
        raise PricingError("Indica un numero di giorni intero.", field="days")
    return int(value)


@area_required
def alignment(request):
    customer = current_customer(request)
    if customer is None:  # a mailbox-credential session sees one mailbox only
        raise Http404
    today = timezone.localdate()
    if request.method == "POST" and "token" in request.POST:
        return _confirm(request, customer, today)

    error = None
    days_text = request.GET.get("giorni", "")[:5]
    try:
        days = _days(days_text)
        candidates = list(alignment_candidates(customer, today=today, expiring_within_days=days))
    except PricingError as problem:
        error, days = problem.message, None
        candidates = list(alignment_candidates(customer, today=today))
    selected = {m.pk for m in candidates} if days is not None else set()
    target = ""
    if request.method == "POST":
        selected_raw = request.POST.getlist("caselle")
        selected = {int(pk) for pk in selected_raw if pk.isdigit()}
        target = request.POST.get("data", "")[:10]
        try:
            mailboxes, quote = alignment_preview(
                customer=customer,
                mailbox_ids=[pk for pk in selected_raw if pk.isdigit()] or [],
                target=target,
                today=today,
            )
        except PricingError as problem:
            error = problem.message
        else:
            catalogue = current_catalogue(today)
            token = signing.dumps(
                {
                    "ids": [m.pk for m in mailboxes],
                    "target": quote.target.isoformat(),
                    "key": uuid.uuid4().hex,
                },
                salt=TOKEN_SALT,
            )
            return render(
                request,
                "area/alignment_preview.html",
                {
                    "rows": [
                        (m, r, plan_label(catalogue, aligned_mailbox(m)))
                        for m, r in zip(mailboxes, quote.rows, strict=True)
                    ],
                    "quote": quote,
                    "payment_form": PaymentChoiceForm(initial={"token": token}),
                },
            )
    return render(
        request,
        "area/alignment.html",
        {
            "candidates": candidates,
            "selected": selected,
            "days": days_text,
            "target": target,
            "error": error,
            "today": today,
        },
    )


def _confirm(request, customer, today):
    """ "Prosegui": the order exactly as previewed, re-validated, then to payment."""
    form = PaymentChoiceForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Scegli il metodo di pagamento.")
        return redirect("area:alignment")
    try:
        payload = signing.loads(form.cleaned_data["token"], salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE)
    except signing.BadSignature:
        messages.error(request, "La richiesta è scaduta: ripeti l'operazione.")
        return redirect("area:alignment")
    try:
        order = alignment_order_place(
            customer=customer,
            mailbox_ids=payload["ids"],
            target=payload["target"],
            payment_method=form.cleaned_data["payment_method"],
            placement_key=payload["key"],
            today=today,
            actor=request.user,
        )
    except (PricingError, OrderError) as error:
        messages.error(request, error.message)
        return redirect("area:alignment")
    if order.payment_method == PaymentMethod.BANK_TRANSFER:
        return redirect("billing:order_done", number=order.number)
    return redirect("billing:order_pay", number=order.number)
