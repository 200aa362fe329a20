"""Back office of the mailboxes: the list (fit for a million rows), each mailbox's page,
and the staff operations on it, each with a reason kept in the mailbox's history.

A mailbox is never edited as a form: its state changes only through the services
(`mailboxes.staff`, `mailboxes.services`), which lock the row, apply the rules and write the
event with the staff user.
"""

import re
from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AdminDateWidget
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from customers.admin import HolderAdminForm
from customers.models import Customer, Holder
from customers.services import holder_create
from mailboxes.models import (
    Mailbox,
    MailboxAddOn,
    MailboxEvent,
    MailboxStatus,
    ProvisioningCall,
    ProvisioningStatus,
)
from mailboxes.services import (
    MAX_EXTENSION_DAYS,
    TransitionError,
    mailbox_change_holder,
    mailbox_extend,
    mailbox_reminder_resend,
    mailbox_set_usage,
    mailbox_staff_cancel,
)
from pecshop.admin_helpers import (
    LargeTableAdmin,
    Operation,
    OperationForm,
    OperationsAdmin,
    ReadOnlyAdmin,
    ReasonForm,
    choices_filter,
    shown,
)

FULL_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$")
TAX_ID = re.compile(r"^(?:[A-Z0-9]{16}|\d{11})$")
# Holders matched by a name search; a broader name must be narrowed down.
MAX_NAME_MATCHES = 1000


def address_prefix(term: str) -> Q:
    """Addresses starting with `term`, as a range on the address index (`LIKE 'x%'` alone
    cannot use a btree index unless the column's collation is C)."""
    return Q(address__gte=term, address__lt=term + "\U0010ffff", address__startswith=term)


def mailbox_search(queryset, search_term: str):
    """The mailbox search, through indexes only: an address (exact when complete, else its
    beginning), the account's e-mail (exact), a codice fiscale or partita IVA (exact), or
    the beginning of a holder's surname or company name."""
    term = search_term.strip().lower()
    if not term:
        return queryset
    if "@" in term:
        q = Q(address=term) if FULL_ADDRESS.match(term) else address_prefix(term)
        customer_ids = list(
            Customer.objects.filter(user__username=term).values_list("pk", flat=True)[:10]
        )
        if customer_ids:
            q |= Q(customer_id__in=customer_ids)
        return queryset.filter(q)
    code = term.upper().replace(" ", "")
    if TAX_ID.match(code):
        holder_ids = list(
            Holder.objects.filter(Q(fiscal_code=code) | Q(vat_number=code))
            .order_by()
            .values_list("pk", flat=True)[:MAX_NAME_MATCHES]
        )
        return queryset.filter(holder_id__in=holder_ids)
    words = term.split()
    names = Q(last_name__istartswith=term) | Q(company_name__istartswith=term)
    if len(words) >= 2:
        first, rest = words[0], " ".join(words[1:])
        names |= Q(first_name__iexact=first, last_name__istartswith=rest)
        names |= Q(last_name__iexact=first, first_name__istartswith=rest)
    holder_ids = list(
        Holder.objects.filter(names).order_by().values_list("pk", flat=True)[:MAX_NAME_MATCHES]
    )
    q = address_prefix(term)
    if holder_ids:
        q |= Q(holder_id__in=holder_ids)
    return queryset.filter(q)


class ExpiryFilter(admin.DateFieldListFilter):
    """Expiry ranges looking forward; any range works too with `expires_on__gte` and
    `expires_on__lt` in the address."""

    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        today = timezone.localdate()
        since, until = self.lookup_kwarg_since, self.lookup_kwarg_until

        def days(n: int) -> dict:
            return {since: today, until: today + timedelta(days=n)}

        self.links = (
            ("Qualsiasi data", {}),
            ("Già passata", {until: today}),
            ("Entro 7 giorni", days(7)),
            ("Entro 30 giorni", days(30)),
            ("Entro 90 giorni", days(90)),
            ("Senza data", {self.field_generic + "isnull": True}),
        )


