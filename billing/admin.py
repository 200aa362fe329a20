"""Back office of orders, payments, invoices and credit notes, and the staff dashboard.

Orders, payments and invoices are read-only pages: an order changes only through the
operations below (bank transfer, cancellation, refund), which call the billing services
and write an `OrderEvent` with the staff user and the reason. Issued invoices and credit
notes are never edited or deleted.
"""

import re
from datetime import timedelta
from functools import partial

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.widgets import AdminDateWidget
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import OuterRef, Subquery
from django.http import Http404, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from payments import PaymentStatus

from billing import withdrawal_admin  # noqa: F401 (registers the withdrawals)
from billing.dashboard import dashboard_figures, invariant_violations
from billing.documents import (
    document_from_invoice,
    invoice_fatturapa_xml,
    invoice_pdf,
    progressivo_invio,
)
from billing.event_labels import details_label, event_label, transition_label
from billing.lifecycle import invariant_violations as invariant_check
from billing.models import (
    Invoice,
    InvoiceKind,
    InvoiceLine,
    Order,
    OrderEvent,
    OrderItem,
    OrderLine,
    OrderStatus,
    Payment,
    PaymentMethod,
)
from billing.money import format_eur
from billing.sdi.admin import SdiTransmissionInline, preservation_view
from billing.sdi.models import SdiReceipt, SdiState, SdiTransmission
from billing.sdi.services import SdiError, current_transmission, resend_deadline, sdi_resend
from billing.services.orders import OrderError, order_cancel, order_event
from billing.services.payments import bank_transfer_register
from billing.services.refunds import order_refund
from mailboxes.admin import ORDER_NUMBER, event_search
from mailboxes.models import MailboxAddOn, ProvisioningCall
from mailboxes.services import TransitionError
from pecshop.admin_helpers import (
    LargeTableAdmin,
    Operation,
    OperationsAdmin,
    ReadOnlyAdmin,
    ReasonForm,
    choices_filter,
    shown,
)

admin.site.site_header = "PEC Shop · back office"
admin.site.site_title = "PEC Shop back office"
admin.site.index_title = "Back office"
admin.site.enable_nav_sidebar = False  # the lists need the width; the home lists everything


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class LineColumns:
    """The columns of an order's or invoice's lines, with Italian labels."""

    pos = shown("position", "n.")
    code_ = shown("code", "codice")
    description_ = shown("description", "descrizione")
    quantity_ = shown("quantity", "quantità")
    months_ = shown("months", "mesi")
    unit_price_ = shown("unit_price", "prezzo annuo unitario", fmt=format_eur)
    net_ = shown("net", "imponibile", fmt=format_eur)


class MoneyColumns:
    """Net, VAT and total with the euro sign, as on the customer's documents."""

    net_eur = shown("net", "imponibile", fmt=format_eur, ordering="net")
    vat_eur = shown("vat", "IVA", fmt=format_eur)
    total_eur = shown("total", "totale", fmt=format_eur, ordering="total")


LINE_FIELDS = ["pos", "code_", "description_", "quantity_", "months_", "unit_price_", "net_"]


class OrderItemInline(ReadOnlyInline):
    model = OrderItem
    fields = ["pos", "kind_", "mailbox_link"]
    readonly_fields = fields
    pos = shown("position", "n.")
    kind_ = shown("get_kind_display", "articolo")
    verbose_name = "articolo"
    verbose_name_plural = "articoli dell'ordine"

    @admin.display(description="casella")
    def mailbox_link(self, obj):
        if obj.mailbox_id is None:
            return "—"
        url = reverse("admin:mailboxes_mailbox_change", args=[obj.mailbox_id])
        return format_html(
            '<a href="{}">{}</a> ({})', url, obj.mailbox, obj.mailbox.get_status_display()
        )

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("mailbox")


class OrderLineInline(LineColumns, ReadOnlyInline):
    model = OrderLine
    fields = LINE_FIELDS
    readonly_fields = fields
    verbose_name = "riga"
    verbose_name_plural = "righe (prezzi al momento dell'ordine)"


