"""Back office of the transmission to the SDI: each document's transmission history on its
page, the lists of transmissions and receipts (read-only), and the preservation export."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from billing.sdi.models import SdiReceipt, SdiReceiptStatus, SdiState, SdiTransmission
from billing.sdi.preservation import parse_month, preservation_export
from billing.sdi.receipts import KIND_LABELS
from pecshop.admin_helpers import ReadOnlyAdmin, choices_filter, shown

LINE_BREAK = mark_safe("<br>")  # noqa: S308 - a constant


def _when(value) -> str:
    return timezone.localtime(value).strftime("%d/%m/%Y %H:%M") if value else "—"


def receipts_list(transmission: SdiTransmission):
    receipts = list(transmission.receipts.all())
    if not receipts:
        return "—"
    return format_html_join(
        LINE_BREAK,
        '<a href="{}">{}</a> {} ({}){}',
        (
            (
                reverse("admin:billing_sdireceipt_change", args=[r.pk]),
                r.kind or "??",
                r.name,
                _when(r.received_at),
                f" – {r.problem}" if r.problem else "",
            )
            for r in receipts
        ),
    )


def errors_list(transmission: SdiTransmission):
    parts = [(f"{e.get('code', '')}: {e.get('description', '')}",) for e in transmission.errors]
    if transmission.last_error:
        parts.append((f"Invio: {transmission.last_error}",))
    if not parts:
        return "—"
    return format_html_join(LINE_BREAK, "{}", parts)


class TransmissionColumns:
    file_ = shown("file_name", "nome file")
    state_ = shown("get_state_display", "stato")
    queued = shown("created_at", "in coda dal")
    sent = shown("sent_at", "inviata il")
    sdi_id_ = shown("sdi_id", "identificativo SdI")
    outcome = shown("outcome_at", "esito del")
    attempts_ = shown("attempts", "tentativi")
    actor_ = shown("actor", "reinviata da")
    reason_ = shown("reason", "motivo")

    @admin.display(description="ricevute")
    def receipts_(self, obj):
        return receipts_list(obj)

    @admin.display(description="errori")
    def errors_(self, obj):
        return errors_list(obj)


TRANSMISSION_FIELDS = [
    "file_",
    "state_",
    "queued",
    "sent",
    "sdi_id_",
    "outcome",
    "receipts_",
    "errors_",
    "attempts_",
    "actor_",
    "reason_",
]


class SdiTransmissionInline(TransmissionColumns, admin.TabularInline):
    """A document's transmission history: every file sent, with its receipts and errors."""

    model = SdiTransmission
    fields = TRANSMISSION_FIELDS
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["id"]
    verbose_name = "trasmissione allo SdI"
    verbose_name_plural = "trasmissione allo SdI (storico dei file inviati)"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor").prefetch_related("receipts")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SdiTransmission)
class SdiTransmissionAdmin(TransmissionColumns, ReadOnlyAdmin):
    list_display = [
        "file_",
        "document",
        "state_",
        "current",
        "queued",
        "sent",
        "sdi_id_",
        "outcome",
        "attempts_",
    ]
    list_select_related = ["invoice"]
    list_filter = [
        choices_filter("state", "stato", SdiState.choices),
        "is_current",
        ("invoice__issued_on", admin.DateFieldListFilter),
    ]
    current = shown("is_current", "attuale")
    ordering = ["-id"]
    search_fields = ["=file_name"]
    search_help_text = "Nome del file (es. IT12345670017_0000A.xml) o numero (2026/15)."
    fields = ["document", "current", *TRANSMISSION_FIELDS, "buyer_", "xml"]
    readonly_fields = fields
    buyer_ = shown("buyer", "intestatario trasmesso")

    @admin.display(description="documento", ordering="invoice__number")
    def document(self, obj):
        url = reverse("admin:billing_invoice_change", args=[obj.invoice_id])
        return format_html('<a href="{}">{}</a>', url, obj.invoice)

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if "/" in term:
            year, _, number = term.partition("/")
            if year.strip().isdigit() and number.strip().isdigit():
                return queryset.filter(invoice__year=int(year), invoice__number=int(number)), False
        return (queryset.filter(file_name=term) if term else queryset), False


@admin.register(SdiReceipt)
class SdiReceiptAdmin(ReadOnlyAdmin):
    list_display = ["received", "name", "kind_", "status_", "referenced", "problem_"]
    list_filter = [
        choices_filter("status", "stato", SdiReceiptStatus.choices),
        choices_filter("kind", "tipo", [(k, f"{k} – {v}") for k, v in KIND_LABELS.items()]),
    ]
    received = shown("received_at", "letta il", ordering="id")
    kind_ = shown("kind", "tipo")
    status_ = shown("get_status_display", "stato")
    referenced = shown("referenced_file", "NomeFile")
    problem_ = shown("problem", "problema")
    sdi_id_ = shown("sdi_id", "identificativo SdI")
    ordering = ["-id"]
    search_fields = ["=referenced_file", "=name"]
    search_help_text = "Nome del file della ricevuta o del documento a cui si riferisce."
    fields = [
        "received",
        "name",
        "kind_",
        "status_",
        "problem_",
        "referenced",
        "sdi_id_",
        "transmission_link",
        "text",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).defer("content")

    @admin.display(description="trasmissione")
    def transmission_link(self, obj):
        if obj.transmission_id is None:
            return "—"
        transmission = obj.transmission
        url = reverse("admin:billing_invoice_change", args=[transmission.invoice_id])
        return format_html('<a href="{}">{}</a> ({})', url, transmission.invoice, transmission)

    @admin.display(description="contenuto (così come è arrivato)")
    def text(self, obj):
        content = bytes(obj.content)
        return format_html(
            '<pre class="sdi-errors">{}</pre>',
            content.decode("utf-8", errors="replace")[:20000],
        )


def preservation_view(model_admin, request):
    """`Export per la conservazione`: a month's ZIP, for Amministrazione."""
    if not request.user.has_perm("billing.export_preservation"):
        raise PermissionDenied
    month_text = request.GET.get("mese", "").strip()
    if month_text:
        try:
            month = parse_month(month_text)
        except ValueError as error:
            model_admin.message_user(request, str(error), messages.ERROR)
        else:
            export = preservation_export(month=month)
            response = HttpResponse(export.content, content_type="application/zip")
            response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
            return response
    today = timezone.localdate()
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": "Export per la conservazione",
        "month": month_text or f"{today:%Y-%m}",
    }
    return TemplateResponse(request, "admin/billing/invoice/preservation.html", context)
