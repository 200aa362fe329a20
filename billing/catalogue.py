"""The catalogue as the pricing engine sees it: a frozen snapshot read from the database."""

# ruff: noqa: S608 - the SQL here is assembled from table names; no value is formatted in.

from datetime import date
from decimal import Decimal

from django.db import connection
from django.utils import timezone

from addons.models import AddOn, PriceChange, Tier, TierAddOn
from addons.services import DatedPrice, price_in_effect
from billing.pricing import AddOnInfo, Catalogue, Rule, TierInfo

CENT = Decimal("0.01")


def _money(value) -> Decimal:
    # SQLite hands decimals back as numbers: through str, to the cent.
    return value if isinstance(value, Decimal) else Decimal(str(value)).quantize(CENT)


def _day(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _rows() -> list[tuple]:
    """Tiers on sale, add-ons, per-tier rules and the price history, in one statement: one
    round trip, and one consistent view of the tables even while the admin saves."""
    q = connection.ops.quote_name
    tier, addon, rule, price = (q(m._meta.db_table) for m in (Tier, AddOn, TierAddOn, PriceChange))
    # Columns: kind, s1 (int), s2 (text), s3 (int), code, name, money, unit, quota,
    # sold, max, included, tier_id, addon_id, effective_from, previous_price.
    sql = (
        # The first branch names the types of its NULLs: PostgreSQL reads a bare NULL
        # as text when it meets another one in the next branch.
        f"SELECT 'A', rank, code, id, code, name, price_per_year, '', '', "
        "CAST(NULL AS BOOLEAN), CAST(NULL AS INTEGER), CAST(NULL AS INTEGER), "
        "CAST(NULL AS INTEGER), CAST(NULL AS INTEGER), CAST(NULL AS DATE), "
        f"CAST(NULL AS DECIMAL(12, 2)) FROM {tier} WHERE is_active = %s "
        f"UNION ALL SELECT 'B', position, code, id, code, name, price_per_year, unit, quota, "
        f"NULL, NULL, NULL, NULL, NULL, NULL, NULL FROM {addon} "
        f"UNION ALL SELECT 'C', t.rank, '', a.position, t.code, a.code, NULL, '', '', r.sold, "
        f"r.max_quantity, r.included_quantity, NULL, NULL, NULL, NULL FROM {rule} r "
        f"JOIN {tier} t ON t.id = r.tier_id JOIN {addon} a ON a.id = r.addon_id "
        f"UNION ALL SELECT 'D', 0, '', id, '', '', price_per_year, '', '', NULL, NULL, NULL, "
        f"tier_id, addon_id, effective_from, previous_price FROM {price} "
        "ORDER BY 1, 2, 3, 15, 4"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [True])
        return cursor.fetchall()


# Snapshots built in this process. On PostgreSQL by catalogue version and day: the version
# (addons migration 0004, moved by the database itself on every write to the catalogue's
# tables) is one small query, and the rows are read again only when it has moved. On SQLite
# by the rows themselves, read every time, and the day. Either way nothing is invalidated.
_built: dict[tuple, Catalogue] = {}
MAX_BUILT = 16


def _version() -> int | None:
    """The catalogue's version as committed now (None on SQLite)."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {version_column()}")
        row = cursor.fetchone()
    return row[0] if row else None


def version_column() -> str:
    """The catalogue's version as an expression another statement can select (NULL on
    SQLite): a page whose first statement carries it hands it to `load_catalogue`, which
    then asks for nothing more when this process has built that version."""
    if connection.vendor != "postgresql":
        return "NULL"
    return "(SELECT number FROM addons_catalogue_version WHERE id = 1)"


UNREAD = object()


def load_catalogue(on: date | None = None, *, version=UNREAD) -> Catalogue:
    """The catalogue with the prices in effect on `on` (default: today in Europe/Rome).

    Scheduled price changes (`addons.PriceChange`) apply from their date on. One query,
    whatever the size of the catalogue and of its price history: the version alone when this
    process has already built that version's snapshot. `version`: the version as the
    caller's own statement read it (`version_column()`), before these rows; not read again.

    The rows are read after the version, so they are at least as new as it: a change
    committed in between is seen a moment early under the old number, which no request
    reads once the change is committed. A version written by a transaction that then rolls
    back is never given again, so what that transaction saw can never be served.
    """
    on = on or timezone.localdate()
    if version is UNREAD:
        version = _version()
    if version is not None:
        key = ("version", version, on)
        catalogue = _built.get(key)
        if catalogue is not None:
            return catalogue
        rows = _rows()
    else:
        rows = _rows()
        key = (tuple(rows), on)
        catalogue = _built.get(key)
        if catalogue is not None:
            return catalogue
    catalogue = _build(rows, on)
    if len(_built) >= MAX_BUILT:
        _built.clear()
    _built[key] = catalogue
    return catalogue


def forget_built() -> None:
    """Drop the snapshots this process built (tests)."""
    _built.clear()


def _build(rows: list[tuple], on: date) -> Catalogue:
    tier_rows, addon_rows, rules = [], [], {}
    tier_history: dict[int, list[DatedPrice]] = {}
    addon_history: dict[int, list[DatedPrice]] = {}
    for (
        kind,
        s1,
        _,
        pk,
        code,
        name,
        money,
        unit,
        quota,
        sold,
        most,
        inc,
        t_id,
        a_id,
        eff,
        prev,
    ) in rows:
        if kind == "A":
            tier_rows.append((pk, code, name, _money(money), s1))
        elif kind == "B":
            addon_rows.append((pk, code, name, unit, _money(money), quota, s1))
        elif kind == "C":
            rules[(code, name)] = Rule(sold=bool(sold), max_quantity=most, included_quantity=inc)
        else:
            history = (
                tier_history.setdefault(t_id, []) if t_id else addon_history.setdefault(a_id, [])
            )
            history.append(DatedPrice(_day(eff), _money(money), _money(prev)))
    tiers = {
        code: TierInfo(
            code=code,
            name=name,
            price_per_year=price_in_effect(tier_history.get(pk, ()), price, on),
            rank=rank,
        )
        for pk, code, name, price, rank in tier_rows
    }
    addons = {
        code: AddOnInfo(
            code=code,
            name=name,
            unit=unit,
            price_per_year=price_in_effect(addon_history.get(pk, ()), price, on),
            quota=quota,
            position=position,
        )
        for pk, code, name, unit, price, quota, position in addon_rows
    }
    return Catalogue(tiers=tiers, addons=addons, rules=rules)