class PaymentInline(ReadOnlyInline):
    model = Payment
    fields = [
        "created_",
        "method_",
        "status_",
        "amount",
        "bank_reference",
        "received_on",
        "applied_at",
        "needs_review",
        "review_note",
        "registered",
        "duplicate",
        "refund_reference",
    ]
    readonly_fields = fields
    show_change_link = True
    created_ = shown("created", "creato il")
    method_ = shown("get_method_display", "metodo")
    status_ = shown("get_status_display", "stato")
    amount = shown("total", "importo", fmt=format_eur)
    registered = shown("registered_by", "registrato da")


class InvoiceInline(MoneyColumns, ReadOnlyInline):
    model = Invoice
    fk_name = "order"
    fields = ["number_link", "kind_", "issued_on", "net_eur", "vat_eur", "total_eur", "downloads"]
    readonly_fields = fields
    kind_ = shown("get_kind_display", "tipo")
    verbose_name = "documento"
    verbose_name_plural = "fatture e note di credito"

    @admin.display(description="numero")
    def number_link(self, obj):
        url = reverse("admin:billing_invoice_change", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, obj.display_number)

    @admin.display(description="scarica")
    def downloads(self, obj):
        return download_links(obj)


class EventColumns:
    """The columns of an order's history, with Italian labels."""

    when = shown("created_at", "quando", ordering="id")
    actor_ = shown("actor", "eseguito da")
    reason_ = shown("reason", "motivo")

    @admin.display(description="evento")
    def kind_(self, obj):
        return event_label(obj.kind)

    @admin.display(description="stato")
    def status_(self, obj):
        return transition_label(obj.from_status, obj.to_status) or "—"

    @admin.display(description="dettagli")
    def data_(self, obj):
        return details_label(obj.data or {}) or "—"


EVENT_FIELDS = ["when", "kind_", "status_", "actor_", "reason_", "data_"]


class OrderEventInline(EventColumns, ReadOnlyInline):
    model = OrderEvent
    fields = EVENT_FIELDS
    readonly_fields = fields
    ordering = ["-id"]
    verbose_name = "evento"
    verbose_name_plural = "storico dell'ordine"


def download_links(invoice: Invoice):
    return format_html(
        '<a href="{}">PDF</a> · <a href="{}">XML FatturaPA</a>',
        reverse("admin:billing_invoice_pdf", args=[invoice.pk]),
        reverse("admin:billing_invoice_xml", args=[invoice.pk]),
    )


# --- operation forms -----------------------------------------------------------------------