class MailboxAddOnInline(admin.TabularInline):
    model = MailboxAddOn
    fields = ["addon", "quantity", "next_quantity", "status", "changed"]
    readonly_fields = fields
    changed = shown("updated_at", "ultima modifica")
    extra = 0
    can_delete = False
    ordering = ["addon__position", "id"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("addon")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- operation forms -----------------------------------------------------------------------


class ExtendForm(ReasonForm):
    days = forms.IntegerField(
        label="Giorni di proroga",
        min_value=1,
        max_value=MAX_EXTENSION_DAYS,
        required=False,
        help_text="Oppure indica la nuova scadenza qui sotto.",
    )
    new_expiry = forms.DateField(label="Nuova scadenza", required=False, widget=AdminDateWidget)
    field_order = ["days", "new_expiry", "reason"]

    def clean(self):
        data = super().clean()
        if (data.get("days") is None) == (data.get("new_expiry") is None):
            raise ValidationError("Indica i giorni di proroga oppure la nuova scadenza (uno solo).")
        return data


class NewHolderForm(HolderAdminForm):
    class Meta(HolderAdminForm.Meta):
        fields = [f for f in HolderAdminForm.Meta.fields if f != "customer"]


class HolderChangeForm(ReasonForm):
    holder = forms.ModelChoiceField(
        label="Nuovo titolare",
        queryset=Holder.objects.none(),
        required=False,
        empty_label="— un nuovo titolare: compila i dati qui sotto —",
        help_text="Un titolare già registrato nell'account della casella.",
    )
    field_order = ["holder", "reason"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        mailbox = self.objects[0]
        self.fields["holder"].queryset = Holder.objects.filter(customer_id=mailbox.customer_id)
        self.new_holder = NewHolderForm(
            self.data or None, prefix="nuovo", instance=Holder(customer_id=mailbox.customer_id)
        )
        self.subforms = [("Nuovo titolare (solo se non è già nell'account)", self.new_holder)]

    def clean(self):
        data = super().clean()
        if data.get("holder") is None:
            if not self.new_holder.is_valid():
                raise ValidationError(
                    "Scegli un titolare dell'account oppure compila i dati del nuovo titolare."
                )
            data["new_holder"] = self.new_holder.cleaned_data
        return data


# The largest value the usage columns hold (PostgreSQL integer): a larger one is a form
# error, not a database error.
MAX_USAGE_MB = 2_147_483_647


class UsageForm(OperationForm):
    mailbox_mb = forms.IntegerField(
        label="Spazio casella usato (MB)", min_value=0, max_value=MAX_USAGE_MB
    )
    archive_mb = forms.IntegerField(
        label="Archivio di sicurezza usato (MB)", min_value=0, max_value=MAX_USAGE_MB
    )
    conservation_mb = forms.IntegerField(
        label="Conservazione usata (MB)", min_value=0, max_value=MAX_USAGE_MB
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        mailbox = self.objects[0]
        self.fields["mailbox_mb"].initial = mailbox.usage_mailbox_mb
        self.fields["archive_mb"].initial = mailbox.usage_archive_mb
        self.fields["conservation_mb"].initial = mailbox.usage_conservation_mb


LIVE = {MailboxStatus.PENDING, MailboxStatus.ACTIVE, MailboxStatus.EXPIRED}
IN_SERVICE = {MailboxStatus.ACTIVE, MailboxStatus.EXPIRED}


@admin.register(Mailbox)
class MailboxAdmin(OperationsAdmin, LargeTableAdmin):
    list_display = [
        "address",
        "status",
        "tier",
        "holder_name",
        "customer_email",
        "expiry",
        "auto_renew",
    ]
    list_select_related = ["tier", "holder", "customer__user"]
    list_filter = ["status", "tier", ("expires_on", ExpiryFilter)]
    list_per_page = 50
    search_fields = ["address"]  # shows the search box; the search is `mailbox_search`
    search_help_text = (
        "Indirizzo (intero o l'inizio), e-mail dell'account, codice fiscale o partita IVA "
        "del titolare, inizio del cognome o della ragione sociale."
    )
    inlines = [MailboxAddOnInline]
    fieldsets = [
        (None, {"fields": ["address", "status", "tier", "holder_link", "customer_link"]}),
        (
            "Periodo",
            {
                "fields": [
                    "term_years",
                    "activated_on",
                    "expires_on",
                    "expired_on",
                    "cancelled_on",
                    "next_tier",
                    "term_changes_on",
                    "auto_renew",
                    "cancel_at_expiry",
                ]
            },
        ),
        (
            "Utilizzo",
            {
                "fields": [
                    "usage_mailbox_mb",
                    "usage_archive_mb",
                    "usage_conservation_mb",
                    "usage_updated_at",
                ]
            },
        ),
        ("Storico", {"fields": ["history_links", "created", "updated"]}),
    ]
    readonly_fields = [
        "address",
        "status",
        "tier",
        "holder_link",
        "customer_link",
        "term_years",
        "activated_on",
        "expires_on",
        "expired_on",
        "cancelled_on",
        "next_tier",
        "term_changes_on",
        "auto_renew",
        "cancel_at_expiry",
        "usage_mailbox_mb",
        "usage_archive_mb",
        "usage_conservation_mb",
        "usage_updated_at",
        "history_links",
        "created",
        "updated",
    ]
    actions = ["cancel_selected", "extend_selected", "change_holder", "resend_reminder"]
    operations = (
        Operation(
            slug="annulla",
            title="Annulla la casella",
            permission="cancel",
            intro=(
                "La casella viene cancellata subito, in modo definitivo, con tutti i suoi "
                "servizi aggiuntivi; la piattaforma di posta riceve la richiesta di "
                "eliminarla. Non si emette alcun rimborso: per quello si rimborsa l'ordine. "
                "Una casella in attesa di pagamento si libera annullando il suo ordine."
            ),
            submit="Annulla definitivamente",
        ),
        Operation(
            slug="proroga",
            title="Proroga la scadenza",
            permission="extend",
            form_class=ExtendForm,
            intro=(
                "Sposta in avanti la scadenza di una casella attiva, senza addebito "
                "(i servizi aggiuntivi la seguono)."
            ),
            submit="Proroga",
        ),
        Operation(
            slug="titolare",
            title="Cambia titolare",
            permission="change_holder",
            form_class=HolderChangeForm,
            many=False,
            intro=(
                "Il nuovo titolare deve appartenere allo stesso account della casella; "
                "se non c'è ancora, compila i suoi dati e viene creato."
            ),
            submit="Cambia titolare",
        ),
        Operation(
            slug="promemoria",
            title="Reinvia il promemoria di scadenza",
            permission="resend_reminder",
            intro="Invia di nuovo all'e-mail dell'account il promemoria della scadenza attuale.",
            submit="Invia",
        ),
        Operation(
            slug="utilizzo",
            title="Aggiorna l'utilizzo",
            permission="change_usage",
            form_class=UsageForm,
            many=False,
            intro="I valori letti sulla piattaforma di posta; restano nello storico.",
            submit="Salva",
        ),
    )
    operation_errors = (ValidationError, TransitionError)

    # --- list ------------------------------------------------------------------------------

    expiry = shown("expires_on", "scadenza", ordering="expires_on")
    created = shown("created_at", "creata il")
    updated = shown("updated_at", "ultima modifica")

    @admin.display(description="titolare", ordering="holder__last_name")
    def holder_name(self, obj) -> str:
        return obj.holder.display_name

    @admin.display(description="account")
    def customer_email(self, obj) -> str:
        return obj.customer.user.email

    def get_search_results(self, request, queryset, search_term):
        return mailbox_search(queryset, search_term), False

    # --- page ------------------------------------------------------------------------------

    @admin.display(description="titolare")
    def holder_link(self, obj):
        url = reverse("admin:customers_holder_change", args=[obj.holder_id])
        return format_html('<a href="{}">{}</a> ({})', url, obj.holder, obj.holder.tax_id)

    @admin.display(description="account")
    def customer_link(self, obj):
        url = reverse("admin:customers_customer_change", args=[obj.customer_id])
        return format_html('<a href="{}">{}</a>', url, obj.customer)

    @admin.display(description="storico")
    def history_links(self, obj):
        events = reverse("admin:mailboxes_mailboxevent_changelist")
        calls = reverse("admin:mailboxes_provisioningcall_changelist")
        return format_html(
            '<a href="{}?mailbox__id__exact={}">Eventi della casella</a> · '
            '<a href="{}?mailbox__id__exact={}">Chiamate alla piattaforma</a>',
            events,
            obj.pk,
            calls,
            obj.pk,
        )

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("tier", "holder", "customer__user")

    def has_add_permission(self, request):
        return False  # mailboxes are bought, not created by hand

    def has_change_permission(self, request, obj=None):
        return False  # the page is read-only: changes go through the operations

    def has_delete_permission(self, request, obj=None):
        return False

    # --- permissions of the operations -----------------------------------------------------

    def has_cancel_permission(self, request) -> bool:
        return request.user.has_perm("mailboxes.cancel_mailbox")

    def has_extend_permission(self, request) -> bool:
        return request.user.has_perm("mailboxes.extend_mailbox")

    def has_change_holder_permission(self, request) -> bool:
        return request.user.has_perm("mailboxes.change_holder")

    def has_resend_reminder_permission(self, request) -> bool:
        return request.user.has_perm("mailboxes.resend_reminder")

    def has_change_usage_permission(self, request) -> bool:
        return request.user.has_perm("mailboxes.change_mailbox")

    def operation_applies(self, op, obj) -> bool:
        return {
            "annulla": obj.status in IN_SERVICE,
            "proroga": obj.status == MailboxStatus.ACTIVE,
            "titolare": obj.status in LIVE,
            "promemoria": obj.status in IN_SERVICE,
            "utilizzo": obj.status in IN_SERVICE,
        }[op.slug]

    # --- changelist actions: on to the operation's page ------------------------------------

    @admin.action(description="Annulla le caselle selezionate", permissions=["cancel"])
    def cancel_selected(self, request, queryset):
        return self.redirect_to_operation(request, queryset, "annulla")

    @admin.action(description="Proroga la scadenza", permissions=["extend"])
    def extend_selected(self, request, queryset):
        return self.redirect_to_operation(request, queryset, "proroga")

    @admin.action(description="Cambia titolare", permissions=["change_holder"])
    def change_holder(self, request, queryset):
        return self.redirect_to_operation(request, queryset, "titolare")

    @admin.action(description="Reinvia il promemoria di scadenza", permissions=["resend_reminder"])
    def resend_reminder(self, request, queryset):
        return self.redirect_to_operation(request, queryset, "promemoria")

    # --- operations ------------------------------------------------------------------------

    def perform_annulla(self, request, obj, data):
        mailbox_staff_cancel(
            mailbox=obj, today=timezone.localdate(), actor=request.user, reason=data["reason"]
        )
        return f"{obj}: casella cancellata con i suoi servizi aggiuntivi.", messages.SUCCESS

    def perform_proroga(self, request, obj, data):
        mailbox = mailbox_extend(
            mailbox=obj,
            days=data["days"],
            new_expiry=data["new_expiry"],
            actor=request.user,
            reason=data["reason"],
        )
        return f"{obj}: nuova scadenza {mailbox.expires_on:%d/%m/%Y}.", messages.SUCCESS

    def perform_titolare(self, request, obj, data):
        holder = data["holder"]
        with transaction.atomic():
            if holder is None:
                holder = holder_create(customer=obj.customer, **data["new_holder"])
            mailbox_change_holder(
                mailbox=obj, holder=holder, actor=request.user, reason=data["reason"]
            )
        return f"{obj}: nuovo titolare {holder} ({holder.tax_id}).", messages.SUCCESS

    def perform_promemoria(self, request, obj, data):
        to = mailbox_reminder_resend(
            mailbox=obj, today=timezone.localdate(), actor=request.user, reason=data["reason"]
        )
        return f"{obj}: promemoria inviato a {to}.", messages.SUCCESS

    def perform_utilizzo(self, request, obj, data):
        mailbox_set_usage(
            mailbox=obj,
            mailbox_mb=data["mailbox_mb"],
            archive_mb=data["archive_mb"],
            conservation_mb=data["conservation_mb"],
            at=timezone.now(),
            actor=request.user,
        )
        return f"{obj}: utilizzo aggiornato.", messages.SUCCESS


# --- history and platform calls ------------------------------------------------------------


@admin.register(MailboxEvent)
class MailboxEventAdmin(ReadOnlyAdmin):
    """The mailboxes' history: append-only, searchable by mailbox, order and staff user."""

    list_display = [
        "when",
        "mailbox_address",
        "kind",
        "from_status",
        "to_status",
        "actor",
        "reason",
        "details",
    ]
    list_select_related = ["mailbox", "actor"]
    when = shown("created_at", "quando", ordering="id")
    mailbox_address = shown("mailbox__address", "casella")
    list_filter = ["kind"]
    ordering = ["-id"]  # newest first, on the primary key's index
    search_fields = ["reason"]
    search_help_text = (
        "Indirizzo della casella, numero d'ordine (es. 2026-000123) o nome utente di chi ha "
        "eseguito l'operazione."
    )
    fields = [
        "created_at",
        "mailbox_address",
        "mailbox_addon",
        "kind",
        "from_status",
        "to_status",
        "actor",
        "reason",
        "data",
    ]

    @admin.display(description="dettagli")
    def details(self, obj) -> str:
        return ", ".join(f"{key}: {value}" for key, value in obj.data.items())

    def get_search_results(self, request, queryset, search_term):
        return event_search(queryset, search_term, mailbox_field="mailbox"), False


ORDER_NUMBER = re.compile(r"^\d{4}-\d{6}$")


def event_search(queryset, search_term: str, *, mailbox_field: str | None):
    """Events of a mailbox (its address), of an order (its number) or by a staff user."""
    from django.contrib.auth import get_user_model

    term = search_term.strip()
    if not term:
        return queryset
    if ORDER_NUMBER.match(term):
        if mailbox_field is None:
            return queryset.filter(order__number=term)
        return queryset.filter(reason__contains=f"ordine {term}")
    if "@" in term and mailbox_field is not None:
        ids = list(Mailbox.objects.filter(address=term.lower()).values_list("pk", flat=True)[:50])
        if ids:
            return queryset.filter(**{f"{mailbox_field}_id__in": ids})
    users = list(get_user_model().objects.filter(username=term).values_list("pk", flat=True)[:10])
    return queryset.filter(actor_id__in=users)


@admin.register(ProvisioningCall)
class ProvisioningCallAdmin(ReadOnlyAdmin):
    list_display = ["created", "address", "action_", "status_", "attempts_", "last_error_", "done"]
    list_select_related = ["mailbox"]
    list_filter = [
        choices_filter("status", "stato", ProvisioningStatus.choices),
        choices_filter("action", "operazione", ProvisioningCall.Action.choices),
    ]
    fields = [*list_display, "payload"]
    ordering = ["-id"]
    created = shown("created_at", "creata il", ordering="id")
    address = shown("mailbox__address", "casella")
    action_ = shown("get_action_display", "operazione")
    status_ = shown("get_status_display", "stato")
    attempts_ = shown("attempts", "tentativi")
    last_error_ = shown("last_error", "ultimo errore")
    done = shown("done_at", "eseguita il")
    search_fields = ["=mailbox__address"]
