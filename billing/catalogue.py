"""The catalogue as the pricing engine sees it: a frozen snapshot read from the database."""

from datetime import date

from django.utils import timezone

from addons.models import AddOn, Tier, TierAddOn
from addons.services import price_histories, price_in_effect
from billing.pricing import AddOnInfo, Catalogue, Rule, TierInfo


def load_catalogue(on: date | None = None) -> Catalogue:
    """The catalogue with the prices in effect on `on` (default: today in Europe/Rome).

    Scheduled price changes (`addons.PriceChange`) apply from their date on. Four queries,
    whatever the size of the catalogue and of its price history.
    """
    on = on or timezone.localdate()
    tier_history, addon_history = price_histories()
    tiers = {
        t.code: TierInfo(
            code=t.code,
            name=t.name,
            price_per_year=price_in_effect(tier_history.get(t.pk, ()), t.price_per_year, on),
            rank=t.rank,
        )
        for t in Tier.objects.filter(is_active=True)
    }
    addons = {
        a.code: AddOnInfo(
            code=a.code,
            name=a.name,
            unit=a.unit,
            price_per_year=price_in_effect(addon_history.get(a.pk, ()), a.price_per_year, on),
            quota=a.quota,
            position=a.position,
        )
        for a in AddOn.objects.all()
    }
    rules = {
        (tier_code, addon_code): Rule(sold=sold, max_quantity=mx, included_quantity=inc)
        for tier_code, addon_code, sold, mx, inc in TierAddOn.objects.values_list(
            "tier__code", "addon__code", "sold", "max_quantity", "included_quantity"
        )
    }
    return Catalogue(tiers=tiers, addons=addons, rules=rules)