class BankTransferForm(ReasonForm):
    amount = forms.DecimalField(
        label="Importo ricevuto (€)", max_digits=12, decimal_places=2, localize=True
    )
    received_on = forms.DateField(label="Data di incasso", widget=AdminDateWidget)
    bank_reference = forms.CharField(
        label="Riferimento bancario (CRO/TRN)",
        max_length=100,
        help_text="Lo stesso riferimento registrato due volte resta un solo pagamento.",
    )
    field_order = ["amount", "received_on", "bank_reference", "reason"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        order = self.objects[0]
        self.fields["amount"].initial = order.total
        self.fields["received_on"].initial = timezone.localdate()
        self.fields["reason"].initial = "Bonifico ricevuto sul conto"

    def clean_received_on(self):
        value = self.cleaned_data["received_on"]
        if value > timezone.localdate():
            raise ValidationError("La data di incasso non può essere futura.")
        return value


class RefundForm(ReasonForm):
    net = forms.DecimalField(
        label="Imponibile da stornare (€)",
        required=False,
        min_value=0,
        max_digits=12,
        decimal_places=2,
        localize=True,
        help_text=(
            "Vuoto: tutto il residuo della fattura (rimborso totale). Un importo minore è un "
            "rimborso parziale: l'ordine resta pagato."
        ),
    )
    iban = forms.CharField(
        label="IBAN del cliente (solo ordini pagati con bonifico)",
        required=False,
        max_length=42,
        help_text=(
            "Carta e PayPal: il rimborso parte dal gateway che ha incassato. Bonifico: "
            "il bonifico di rimborso resta da fare a questo IBAN."
        ),
    )
    field_order = ["net", "iban", "reason"]


FULL_CHECK_LIMIT = 20

REFUND_INTRO = (
    "Emette una nota di credito sulla fattura dell'ordine. Con il rimborso totale l'ordine "
    "diventa «rimborsato» e le caselle nuove che aveva acquistato vengono cancellate con i "
    "loro servizi. Servizi aggiuntivi, GB, rinnovi e cambi di tipologia acquistati per "
    "caselle già esistenti NON vengono tolti automaticamente: si interviene dalla pagina della "
    "casella. Il denaro va restituito sul canale di pagamento (gateway o bonifico)."
)


@admin.register(Order)
class OrderAdmin(MoneyColumns, OperationsAdmin, LargeTableAdmin):
    list_display = [
        "number",
        "placed_on",
        "customer_email",
        "status",
        "payment_method",
        "total_eur",
        "paid",
    ]
    paid = shown("paid_at", "pagato il", ordering="paid_at")
    list_select_related = ["customer__user"]
    list_filter = ["status", "payment_method", "placed_on"]
    ordering = ["-id"]
    search_fields = ["=number"]
    search_help_text = "Numero d'ordine (es. 2026-000123) o e-mail dell'account."
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "number",
                    "status",
                    "attention_reason",
                    "customer_link",
                    "billing_holder",
                    "payment_method",
                    "placed_on",
                ]
            },
        ),
        ("Importi", {"fields": ["net_eur", "vat_eur", "total_eur"]}),
        ("Date", {"fields": ["created", "paid_at", "cancelled_at"]}),
        ("Gateway", {"fields": ["payment_attempts", "disputed_at"]}),
    ]
    readonly_fields = [
        "payment_attempts",
        "disputed_at",
        "number",
        "status",
        "attention_reason",
        "customer_link",
        "billing_holder",
        "payment_method",
        "placed_on",
        "net_eur",
        "vat_eur",
        "total_eur",
        "created",
        "paid_at",
        "cancelled_at",
    ]
    created = shown("created_at", "creato il")
    inlines = [OrderItemInline, OrderLineInline, PaymentInline, InvoiceInline, OrderEventInline]
    actions = ["register_bank_transfer", "cancel_selected", "refund"]
    operations = (
        Operation(
            slug="bonifico",
            title="Registra un bonifico",
            permission="register_bank_transfer",
            form_class=BankTransferForm,
            many=False,
            intro=(
                "Il pagamento segue lo stesso percorso di quelli online: se l'importo "
                "corrisponde, l'ordine viene evaso (caselle attivate, fattura emessa) una sola "
                "volta, anche se lo stesso bonifico viene registrato di nuovo."
            ),
            submit="Registra il bonifico",
        ),
        Operation(
            slug="annulla",
            title="Annulla l'ordine",
            permission="cancel_order",
            intro=(
                "Solo per ordini in attesa di pagamento: gli indirizzi riservati tornano "
                "disponibili."
            ),
            submit="Annulla l'ordine",
        ),
        Operation(
            slug="rimborso",
            title="Rimborsa con nota di credito",
            permission="refund",
            form_class=RefundForm,
            many=False,
            intro=REFUND_INTRO,
            submit="Rimborsa",
        ),
    )
    operation_errors = (ValidationError, OrderError, TransitionError)

    @admin.display(description="account", ordering="customer__user__email")
    def customer_email(self, obj) -> str:
        return obj.customer.user.email

    @admin.display(description="totale", ordering="total")
    def total_eur(self, obj) -> str:
        return format_eur(obj.total)

    @admin.display(description="account")
    def customer_link(self, obj):
        url = reverse("admin:customers_customer_change", args=[obj.customer_id])
        return format_html('<a href="{}">{}</a>', url, obj.customer)

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if "@" in term:
            return queryset.filter(customer__user__username=term.lower()), False
        return (queryset.filter(number=term) if term else queryset), False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_register_bank_transfer_permission(self, request) -> bool:
        return request.user.has_perm("billing.register_bank_transfer")

    def has_cancel_order_permission(self, request) -> bool:
        return request.user.has_perm("billing.cancel_order")

    def has_refund_permission(self, request) -> bool:
        return request.user.has_perm("billing.refund_order")

    def operation_applies(self, op, obj) -> bool:
        return {
            "bonifico": obj.status == OrderStatus.AWAITING_PAYMENT,
            "annulla": obj.status == OrderStatus.AWAITING_PAYMENT,
            "rimborso": obj.status in (OrderStatus.PAID, OrderStatus.ATTENTION),
        }[op.slug]

    @admin.action(description="Registra un bonifico", permissions=["register_bank_transfer"])
    def register_bank_transfer(self, request, queryset):
        return self.redirect_to_operation(request, queryset, "bonifico")

    @admin.action(description="Annulla gli ordini non pagati", permissions=["cancel_order"])
    def cancel_selected(self, request, queryset):
        return self.redirect_to_operation(request, queryset, "annulla")

    @admin.action(description="Rimborsa con nota di credito", permissions=["refund"])
    def refund(self, request, queryset):
        return self.redirect_to_operation(request, queryset, "rimborso")

    def perform_bonifico(self, request, obj, data):
        payment, outcome = bank_transfer_register(
            order=obj,
            amount=data["amount"],
            received_on=data["received_on"],
            bank_reference=data["bank_reference"],
            actor=request.user,
        )
        order_event(
            order=obj,
            kind="staff_bank_transfer",
            actor=request.user,
            reason=data["reason"],
            payment=payment,
            outcome=outcome,
            bank_reference=payment.bank_reference,
            amount=str(data["amount"]),
        )
        payment.refresh_from_db()
        obj.refresh_from_db()
        if outcome == "fulfilled":
            invoice = obj.invoices.filter(kind=InvoiceKind.INVOICE).first()
            return (
                f"Ordine {obj.number}: bonifico registrato, ordine pagato ed evaso, fattura "
                f"{invoice.display_number if invoice else '—'} emessa.",
                messages.SUCCESS,
            )
        if outcome == "already":
            return (
                f"Ordine {obj.number}: il bonifico {payment.bank_reference} era già registrato; "
                "l'ordine non è stato evaso una seconda volta.",
                messages.WARNING,
            )
        if outcome == "attention":
            return (
                f"Ordine {obj.number}: bonifico registrato, ma l'ordine non si può applicare "
                f"così com'è ed è «da verificare»: {obj.attention_reason}",
                messages.WARNING,
            )
        return (
            f"Ordine {obj.number}: bonifico registrato ma da verificare: {payment.review_note}",
            messages.WARNING,
        )

    def perform_annulla(self, request, obj, data):
        order_cancel(
            order=obj, actor=request.user, reason=data["reason"], today=timezone.localdate()
        )
        return f"Ordine {obj.number} annullato.", messages.SUCCESS

    def perform_rimborso(self, request, obj, data):
        result = order_refund(
            order=obj,
            actor=request.user,
            reason=data["reason"],
            today=timezone.localdate(),
            net=data["net"],
            iban=data.get("iban", ""),
        )
        parts = [
            f"Ordine {obj.number}: "
            + ("rimborso totale" if result.full else "rimborso parziale")
            + f" di {format_eur(result.net)} + IVA"
        ]
        if result.credit_note:
            parts.append(f"nota di credito {result.credit_note.display_number} emessa")
        if result.cancelled:
            parts.append("caselle cancellate: " + ", ".join(result.cancelled))
        if result.not_reverted:
            parts.append(
                "NON tolti automaticamente (intervieni dalla pagina della casella se serve): "
                + "; ".join(result.not_reverted)
            )
        if result.gateway_refund:
            parts.append(
                f"{format_eur(result.gross)} rimborsati dal gateway (rimborso "
                f"{result.gateway_refund})"
            )
        else:
            parts.append(
                f"da fare: bonifico di rimborso di {format_eur(result.gross)} "
                + (f"all'IBAN {result.bank_iban}" if result.bank_iban else "(chiedi l'IBAN)")
            )
        return ". ".join(parts) + ".", messages.WARNING if result.not_reverted else messages.SUCCESS

    # --- the dashboard ---------------------------------------------------------------------

    def get_urls(self):
        return [
            path(
                "cruscotto/",
                self.admin_site.admin_view(self.dashboard_view),
                name="cruscotto",
            ),
            *super().get_urls(),
        ]

    def dashboard_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        today = timezone.localdate()
        figures = dashboard_figures(today=today)
        violations = invariant_violations(today=today)
        links = _dashboard_links(today)
        for figure in [*figures, *violations]:
            figure.url = links.get(figure.key, "")
            figure.row_links = [(_row_label(row), _row_url(row)) for row in figure.rows]
        full_check = None
        if request.GET.get("controlli") == "completi":
            # The complete check of the lifecycle jobs: every invariant, slower on large
            # tables, so it runs when asked.
            full_check = invariant_check(today=today, limit=FULL_CHECK_LIMIT)
        context = {
            **self.admin_site.each_context(request),
            "title": "Cruscotto",
            "today": today,
            "figures": figures,
            "violations": violations,
            "violations_total": sum(f.count for f in violations),
            "full_check": full_check,
        }
        return TemplateResponse(request, "admin/pecshop/dashboard.html", context)


