"""Prices of the catalogue over time: scheduling a change from a date, and reading the
price in effect on a day.

The history (`PriceChange`) is the source of truth for the pricing engine; the
`price_per_year` field of a tier or add-on is kept equal to the price in effect today (when
a change starts today, and by `price_changes_apply` for changes that come due later), so
that pages reading the field directly show the current price.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from addons.models import AddOn, PriceChange, Tier

CENT = Decimal("0.01")


@dataclass(frozen=True)
class DatedPrice:
    """One row of the history, as plain data."""

    effective_from: date
    price: Decimal
    previous_price: Decimal


def price_in_effect(history: Iterable[DatedPrice], base: Decimal, on: date) -> Decimal:
    """The price on `on`: the latest change not after it, else the price before the first
    change, else `base` (an item with no history). `history` is in the order of insertion
    within a day, so the later row wins on the same day."""
    rows = sorted(history, key=lambda r: r.effective_from)  # stable: keeps the insertion order
    if not rows:
        return base
    current = None
    for row in rows:
        if row.effective_from <= on:
            current = row.price
    return rows[0].previous_price if current is None else current


def price_histories() -> tuple[dict, dict]:
    """Every item's history in one query: ({tier_id: [DatedPrice]}, {addon_id: [...]})."""
    tiers: dict[int, list[DatedPrice]] = {}
    addons: dict[int, list[DatedPrice]] = {}
    rows = PriceChange.objects.order_by("effective_from", "id").values_list(
        "tier_id", "addon_id", "effective_from", "price_per_year", "previous_price"
    )
    for tier_id, addon_id, effective_from, price, previous in rows:
        target = tiers.setdefault(tier_id, []) if tier_id else addons.setdefault(addon_id, [])
        target.append(DatedPrice(effective_from, price, previous))
    return tiers, addons


def item_price_on(item: Tier | AddOn, on: date) -> Decimal:
    """The price of one tier or add-on on a day (one query)."""
    field = "tier" if isinstance(item, Tier) else "addon"
    history = [
        DatedPrice(e, p, prev)
        for e, p, prev in PriceChange.objects.filter(**{field: item})
        .order_by("effective_from", "id")
        .values_list("effective_from", "price_per_year", "previous_price")
    ]
    return price_in_effect(history, item.price_per_year, on)


def price_change_schedule(
    *,
    price: Decimal,
    effective_from: date,
    today: date,
    tier: Tier | None = None,
    addon: AddOn | None = None,
    actor=None,
    reason: str = "",
) -> PriceChange:
    """Record a new yearly price of a tier or an add-on from `effective_from` on.

    The date cannot be in the past (orders placed meanwhile were sold at the old price, and
    the history must say so). A change starting today updates the item's field at once.
    A second change for the same item and day replaces the first one from that day (the
    history keeps both rows).
    """
    if (tier is None) == (addon is None):
        raise ValueError("Indica una tipologia oppure un servizio aggiuntivo.")
    if not isinstance(price, Decimal) or price < 0:
        raise ValidationError({"price": "Il prezzo deve essere un importo non negativo."})
    if price != price.quantize(CENT):
        raise ValidationError({"price": "Il prezzo ha al massimo due decimali."})
    if effective_from < today:
        raise ValidationError(
            {"effective_from": "La data di decorrenza non può essere nel passato."}
        )
    model = Tier if tier is not None else AddOn
    with transaction.atomic():
        # One writer per item at a time: the previous price is read under the lock.
        item = model.objects.select_for_update().get(pk=(tier or addon).pk)
        previous = item_price_on(item, effective_from - timedelta(days=1))
        change = PriceChange.objects.create(
            tier=item if tier is not None else None,
            addon=item if addon is not None else None,
            price_per_year=price,
            previous_price=previous,
            effective_from=effective_from,
            reason=reason[:500],
            created_by=actor,
        )
        if effective_from <= today:
            item.price_per_year = price
            item.save(update_fields=["price_per_year"])
    return change


def price_changes_apply(*, today: date) -> int:
    """Bring the `price_per_year` field of every tier and add-on to its price in effect
    today. Idempotent: run daily (and safe to run again); returns the items updated."""
    tier_history, addon_history = price_histories()
    updated = 0
    for model, histories in ((Tier, tier_history), (AddOn, addon_history)):
        for pk, history in histories.items():
            with transaction.atomic():
                item = model.objects.select_for_update().get(pk=pk)
                price = price_in_effect(history, item.price_per_year, today)
                if price != item.price_per_year:
                    item.price_per_year = price
                    item.save(update_fields=["price_per_year"])
                    updated += 1
    return updated
