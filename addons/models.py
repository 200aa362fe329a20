"""The catalogue: mailbox tiers, paid add-ons and the rule of each add-on on each tier."""

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q

from pecshop.append_only import AppendOnlyModel

MONEY = {"max_digits": 12, "decimal_places": 2, "validators": [MinValueValidator(0)]}


class Tier(models.Model):
    """A mailbox plan (tipologia): Standard, Pro, Premium."""

    code = models.SlugField("codice", max_length=20, unique=True)
    name = models.CharField("nome", max_length=50)
    price_per_year = models.DecimalField("prezzo annuo (IVA esclusa)", **MONEY)
    rank = models.PositiveSmallIntegerField(
        "livello",
        unique=True,
        help_text="Ordine crescente: un upgrade va verso un livello più alto.",
    )
    is_active = models.BooleanField("in vendita", default=True)

    class Meta:
        ordering = ["rank"]
        verbose_name = "tipologia"
        verbose_name_plural = "tipologie"
        constraints = [
            models.CheckConstraint(
                condition=Q(price_per_year__gte=0), name="tier_price_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Unit(models.TextChoices):
    GB = "GB", "GB"
    USER = "USER", "utente"
    SERVICE = "SERVICE", "servizio"


class Quota(models.TextChoices):
    """Which usage figure of the mailbox an add-on enlarges, if any."""

    NONE = "", "nessuna"
    MAILBOX = "mailbox", "casella"
    ARCHIVE = "archive", "archivio di sicurezza"
    CONSERVATION = "conservation", "conservazione"


class AddOn(models.Model):
    """A paid extra (servizio aggiuntivo) that a mailbox can hold in whole units."""

    Unit = Unit
    Quota = Quota

    code = models.CharField(
        "codice",
        max_length=20,
        unique=True,
        validators=[
            RegexValidator(r"^[A-Z][A-Z0-9_]*$", "Solo maiuscole, cifre e trattino basso.")
        ],
    )
    name = models.CharField("nome", max_length=100)
    description = models.TextField("descrizione", blank=True)
    unit = models.CharField("unità", max_length=10, choices=Unit.choices)
    quota = models.CharField("spazio", max_length=20, choices=Quota.choices, blank=True)
    price_per_year = models.DecimalField("prezzo annuo per unità (IVA esclusa)", **MONEY)
    position = models.PositiveSmallIntegerField("posizione", default=0)

    class Meta:
        ordering = ["position", "code"]
        verbose_name = "servizio aggiuntivo"
        verbose_name_plural = "servizi aggiuntivi"
        constraints = [
            models.CheckConstraint(
                condition=Q(price_per_year__gte=0), name="addon_price_not_negative"
            ),
            models.CheckConstraint(condition=Q(unit__in=Unit.values), name="addon_unit_valid"),
            models.CheckConstraint(condition=Q(quota__in=Quota.values), name="addon_quota_valid"),
        ]

    def __str__(self) -> str:
        return self.name


class TierAddOn(models.Model):
    """How one add-on is offered on one tier: sold or not, the most a mailbox may hold, and
    how many units the tier already includes (e.g. Pro includes 3 GB of security archive)."""

    tier = models.ForeignKey(Tier, on_delete=models.CASCADE, related_name="addon_rules")
    addon = models.ForeignKey(AddOn, on_delete=models.CASCADE, related_name="tier_rules")
    sold = models.BooleanField("in vendita", default=True)
    max_quantity = models.PositiveIntegerField("quantità massima acquistabile", default=0)
    included_quantity = models.PositiveIntegerField("quantità inclusa", default=0)

    class Meta:
        ordering = ["tier__rank", "addon__position"]
        verbose_name = "regola per tipologia"
        verbose_name_plural = "regole per tipologia"
        constraints = [
            models.UniqueConstraint(fields=["tier", "addon"], name="one_rule_per_tier_addon"),
            models.CheckConstraint(
                condition=Q(sold=True, max_quantity__gte=1) | Q(sold=False, max_quantity=0),
                name="sold_rule_has_max",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.addon.code} su {self.tier.name}"


class PriceChange(AppendOnlyModel):
    """A dated price of a tier or an add-on: the history of the catalogue's prices.

    Append-only. The price in effect on a day is the one of the latest change whose
    `effective_from` is not after that day (the later row wins on the same day); before the
    first change it is the `previous_price` recorded with it. `addons.services` writes the
    rows, `billing.catalogue.load_catalogue(on=...)` reads them. Orders are never repriced:
    their lines keep the unit price they were sold at.
    """

    tier = models.ForeignKey(
        Tier,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="price_changes",
        verbose_name="tipologia",
    )
    addon = models.ForeignKey(
        AddOn,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="price_changes",
        verbose_name="servizio aggiuntivo",
    )
    price_per_year = models.DecimalField("nuovo prezzo annuo (IVA esclusa)", **MONEY)
    previous_price = models.DecimalField("prezzo precedente", **MONEY)
    effective_from = models.DateField("in vigore dal")
    reason = models.CharField("motivo", max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="inserito da",
    )
    created_at = models.DateTimeField("inserito il", auto_now_add=True)

    class Meta:
        ordering = ["-effective_from", "-id"]
        verbose_name = "variazione di prezzo"
        verbose_name_plural = "storico dei prezzi"
        constraints = [
            models.CheckConstraint(
                condition=Q(tier__isnull=False, addon__isnull=True)
                | Q(tier__isnull=True, addon__isnull=False),
                name="pricechange_one_item",
            ),
            models.CheckConstraint(
                condition=Q(price_per_year__gte=0, previous_price__gte=0),
                name="pricechange_price_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item} {self.price_per_year} dal {self.effective_from:%d/%m/%Y}"

    edit_refused = "Lo storico dei prezzi non si modifica: si aggiunge una variazione."
    delete_refused = "Lo storico dei prezzi non si cancella."

    @property
    def item(self) -> Tier | AddOn:
        return self.tier if self.tier_id else self.addon