def _dashboard_links(today) -> dict[str, str]:
    orders = reverse("admin:billing_order_changelist")
    mailboxes = reverse("admin:mailboxes_mailbox_changelist")
    week = today + timedelta(days=7)
    overdue = today - timedelta(days=settings.BANK_TRANSFER_DAYS)
    return {
        "awaiting": f"{orders}?status__exact=awaiting",
        "overdue_transfers": (
            f"{orders}?status__exact=awaiting&payment_method__exact=bank_transfer"
            f"&placed_on__lt={overdue.isoformat()}"
        ),
        "attention": f"{orders}?status__exact=attention",
        "flagged_payments": reverse("admin:billing_payment_changelist") + "?needs_review__exact=1",
        "provisioning_failed": reverse("admin:mailboxes_provisioningcall_changelist")
        + "?status__exact=failed",
        "expiring": (
            f"{mailboxes}?status__exact=active&expires_on__gte={today.isoformat()}"
            f"&expires_on__lt={week.isoformat()}"
        ),
        "paid_without_invoice": f"{orders}?status__exact=paid",
        "active_past_expiry": (
            f"{mailboxes}?status__exact=active&expires_on__lt={(today + timedelta(days=1)).isoformat()}"
        ),
        "expired_past_grace": f"{mailboxes}?status__exact=expired",
        "withdrawal_refunds": reverse("admin:billing_withdrawal_changelist")
        + "?refund_status__exact=pending",
        **_sdi_links(today),
    }


