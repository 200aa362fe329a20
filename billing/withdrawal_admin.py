"""Withdrawals (recessi) in the back office: the list with its filters, and the refunds
staff must carry out (a bank transfer to the customer's IBAN; a gateway refund that failed)."""

from django import forms
from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from billing.money import format_eur
from billing.services.withdrawals import (
    WithdrawalRefused,
    withdrawal_bank_refund_done,
    withdrawal_refund_run,
)
from billing.withdrawal_models import RefundMethod, RefundStatus, Withdrawal
from pecshop.admin_helpers import LargeTableAdmin, Operation, OperationsAdmin, ReasonForm


class BankRefundForm(ReasonForm):
    reference = forms.CharField(
        label="Riferimento del bonifico (CRO/TRN)",
        max_length=100,
        error_messages={"required": "Indica il riferimento del bonifico di rimborso."},
    )
    field_order = ["reference", "reason"]


@admin.register(Withdrawal)
class WithdrawalAdmin(OperationsAdmin, LargeTableAdmin):
    list_display = [
        "order_link",
        "customer_email",
        "withdrawn_at",
        "total_eur",
        "refund_method",
        "refund_status",
        "iban",
    ]
    list_filter = ["refund_status", "refund_method", "withdrawn_on"]
    search_fields = ["order__number", "customer__user__email", "iban"]
    list_select_related = ["order", "customer__user"]
    readonly_fields = [
        "order_link",
        "customer",
        "withdrawn_at",
        "paid_net",
        "used",
        "net",
        "vat",
        "total",
        "lines",
        "undone",
        "space_to_free",
        "credit_note",
        "refund_method",
        "refund_status",
        "iban",
        "refund_reference",
        "refund_error",
        "refunded_at",
        "refunded_by",
    ]
    exclude = ["order", "withdrawn_on"]
    actions = ["bank_refund_paid", "retry_gateway_refund"]
    operations = (
        Operation(
            slug="bonifico-rimborso",
            title="Registra il bonifico di rimborso",
            permission="refund",
            form_class=BankRefundForm,
            intro=(
                "Il cliente ha pagato con bonifico: il rimborso del recesso si paga con un "
                "bonifico all'IBAN che ha indicato. Registralo qui dopo averlo eseguito."
            ),
            submit="Registra il rimborso",
        ),
        Operation(
            slug="riprova-rimborso",
            title="Riprova il rimborso sul gateway",
            permission="refund",
            intro="Ripete il rimborso sul metodo di pagamento usato; non rimborsa mai due volte.",
            submit="Riprova",
        ),
    )
    operation_errors = (WithdrawalRefused,)

    @admin.display(description="ordine", ordering="order__number")
    def order_link(self, obj):
        url = reverse("admin:billing_order_change", args=[obj.order_id])
        return format_html('<a href="{}">{}</a>', url, obj.order.number)

    @admin.display(description="account", ordering="customer__user__email")
    def customer_email(self, obj) -> str:
        return obj.customer.user.email

    @admin.display(description="rimborso", ordering="total")
    def total_eur(self, obj) -> str:
        return format_eur(obj.total)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_refund_permission(self, request) -> bool:
        return request.user.has_perm("billing.refund_order")

    def operation_applies(self, op, obj) -> bool:
        if obj.refund_status != RefundStatus.PENDING:
            return False
        if op.slug == "bonifico-rimborso":
            return obj.refund_method == RefundMethod.BANK_TRANSFER
        return obj.refund_method == RefundMethod.GATEWAY

    @admin.action(description="Registra il bonifico di rimborso", permissions=["refund"])
    def bank_refund_paid(self, request, queryset):
        return self.redirect_to_operation(request, queryset, "bonifico-rimborso")

    @admin.action(description="Riprova il rimborso sul gateway", permissions=["refund"])
    def retry_gateway_refund(self, request, queryset):
        return self.redirect_to_operation(request, queryset, "riprova-rimborso")

    def perform_bonifico_rimborso(self, request, obj, data):
        withdrawal_bank_refund_done(withdrawal=obj, actor=request.user, reference=data["reference"])
        return (
            f"Recesso dall'ordine {obj.order.number}: rimborso di {format_eur(obj.total)} "
            f"registrato ({data['reference']}).",
            messages.SUCCESS,
        )

    def perform_riprova_rimborso(self, request, obj, data):
        outcome = withdrawal_refund_run(withdrawal_id=obj.pk)
        obj.refresh_from_db()
        if outcome in ("done", "already"):
            return f"Recesso dall'ordine {obj.order.number}: rimborso eseguito.", messages.SUCCESS
        return (
            f"Recesso dall'ordine {obj.order.number}: il rimborso non è riuscito "
            f"({obj.refund_error or outcome}).",
            messages.ERROR,
        )
