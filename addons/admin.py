"""Back office of the catalogue: tiers, add-ons, their per-tier rules and dated prices.

A price is never edited in place: "Cambia prezzo da una data" records a `PriceChange`
(from today or a later day), and the history is shown on the item's page. Orders already
placed keep the prices of their lines.
"""

from datetime import date
from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AdminDateWidget
from django.core.exceptions import ValidationError
from django.utils import timezone

from addons.models import AddOn, PriceChange, Tier, TierAddOn
from addons.money import format_eur
from addons.services import DatedPrice, price_change_schedule, price_in_effect
from pecshop.admin_helpers import ItalianTitlesAdmin, Operation, OperationsAdmin, ReasonForm


class PriceChangeForm(ReasonForm):
    price = forms.DecimalField(
        label="Nuovo prezzo annuo (IVA esclusa)",
        min_value=Decimal("0"),
        max_digits=12,
        decimal_places=2,
        localize=True,
    )
    effective_from = forms.DateField(
        label="In vigore dal", widget=AdminDateWidget, help_text="Oggi o un giorno futuro."
    )
    field_order = ["price", "effective_from", "reason"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["effective_from"].initial = timezone.localdate()
        self.fields["reason"].required = False
        self.fields["reason"].help_text = "Facoltativo, es. «listino 2027». " + (
            self.fields["reason"].help_text
        )

    def clean_reason(self) -> str:
        return self.cleaned_data["reason"].strip()

    def clean_effective_from(self) -> date:
        value = self.cleaned_data["effective_from"]
        if value < timezone.localdate():
            raise ValidationError("La data di decorrenza non può essere nel passato.")
        return value


PRICE_OPERATION = Operation(
    slug="prezzo",
    title="Cambia prezzo da una data",
    permission="change_price",
    form_class=PriceChangeForm,
    many=False,
    submit="Registra la variazione",
    intro=(
        "Il nuovo prezzo vale per gli ordini fatti da quel giorno in poi; gli ordini già "
        "fatti restano al prezzo a cui sono stati venduti. La variazione resta nello storico."
    ),
)


class PriceHistoryInline(admin.TabularInline):
    model = PriceChange
    fields = ["effective_from", "price_per_year", "previous_price", "reason", "created_by"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["-effective_from", "-id"]
    verbose_name_plural = "storico dei prezzi"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class TierPriceHistoryInline(PriceHistoryInline):
    fk_name = "tier"


class AddOnPriceHistoryInline(PriceHistoryInline):
    fk_name = "addon"


class TierAddOnInline(admin.TabularInline):
    model = TierAddOn
    fields = ["addon", "sold", "max_quantity", "included_quantity"]
    extra = 0
    ordering = ["addon__position"]


class DatedPriceAdmin(OperationsAdmin):
    """What tiers and add-ons share: today's price, the next change, the price operation."""

    operations = (PRICE_OPERATION,)

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("price_changes")

    def get_readonly_fields(self, request, obj=None):
        # The price changes only through a dated change, so that the history is complete.
        return ("price_per_year",) if obj is not None else ()

    def has_change_price_permission(self, request) -> bool:
        return request.user.has_perm("addons.add_pricechange")

    def has_delete_permission(self, request, obj=None):
        return False  # sold items are referenced by mailboxes and orders: take them off sale

    def _history(self, obj) -> list[DatedPrice]:
        changes = sorted(obj.price_changes.all(), key=lambda c: (c.effective_from, c.pk))
        return [DatedPrice(c.effective_from, c.price_per_year, c.previous_price) for c in changes]

    @admin.display(description="prezzo in vigore oggi")
    def price_today(self, obj) -> str:
        return format_eur(
            price_in_effect(self._history(obj), obj.price_per_year, timezone.localdate())
        )

    @admin.display(description="prossima variazione")
    def next_change(self, obj) -> str:
        today = timezone.localdate()
        future = [row for row in self._history(obj) if row.effective_from > today]
        if not future:
            return "—"
        row = future[0]
        return f"{format_eur(row.price)} dal {row.effective_from:%d/%m/%Y}"

    @admin.action(description="Cambia prezzo da una data", permissions=["change_price"])
    def change_price(self, request, queryset):
        return self.redirect_to_operation(request, queryset, "prezzo")

    actions = ["change_price"]

    def perform_prezzo(self, request, obj, data):
        kind = {"tier": obj} if isinstance(obj, Tier) else {"addon": obj}
        change = price_change_schedule(
            **kind,
            price=data["price"],
            effective_from=data["effective_from"],
            today=timezone.localdate(),
            actor=request.user,
            reason=data["reason"],
        )
        return (
            f"{obj}: {format_eur(change.price_per_year)} dal "
            f"{change.effective_from:%d/%m/%Y} (prima {format_eur(change.previous_price)}).",
            messages.SUCCESS,
        )


@admin.register(Tier)
class TierAdmin(DatedPriceAdmin):
    list_display = ["name", "code", "rank", "is_active", "price_today", "next_change"]
    list_filter = ["is_active"]
    search_fields = ["code", "name"]
    fields = ["code", "name", "rank", "is_active", "price_per_year"]
    inlines = [TierAddOnInline, TierPriceHistoryInline]


@admin.register(AddOn)
class AddOnAdmin(DatedPriceAdmin):
    list_display = ["name", "code", "unit", "quota", "position", "price_today", "next_change"]
    search_fields = ["code", "name"]
    fields = ["code", "name", "description", "unit", "quota", "position", "price_per_year"]
    inlines = [AddOnPriceHistoryInline]


@admin.register(PriceChange)
class PriceChangeAdmin(ItalianTitlesAdmin):
    """The whole price history, read-only: rows are added by "Cambia prezzo da una data"."""

    list_display = [
        "effective_from",
        "item_name",
        "price_per_year",
        "previous_price",
        "created_by",
        "created_at",
        "reason",
    ]
    list_filter = ["tier", "addon"]
    list_select_related = ["tier", "addon", "created_by"]
    date_hierarchy = "effective_from"

    @admin.display(description="tipologia o servizio")
    def item_name(self, obj) -> str:
        return str(obj.item)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