def _sdi_links(today) -> dict[str, str]:
    from billing.sdi.services import LATE_AFTER_DAYS

    transmissions = reverse("admin:billing_sditransmission_changelist") + "?is_current__exact=1"
    late_on = today - timedelta(days=LATE_AFTER_DAYS)
    return {
        "sdi_waiting": f"{transmissions}&state__in=queued,sent",
        "sdi_late": (
            f"{transmissions}&state__exact=queued"
            f"&invoice__issued_on__lt={(late_on + timedelta(days=1)).isoformat()}"
        ),
        "sdi_discarded": f"{transmissions}&state__exact=discarded",
        "sdi_undelivered": f"{transmissions}&state__exact=not_delivered",
        "sdi_flagged_receipts": reverse("admin:billing_sdireceipt_changelist")
        + "?status__exact=flagged",
    }


def _row_url(row) -> str:
    if isinstance(row, SdiTransmission):
        return reverse("admin:billing_invoice_change", args=[row.invoice_id])
    if isinstance(row, MailboxAddOn):
        return reverse("admin:mailboxes_mailbox_change", args=[row.mailbox_id])
    opts = row._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[row.pk])


def _row_label(row) -> str:
    if isinstance(row, SdiTransmission):
        detail = row.last_error or "; ".join(
            f"{e.get('code', '')} {e.get('description', '')}" for e in row.errors
        )
        label = f"{row.invoice} del {row.invoice.issued_on:%d/%m/%Y}: {row}" + (
            f" – {detail[:160]}" if detail else ""
        )
        if row.state == SdiState.DISCARDED:
            label += f" – reinvio con stesso numero e data entro il {resend_deadline(row):%d/%m/%Y}"
        return label
    if isinstance(row, SdiReceipt):
        return f"{row.name}: {row.problem[:160]}"
    if isinstance(row, Order):
        detail = row.attention_reason or f"{row.customer.user.email}, {format_eur(row.total)}"
        return f"{row.number} del {row.placed_on:%d/%m/%Y}: {detail}"
    if isinstance(row, Payment):
        return f"{row} – ordine {row.order.number}: {row.review_note}"
    if isinstance(row, ProvisioningCall):
        return f"{row.mailbox.address}: {row.get_action_display()} – {row.last_error[:120]}"
    if isinstance(row, MailboxAddOn):
        return f"{row.mailbox.address}: {row.addon.code} attivo, casella {row.mailbox.get_status_display()}"
    expires = getattr(row, "expires_on", None)
    return f"{row} (scadenza {expires:%d/%m/%Y})" if expires else str(row)


