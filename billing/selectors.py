"""Reads for the shop's pages."""

from dataclasses import dataclass
from decimal import Decimal

from addons.models import AddOn, Tier, TierAddOn
from billing.money import vat_of
from billing.pricing import Catalogue

INCLUDED_FEATURES = [
    "Webmail e app per smartphone",
    "Ricevute di accettazione e di consegna",
    "Antivirus e antispam",
    "Avviso via e-mail dei messaggi PEC non letti",
    "Rinnovo automatico",
]


@dataclass(frozen=True)
class TierCard:
    tier: Tier
    price: Decimal  # per year, VAT excluded, in effect today
    price_with_vat: Decimal
    mailbox_gb: int
    archive_gb: int
    users: int
    sms: str  # "incluso", "a pagamento" or "non disponibile"


@dataclass(frozen=True)
class AddOnRow:
    addon: AddOn
    price: Decimal  # per unit per year, VAT excluded, in effect today
    per_tier: list[str]  # one cell per tier, e.g. "fino a 100 GB", "incluso", "non disponibile"
    tier_names: tuple[str, ...] = ()  # the tiers of per_tier, for the phone's card labels

    @property
    def labelled_cells(self) -> list[tuple[str, str]]:
        return list(zip(self.tier_names, self.per_tier, strict=False))


def _cell(rule: TierAddOn | None, addon: AddOn) -> str:
    if rule is None or (not rule.sold and not rule.included_quantity):
        return "non disponibile"
    if not rule.sold:
        return "incluso"
    unit = {"GB": "GB", "USER": "utenti"}.get(addon.unit)
    if unit is None:
        return "a pagamento"
    return f"fino a {rule.max_quantity} {unit}"


def catalogue_table(prices: Catalogue) -> dict:
    """Everything the catalogue page shows, in three queries whatever the catalogue's size.

    `prices` is the pricing engine's snapshot for the day, so the page shows the prices
    that an order placed today would be charged (scheduled changes included)."""
    tiers = list(Tier.objects.filter(is_active=True).order_by("rank"))
    addons = list(AddOn.objects.order_by("position", "code"))
    rules = {
        (r.tier_id, r.addon_id): r
        for r in TierAddOn.objects.filter(tier__is_active=True).only(
            "tier_id", "addon_id", "sold", "max_quantity", "included_quantity"
        )
    }

    def included(tier: Tier, quota: str = "", unit: str = "") -> int:
        return sum(
            rules[(tier.id, a.id)].included_quantity
            for a in addons
            if (tier.id, a.id) in rules
            and (not quota or a.quota == quota)
            and (not unit or a.unit == unit)
        )

    cards = []
    for tier in tiers:
        sms = next((a for a in addons if a.unit == AddOn.Unit.SERVICE), None)
        sms_rule = rules.get((tier.id, sms.id)) if sms else None
        cards.append(
            TierCard(
                tier=tier,
                price=prices.tier(tier.code).price_per_year,
                price_with_vat=(
                    prices.tier(tier.code).price_per_year
                    + vat_of(prices.tier(tier.code).price_per_year)
                ),
                mailbox_gb=included(tier, quota=AddOn.Quota.MAILBOX),
                archive_gb=included(tier, quota=AddOn.Quota.ARCHIVE),
                users=included(tier, unit=AddOn.Unit.USER),
                sms=_cell(sms_rule, sms) if sms else "non disponibile",
            )
        )
    rows = [
        AddOnRow(
            addon=a,
            price=prices.addon(a.code).price_per_year,
            per_tier=[_cell(rules.get((t.id, a.id)), a) for t in tiers],
            tier_names=tuple(t.name for t in tiers),
        )
        for a in addons
    ]
    return {"cards": cards, "tiers": tiers, "addon_rows": rows, "features": INCLUDED_FEATURES}
