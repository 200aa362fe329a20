"""Esporta: the CSV of the mailboxes (the dashboard's filters) and of the invoices."""

from datetime import date

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from api.exports import ExportError, invoices_csv, mailboxes_csv
from area.listing import Filters
from area.views import area_required
from billing.views.common import current_customer
from mailboxes.models import MailboxStatus


def _customer(request):
    customer = current_customer(request)
    if customer is None:
        raise Http404
    return customer


def _csv_response(content: bytes, name: str) -> HttpResponse:
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _day(value: str) -> date | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ExportError("Indica le date nel formato AAAA-MM-GG.") from None


@area_required
def exports(request):
    customer = _customer(request)
    today = timezone.localdate()
    error = None
    if request.GET.get("cosa") == "caselle":
        filters = Filters.from_query(request.GET)
        return _csv_response(
            mailboxes_csv(customer, filters, today=today), f"caselle-pec-{today:%Y-%m-%d}.csv"
        )
    if request.GET.get("cosa") == "fatture":
        try:
            date_from = _day(request.GET.get("dal", ""))
            date_to = _day(request.GET.get("al", ""))
            content = invoices_csv(customer, date_from=date_from, date_to=date_to)
        except ExportError as problem:
            error = problem.message
        else:
            span = f"{date_from or 'inizio'}_{date_to or today}"
            return _csv_response(content, f"fatture-{span}.csv")
    return render(
        request,
        "area/exports.html",
        {
            "error": error,
            "statuses": MailboxStatus.choices,
            "dal": request.GET.get("dal", "")[:10],
            "al": request.GET.get("al", "")[:10],
        },
    )
