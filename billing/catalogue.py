"""The catalogue as the pricing engine sees it: a frozen snapshot read from the database."""

from addons.models import AddOn, Tier, TierAddOn
from billing.pricing import AddOnInfo, Catalogue, Rule, TierInfo


def load_catalogue() -> Catalogue:
    tiers = {
        t.code: TierInfo(code=t.code, name=t.name, price_per_year=t.price_per_year, rank=t.rank)
        for t in Tier.objects.filter(is_active=True)
    }
    addons = {
        a.code: AddOnInfo(
            code=a.code,
            name=a.name,
            unit=a.unit,
            price_per_year=a.price_per_year,
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