# --- payments ------------------------------------------------------------------------------


@admin.register(Payment)
class PaymentAdmin(LargeTableAdmin):
    list_display = [
        "id",
        "created_",
        "order_",
        "method_",
        "status_",
        "amount",
        "bank_reference",
        "applied",
        "needs_review",
    ]
    list_select_related = ["order"]
    list_filter = [
        "needs_review",
        "duplicate",
        choices_filter("method", "metodo", PaymentMethod.choices),
        choices_filter("status", "stato", PaymentStatus.CHOICES),
    ]
    created_ = shown("created", "creato il", ordering="id")
    order_ = shown("order__number", "ordine")
    method_ = shown("get_method_display", "metodo")
    status_ = shown("get_status_display", "stato")
    amount = shown("total", "importo", fmt=format_eur)
    captured = shown("captured_amount", "importo incassato", fmt=format_eur)
    reference = shown("transaction_id", "riferimento del gateway")
    registered = shown("registered_by", "registrato da")
    applied = shown("applied_at", "applicato il")
    ordering = ["-id"]
    search_fields = ["=bank_reference"]
    search_help_text = "Riferimento bancario o numero d'ordine."
    fields = [
        "order_",
        "method_",
        "status_",
        "amount",
        "captured",
        "reference",
        "bank_reference",
        "received_on",
        "registered",
        "applied",
        "needs_review",
        "review_note",
        "attempt",
        "idempotency_key",
        "gateway_reference",
        "duplicate",
        "refund_reference",
        "refunded_at",
        "created_",
    ]
    readonly_fields = fields

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if ORDER_NUMBER.match(term):
            return queryset.filter(order__number=term), False
        return (queryset.filter(bank_reference=term) if term else queryset), False

    def has_add_permission(self, request):
        return False  # bank transfers are registered from the order's page

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- invoices and credit notes -------------------------------------------------------------


class InvoiceLineInline(LineColumns, ReadOnlyInline):
    model = InvoiceLine
    fields = LINE_FIELDS
    readonly_fields = fields
    verbose_name = "riga"
    verbose_name_plural = "righe"


INVOICE_NUMBER = re.compile(r"^(\d{4})\s*/\s*(\d+)$")


RESEND_INTRO = (
    "Per un documento scartato dallo SdI: prima correggi i dati (di solito quelli fiscali "
    "dell'intestatario della fattura, dalla pagina del titolare), poi reinvia. Il documento "
    "parte con un nuovo nome file e mantiene numero e data, se sono passati al massimo 5 "
    "giorni dalla notifica di scarto."
)


