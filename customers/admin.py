"""Back office of accounts and holders (titolari)."""

from django import forms
from django.contrib import admin, messages

from customers import fiscal
from customers.models import HOLDER_FIELDS, Customer, Holder, SecurityEvent
from customers.security import has_two_factor, two_factor_reset_by_staff
from pecshop.admin_helpers import (
    LargeTableAdmin,
    Operation,
    OperationsAdmin,
    ReadOnlyAdmin,
    shown,
)


class HolderAdminForm(forms.ModelForm):
    """Codes are stored as the services store them: upper case, no spaces."""

    class Meta:
        model = Holder
        fields = ["customer", *HOLDER_FIELDS]

    def clean(self):
        self.cleaned_data = fiscal.normalize_codes(super().clean())
        return self.cleaned_data


@admin.register(Holder)
class HolderAdmin(LargeTableAdmin):
    form = HolderAdminForm
    list_display = ["display_name", "kind", "tax_id_display", "customer", "city", "email"]
    list_filter = ["kind"]
    list_select_related = ["customer__user"]
    search_fields = [
        "=fiscal_code",
        "=vat_number",
        "last_name",
        "company_name",
        "first_name",
        "=customer__user__username",
    ]
    search_help_text = (
        "Cognome, ragione sociale, codice fiscale, partita IVA o e-mail dell'account."
    )
    raw_id_fields = ["customer"]
    readonly_fields = ["created"]
    created = shown("created_at", "registrato il")
    fieldsets = [
        (None, {"fields": ["customer", "kind"]}),
        ("Persona", {"fields": ["first_name", "last_name"]}),
        ("Azienda", {"fields": ["company_name", "vat_number", "legal_representative"]}),
        (
            "Dati fiscali e recapiti",
            {
                "fields": [
                    "fiscal_code",
                    "street",
                    "postal_code",
                    "city",
                    "province",
                    "email",
                    "sdi_code",
                    "invoice_pec",
                    "created",
                ]
            },
        ),
    ]

    @admin.display(description="codice fiscale / partita IVA")
    def tax_id_display(self, obj) -> str:
        return obj.tax_id

    def get_readonly_fields(self, request, obj=None):
        # A holder stays in its account; the issued invoices keep their own copy of the data.
        if obj is not None:
            return [*self.readonly_fields, "customer", "kind"]
        return self.readonly_fields

    def get_search_results(self, request, queryset, search_term):
        # Codes and e-mails are stored normalised: match them as they are stored.
        term = search_term.strip()
        if "@" in term:
            return queryset.filter(customer__user__username=term.lower()), False
        return super().get_search_results(request, queryset, term)

    def has_delete_permission(self, request, obj=None):
        return False  # mailboxes, orders and invoices refer to holders


class HolderInline(admin.TabularInline):
    model = Holder
    fields = ["display_name", "kind", "fiscal_code", "vat_number", "city", "email"]
    readonly_fields = fields
    extra = 0
    show_change_link = True
    can_delete = False

    @admin.display(description="titolare")
    def display_name(self, obj) -> str:
        return obj.display_name

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Customer)
class CustomerAdmin(OperationsAdmin, LargeTableAdmin):
    list_display = ["email", "own_holder", "phone", "created"]
    list_select_related = ["user", "own_holder"]
    search_fields = [
        "=user__username",
        "own_holder__last_name",
        "own_holder__company_name",
        "=own_holder__fiscal_code",
        "=own_holder__vat_number",
    ]
    search_help_text = "E-mail dell'account, cognome o ragione sociale, codice fiscale o P.IVA."
    fields = ["username", "own_holder", "phone", "created", "two_factor"]
    readonly_fields = ["username", "own_holder", "created", "two_factor"]
    actions = ["two_factor_reset_action"]
    operations = (
        Operation(
            slug="azzera-2fa",
            title="Azzera la verifica in due passaggi",
            permission="change",
            many=False,
            submit="Azzera la verifica",
            intro="Per chi ha perso il telefono e i codici di recupero: dopo aver verificato "
            "l'identità del cliente (per esempio con una richiesta dalla PEC del titolare), "
            "togli i dispositivi del suo account. Potrà accedere con la password e attivare "
            "di nuovo la verifica. L'operazione resta registrata con il tuo nome e il motivo.",
        ),
    )
    username = shown("user__username", "utente (e-mail di accesso)")
    created = shown("created_at", "registrato il", ordering="created_at")
    inlines = [HolderInline]
    ordering = ["-created_at", "-id"]

    @admin.display(description="e-mail", ordering="user__email")
    def email(self, obj) -> str:
        return obj.user.email

    @admin.display(description="verifica in due passaggi", boolean=True)
    def two_factor(self, obj) -> bool:
        return has_two_factor(obj.user)

    @admin.action(description="Azzera la verifica in due passaggi", permissions=["change"])
    def two_factor_reset_action(self, request, queryset):
        return self.redirect_to_operation(request, queryset, "azzera-2fa")

    def operation_applies(self, op, obj) -> bool:
        return has_two_factor(obj.user)

    def perform_azzera_2fa(self, request, obj, data):
        two_factor_reset_by_staff(user=obj.user, actor=request.user, reason=data["reason"])
        return f"{obj}: verifica in due passaggi azzerata.", messages.SUCCESS

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if "@" in term:
            return queryset.filter(user__username=term.lower()), False
        return super().get_search_results(request, queryset, term)

    def has_add_permission(self, request):
        return False  # accounts are created by the customers at checkout

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SecurityEvent)
class SecurityEventAdmin(ReadOnlyAdmin):
    """Read-only: the audit of second factors switched on, off or reset, recovery codes."""

    list_display = ["created_at", "user", "kind", "actor", "reason"]
    list_filter = ["kind"]
    list_select_related = ["user", "actor"]
    search_fields = ["=user__username", "actor__username"]
    search_help_text = "E-mail dell'account o nome utente dello staff."
    ordering = ["-created_at", "-id"]