@admin.register(Invoice)
class InvoiceAdmin(MoneyColumns, OperationsAdmin, LargeTableAdmin):
    """Issued documents: read-only, never deleted; a correction is a credit note."""

    list_display = [
        "display_number",
        "kind_",
        "issued",
        "buyer_name",
        "order_",
        "net_eur",
        "vat_eur",
        "total_eur",
        "sdi_state",
        "downloads",
    ]
    list_select_related = ["order"]
    list_filter = [choices_filter("kind", "tipo", InvoiceKind.choices), "year"]
    kind_ = shown("get_kind_display", "tipo")
    issued = shown("issued_on", "data", ordering="issued_on")
    order_ = shown("order__number", "ordine")
    credited = shown("credited_invoice__display_number", "storna la fattura")
    created = shown("created_at", "registrata il")
    ordering = ["-year", "-number"]
    search_fields = ["=number"]
    search_help_text = "Numero (es. 2026/15 o 15), numero d'ordine o e-mail dell'account."
    change_form_template = "admin/pecshop/change_form.html"
    change_list_template = "admin/billing/invoice/change_list.html"
    operations = (
        Operation(
            slug="reinvia-sdi",
            title="Reinvia allo SdI dopo la correzione",
            permission="resend_sdi",
            many=False,
            intro=RESEND_INTRO,
            submit="Reinvia allo SdI",
        ),
    )
    operation_errors = (ValidationError, SdiError)
    fields = [
        "display_number",
        "kind_",
        "issued_on",
        "order_link",
        "credited",
        "credit_notes_list",
        "buyer_lines",
        "net_eur",
        "vat_rate",
        "vat_eur",
        "total_eur",
        "created",
    ]
    readonly_fields = fields
    inlines = [InvoiceLineInline, SdiTransmissionInline]

    def get_queryset(self, request):
        current = SdiTransmission.objects.filter(invoice=OuterRef("pk"), is_current=True)
        return (
            super()
            .get_queryset(request)
            .annotate(sdi_state_value=Subquery(current.values("state")[:1]))
        )

    @admin.display(description="SdI")
    def sdi_state(self, obj) -> str:
        value = getattr(obj, "sdi_state_value", None)
        return SdiState(value).label if value else "—"

    def has_resend_sdi_permission(self, request) -> bool:
        return request.user.has_perm("billing.resend_sdi")

    def operation_applies(self, op, obj) -> bool:
        transmission = current_transmission(obj)
        return transmission is not None and transmission.state == SdiState.DISCARDED

    def perform_reinvia_sdi(self, request, obj, data):
        sdi_resend(
            invoice=obj, actor=request.user, reason=data["reason"], today=timezone.localdate()
        )
        return (
            f"{obj}: in coda per lo SdI con lo stesso numero e la stessa data, con i dati "
            "corretti; il nuovo nome file è assegnato all'invio.",
            messages.SUCCESS,
        )

    def changelist_view(self, request, extra_context=None):
        extra_context = dict(extra_context or {})
        if request.user.has_perm("billing.export_preservation"):
            extra_context["preservation_url"] = reverse("admin:billing_invoice_preservation")
        return super().changelist_view(request, extra_context)

    @admin.display(description="numero", ordering="number")
    def display_number(self, obj) -> str:
        return obj.display_number

    @admin.display(description="ordine")
    def order_link(self, obj):
        url = reverse("admin:billing_order_change", args=[obj.order_id])
        return format_html('<a href="{}">{}</a>', url, obj.order.number)

    @admin.display(description="intestatario")
    def buyer_name(self, obj) -> str:
        return obj.buyer.get("name", "")

    @admin.display(description="intestatario")
    def buyer_lines(self, obj):
        buyer = obj.buyer
        lines = [
            buyer.get("name", ""),
            f"P.IVA {buyer['vat_number']}" if buyer.get("vat_number") else "",
            f"C.F. {buyer.get('fiscal_code', '')}",
            f"{buyer.get('street', '')}, {buyer.get('postal_code', '')} {buyer.get('city', '')} "
            f"({buyer.get('province', '')})",
            buyer.get("email", ""),
        ]
        return format_html_join("", "{}<br>", ((line,) for line in lines if line))

    @admin.display(description="note di credito")
    def credit_notes_list(self, obj):
        notes = list(obj.credit_notes.all())
        if not notes:
            return "—"
        return format_html_join(
            ", ",
            '<a href="{}">{}</a> ({})',
            (
                (
                    reverse("admin:billing_invoice_change", args=[n.pk]),
                    n.display_number,
                    format_eur(n.total),
                )
                for n in notes
            ),
        )

    @admin.display(description="scarica")
    def downloads(self, obj):
        return download_links(obj)

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        match = INVOICE_NUMBER.match(term)
        if match:
            return queryset.filter(year=int(match[1]), number=int(match[2])), False
        if term.isdigit():
            return queryset.filter(number=int(term)), False
        if ORDER_NUMBER.match(term):
            return queryset.filter(order__number=term), False
        if "@" in term:
            return queryset.filter(customer__user__username=term.lower()), False
        return queryset.none() if term else queryset, False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = dict(extra_context or {})
        obj = self.get_object(request, object_id) if object_id.isdigit() else None
        if obj is not None:
            extra_context["object_operations"] = [
                ("Scarica PDF", reverse("admin:billing_invoice_pdf", args=[object_id])),
                ("Scarica XML FatturaPA", reverse("admin:billing_invoice_xml", args=[object_id])),
                *self.object_operations(request, obj),
            ]
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        return [
            path(
                "<int:pk>/pdf/",
                self.admin_site.admin_view(self.pdf_view),
                name="billing_invoice_pdf",
            ),
            path(
                "<int:pk>/xml/",
                self.admin_site.admin_view(self.xml_view),
                name="billing_invoice_xml",
            ),
            path(
                "conservazione/",
                self.admin_site.admin_view(partial(preservation_view, self)),
                name="billing_invoice_preservation",
            ),
            *super().get_urls(),
        ]

    def _document(self, request, pk: int):
        if not self.has_view_permission(request):
            raise PermissionDenied
        invoice = Invoice.objects.select_related("order", "credited_invoice").filter(pk=pk).first()
        if invoice is None:
            raise Http404("Documento non trovato.")
        return invoice, document_from_invoice(invoice)

    def pdf_view(self, request, pk: int):
        invoice, document = self._document(request, pk)
        response = HttpResponse(invoice_pdf(document), content_type="application/pdf")
        name = "nota-di-credito" if invoice.kind == InvoiceKind.CREDIT_NOTE else "fattura"
        response["Content-Disposition"] = (
            f'attachment; filename="{name}-{invoice.year}-{invoice.number}.pdf"'
        )
        return response

    def xml_view(self, request, pk: int):
        invoice, document = self._document(request, pk)
        transmission = current_transmission(invoice)
        if transmission is not None and transmission.xml:
            # The file as it was sent to the SDI, under its own name.
            response = HttpResponse(transmission.xml.encode(), content_type="application/xml")
            name = transmission.file_name
        else:
            response = HttpResponse(invoice_fatturapa_xml(document), content_type="application/xml")
            seller = settings.SELLER["vat_number"]
            name = f"IT{seller}_{progressivo_invio(invoice.year, invoice.number)}.xml"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- the orders' history -------------------------------------------------------------------


@admin.register(OrderEvent)
class OrderEventAdmin(EventColumns, ReadOnlyAdmin):
    list_display = ["when", "order_", *EVENT_FIELDS[1:]]
    list_select_related = ["order", "actor"]
    order_ = shown("order__number", "ordine")
    payment_ = shown("payment", "pagamento")
    ordering = ["-id"]
    search_fields = ["=order__number"]
    search_help_text = (
        "Numero d'ordine (es. 2026-000123) o nome utente di chi ha eseguito l'operazione."
    )
    fields = ["when", "order_", "payment_", *EVENT_FIELDS[1:]]
    readonly_fields = fields

    def get_search_results(self, request, queryset, search_term):
        return event_search(queryset, search_term, mailbox_field=None), False
