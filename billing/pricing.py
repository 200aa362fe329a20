"""The prices of everything the shop sells, as pure functions.

No database and no clock: the catalogue is a plain snapshot (see `addons.selectors`) and
`today` is always an argument, so every rule can be tested with explicit dates. Every rule
violation raises `PricingError` with a message fit to show to the customer.

The rules are those of docs/product-rules.md: a line's net is unit price x quantity x months / 12,
rounded to the cent; VAT is computed once on the total net; an add-on bought during the
term pays the rateo, the months left up to the expiry, a started month counting whole.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cached_property

from dateutil.relativedelta import relativedelta

from billing.money import ZERO, quantize, vat_of
from mailboxes.terms import GRACE_DAYS, MB_PER_GB, grace_ends_on

MIN_YEARS = 1
MAX_YEARS = 5


class PricingError(Exception):
    """A rule of the catalogue says no. The message is for the customer (Italian)."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


# --- the catalogue snapshot -------------------------------------------------------------


@dataclass(frozen=True)
class TierInfo:
    code: str
    name: str
    price_per_year: Decimal
    rank: int


@dataclass(frozen=True)
class AddOnInfo:
    code: str
    name: str
    unit: str  # "GB", "USER" or "SERVICE"
    price_per_year: Decimal
    quota: str = ""  # which usage figure it enlarges: "mailbox", "archive", "conservation"
    position: int = 0

    def units(self, quantity: int) -> str:
        if self.unit == "GB":
            return f"{quantity} GB"
        if self.unit == "USER":
            return f"{quantity} {'utente' if quantity == 1 else 'utenti'}"
        return f"{quantity} {'servizio' if quantity == 1 else 'servizi'}"


def months_text(months: int) -> str:
    """`1 mese`, `6 mesi`: the months of a rateo as the customer reads them."""
    return f"{months} {'mese' if months == 1 else 'mesi'}"


@dataclass(frozen=True)
class Rule:
    sold: bool = False
    max_quantity: int = 0
    included_quantity: int = 0


NOT_OFFERED = Rule()


@dataclass(frozen=True)
class Catalogue:
    tiers: Mapping[str, TierInfo]
    addons: Mapping[str, AddOnInfo]
    rules: Mapping[tuple[str, str], Rule]

    def tier(self, code: str) -> TierInfo:
        try:
            return self.tiers[code]
        except KeyError:
            known = ", ".join(sorted(self.tiers))
            raise PricingError(
                f"Tipologia sconosciuta: «{code}» (disponibili: {known}).", field="tier"
            ) from None

    def addon(self, code: str) -> AddOnInfo:
        try:
            return self.addons[code]
        except KeyError:
            known = ", ".join(sorted(self.addons))
            raise PricingError(
                f"Servizio aggiuntivo sconosciuto: «{code}» (disponibili: {known}).", field="addon"
            ) from None

    def rule(self, tier_code: str, addon_code: str) -> Rule:
        return self.rules.get((tier_code, addon_code), NOT_OFFERED)

    @cached_property
    def gb_addons(self) -> Mapping[str, tuple[str, ...]]:
        """Per quota ("mailbox", "archive", "conservation"), the add-ons sold by the GB that
        enlarge it: worked out once per snapshot, which never changes."""
        by_quota: dict[str, tuple[str, ...]] = {}
        for code, addon in self.addons.items():
            if addon.quota and addon.unit == "GB":
                by_quota[addon.quota] = (*by_quota.get(addon.quota, ()), code)
        return by_quota

    @cached_property
    def included_gb(self) -> Mapping[tuple[str, str], int]:
        """(tier, quota) -> GB the tier includes in that quota through the add-ons sold by the
        GB (a tier missing here includes none)."""
        included: dict[tuple[str, str], int] = {}
        for (tier_code, code), rule in self.rules.items():
            addon = self.addons.get(code)
            if addon is not None and addon.quota and addon.unit == "GB":
                key = (tier_code, addon.quota)
                included[key] = included.get(key, 0) + rule.included_quantity
        return included

    def ordered(self, codes) -> list[str]:
        return sorted(codes, key=lambda c: (self.addon(c).position, c))


# --- quotes -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    kind: str  # "tier", "renewal", "upgrade", "addon", "renewal_addon", "credit"
    code: str
    description: str
    quantity: int
    months: int
    unit_price: Decimal
    net: Decimal


@dataclass(frozen=True)
class Quote:
    lines: tuple[Line, ...]
    months: int = 0  # months of rateo left in the current term (0 when none)
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def net(self) -> Decimal:
        return quantize(sum((line.net for line in self.lines), ZERO))

    @property
    def vat(self) -> Decimal:
        return vat_of(self.net)

    @property
    def total(self) -> Decimal:
        return self.net + self.vat


def totals(lines) -> tuple[Decimal, Decimal, Decimal]:
    """Net, VAT and total of any set of lines (an order of several items)."""
    net = quantize(sum((line.net for line in lines), ZERO))
    vat = vat_of(net)
    return net, vat, net + vat


# --- dates --------------------------------------------------------------------------------


def rateo_months(expires_on: date, today: date) -> int:
    """Months from today up to the expiry; a started month counts whole."""
    if today >= expires_on:
        raise PricingError(
            f"La casella è scaduta il {expires_on:%d/%m/%Y}: si può solo rinnovare.",
            field="expires",
        )
    rd = relativedelta(expires_on, today)
    return rd.years * 12 + rd.months + (1 if rd.days > 0 else 0)


def line_net(unit_price: Decimal, quantity: int, months: int) -> Decimal:
    return quantize(unit_price * quantity * months / Decimal(12))


# --- checks -------------------------------------------------------------------------------


def check_years(years: int) -> None:
    if isinstance(years, bool) or not isinstance(years, int):
        raise PricingError("La durata deve essere un numero intero di anni.", field="years")
    if not MIN_YEARS <= years <= MAX_YEARS:
        raise PricingError(
            f"La durata va da {MIN_YEARS} a {MAX_YEARS} anni (richiesti {years}).", field="years"
        )


def check_quantity(quantity: int, *, allow_zero: bool = False) -> None:
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise PricingError("La quantità deve essere un numero intero.", field="quantity")
    if quantity < 0 or (quantity == 0 and not allow_zero):
        raise PricingError(
            "La quantità deve essere un numero intero "
            + ("non negativo." if allow_zero else "positivo."),
            field="quantity",
        )


def check_holding(catalogue: Catalogue, tier_code: str, addon_code: str, quantity: int) -> None:
    """`quantity` units of the add-on in total may be held on the tier."""
    tier = catalogue.tier(tier_code)
    addon = catalogue.addon(addon_code)
    rule = catalogue.rule(tier_code, addon_code)
    if not rule.sold:
        if rule.included_quantity:
            included = (
                "lo include già"
                if addon.unit == "SERVICE"
                else f"include già {addon.units(rule.included_quantity)}"
            )
            raise PricingError(
                f"{addon.name} non si acquista per la tipologia {tier.name}, che {included}.",
                field="addon",
            )
        raise PricingError(
            f"{addon.name} non è disponibile per la tipologia {tier.name}.", field="addon"
        )
    if quantity > rule.max_quantity:
        raise PricingError(
            f"{addon.name}: al massimo {addon.units(rule.max_quantity)} per la tipologia "
            f"{tier.name} (richiesti {addon.units(quantity)}).",
            field="quantity",
        )


def check_holdings(catalogue: Catalogue, tier_code: str, held: Mapping[str, int]) -> None:
    for code, quantity in held.items():
        check_quantity(quantity, allow_zero=True)
        if quantity:
            check_holding(catalogue, tier_code, code, quantity)


def quota_gb(catalogue: Catalogue, tier_code: str, holdings: Mapping[str, int], quota: str) -> int:
    """GB of one quota (mailbox, archive, conservation): included by the tier plus add-ons."""
    total = catalogue.included_gb.get((tier_code, quota), 0)
    for code in catalogue.gb_addons.get(quota, ()):
        total += holdings.get(code, 0)
    return total


def gb_to_free(used_mb: int, quota_in_gb: int) -> int:
    """Whole GB that must be deleted so that `used_mb` fits the quota (0 when it fits)."""
    excess_mb = used_mb - quota_in_gb * MB_PER_GB
    if excess_mb <= 0:
        return 0
    return -(-excess_mb // MB_PER_GB)


QUOTA_LABELS = {
    "mailbox": "della casella",
    "archive": "dell'archivio di sicurezza",
    "conservation": "della conservazione",
}


@dataclass(frozen=True)
class Usage:
    mailbox_mb: int = 0
    archive_mb: int = 0
    conservation_mb: int = 0

    def of(self, quota: str) -> int:
        return getattr(self, f"{quota}_mb", 0)


def check_fits(
    catalogue: Catalogue,
    tier_code: str,
    holdings: Mapping[str, int],
    usage: Usage,
    *,
    skip: frozenset[str] = frozenset(),
) -> None:
    """Refuse a configuration whose quotas would not hold the space already used."""
    for quota, label in QUOTA_LABELS.items():
        if quota in skip:
            continue
        limit = quota_gb(catalogue, tier_code, holdings, quota)
        missing = gb_to_free(usage.of(quota), limit)
        if missing:
            raise PricingError(
                f"Lo spazio {label} usato non entra nei {limit} GB richiesti: "
                f"elimina almeno {missing} GB di messaggi prima di procedere.",
                field="quantity",
            )


# --- prices -------------------------------------------------------------------------------


def quote_new_mailbox(
    catalogue: Catalogue, *, tier: str, years: int, addons: Mapping[str, int] | None = None
) -> Quote:
    """A new mailbox bought in the cart: the tier and its add-ons for the whole term."""
    check_years(years)
    tier_info = catalogue.tier(tier)
    months = 12 * years
    lines = [
        Line(
            "tier",
            tier_info.code,
            f"Casella PEC {tier_info.name}, {years} {'anno' if years == 1 else 'anni'}",
            1,
            months,
            tier_info.price_per_year,
            line_net(tier_info.price_per_year, 1, months),
        )
    ]
    for code in catalogue.ordered((addons or {}).keys()):
        quantity = addons[code]
        check_quantity(quantity)
        check_holding(catalogue, tier, code, quantity)
        addon = catalogue.addon(code)
        lines.append(
            Line(
                "addon",
                code,
                f"{addon.name} ({addon.units(quantity)})",
                quantity,
                months,
                addon.price_per_year,
                line_net(addon.price_per_year, quantity, months),
            )
        )
    return Quote(tuple(lines), months=months)


def quote_addon_purchase(
    catalogue: Catalogue,
    *,
    tier: str,
    expires_on: date,
    today: date,
    held: Mapping[str, int],
    add: Mapping[str, int],
) -> Quote:
    """Acquista, Aumenta or Aggiungi utenti Multiutente during the term: the rateo."""
    catalogue.tier(tier)
    check_holdings(catalogue, tier, held)
    if not add:
        raise PricingError("Scegli almeno un servizio da acquistare.", field="addon")
    months = rateo_months(expires_on, today)
    lines = [
        _rateo_line(catalogue, tier, held, code, add[code], months)
        for code in _codes(catalogue, add)
    ]
    return Quote(tuple(lines), months=months)


def _codes(catalogue: Catalogue, quantities: Mapping[str, int]) -> list[str]:
    for code, quantity in quantities.items():
        catalogue.addon(code)
        check_quantity(quantity)
    return catalogue.ordered(quantities.keys())


def _rateo_line(
    catalogue: Catalogue, tier: str, held: Mapping[str, int], code: str, quantity: int, months: int
) -> Line:
    already = held.get(code, 0)
    check_holding(catalogue, tier, code, already + quantity)
    addon = catalogue.addon(code)
    if already:
        # Which service grows, from how much to how much: "da 5 GB a 10 GB (+5 GB)".
        what = (
            f"Aumento {addon.name} da {addon.units(already)} a "
            f"{addon.units(already + quantity)} (+{addon.units(quantity)})"
        )
    else:
        what = f"Acquisto {addon.name} ({addon.units(quantity)})"
    return Line(
        "addon",
        code,
        f"{what}, rateo di {months_text(months)}",
        quantity,
        months,
        addon.price_per_year,
        line_net(addon.price_per_year, quantity, months),
    )


def quote_upgrade(
    catalogue: Catalogue,
    *,
    tier: str,
    to_tier: str,
    expires_on: date,
    today: date,
    held: Mapping[str, int],
    add: Mapping[str, int] | None = None,
) -> Quote:
    """Upgrade during the term: the rateo of the price difference; the expiry does not move.

    Add-ons that the new tier includes end with the upgrade and the rateo of their price
    for the same months is credited as a negative line.
    """
    current = catalogue.tier(tier)
    target = catalogue.tier(to_tier)
    check_holdings(catalogue, tier, held)
    if target.rank == current.rank:
        raise PricingError(f"La casella è già di tipologia {current.name}.", field="to_tier")
    if target.rank < current.rank:
        raise PricingError(
            f"Il passaggio da {current.name} a {target.name} è possibile solo al rinnovo.",
            field="to_tier",
        )
    months = rateo_months(expires_on, today)
    difference = max(target.price_per_year - current.price_per_year, ZERO)
    lines = [
        Line(
            "upgrade",
            target.code,
            f"Upgrade da {current.name} a {target.name}, rateo di {months_text(months)}",
            1,
            months,
            difference,
            line_net(difference, 1, months),
        )
    ]
    notes = []
    kept: dict[str, int] = {}
    for code in catalogue.ordered(held.keys()):
        quantity = held[code]
        if not quantity:
            continue
        rule = catalogue.rule(to_tier, code)
        addon = catalogue.addon(code)
        if not rule.sold and rule.included_quantity >= quantity:
            lines.append(
                Line(
                    "credit",
                    code,
                    f"{addon.name} incluso in {target.name}: accredito del rateo di {months_text(months)}",
                    quantity,
                    months,
                    addon.price_per_year,
                    -line_net(addon.price_per_year, quantity, months),
                )
            )
            notes.append(f"{addon.name} termina con l'upgrade: è incluso in {target.name}.")
            continue
        check_holding(catalogue, to_tier, code, quantity)
        kept[code] = quantity
    for code in _codes(catalogue, add or {}):
        lines.append(_rateo_line(catalogue, to_tier, kept, code, add[code], months))
    return Quote(tuple(lines), months=months, notes=tuple(notes))


def quote_renewal(
    catalogue: Catalogue,
    *,
    tier: str,
    expires_on: date,
    today: date,
    years: int,
    held: Mapping[str, int],
    keep: Mapping[str, int] | None = None,
    add: Mapping[str, int] | None = None,
    to_tier: str | None = None,
    usage: Usage | None = None,
    confirm_archive_loss: bool = False,
) -> Quote:
    """Renewal for 1-5 years at full yearly prices, from the current expiry.

    `keep` lowers (or with 0 drops) held add-ons for the new term; `add` buys more units:
    before the expiry, on the same tier, they pay the rateo up to the current expiry and
    then the new term; with a tier change they start with the new term. `to_tier` changes
    tier at the renewal (up or down); add-ons the new tier does not sell end there.
    """
    check_years(years)
    current = catalogue.tier(tier)
    target = catalogue.tier(to_tier) if to_tier else current
    check_holdings(catalogue, tier, held)
    keep = dict(keep or {})
    add = dict(add or {})
    if today >= grace_ends_on(expires_on):
        raise PricingError(
            f"Sono passati più di {GRACE_DAYS} giorni dalla scadenza del "
            f"{expires_on:%d/%m/%Y}: la casella non si può più rinnovare.",
            field="expires",
        )
    in_term = today < expires_on
    months = rateo_months(expires_on, today) if in_term else 0

    next_term: dict[str, int] = {code: q for code, q in held.items() if q}
    for code, quantity in keep.items():
        addon = catalogue.addon(code)
        check_quantity(quantity, allow_zero=True)
        if code in add:
            raise PricingError(
                f"{addon.name}: indica una riduzione o un aumento, non entrambi.", field="quantity"
            )
        if quantity > held.get(code, 0):
            raise PricingError(
                f"{addon.name}: per aumentare la quantità usa «aggiungi», non la riduzione.",
                field="quantity",
            )
        next_term[code] = quantity

    notes = []
    if target.code != current.code:
        for code in catalogue.ordered(list(next_term)):
            rule = catalogue.rule(target.code, code)
            if next_term[code] and not rule.sold and code not in add:
                addon = catalogue.addon(code)
                if rule.included_quantity and addon.unit == "SERVICE":
                    why = f"è incluso in {target.name}"
                elif rule.included_quantity:
                    why = f"{target.name} ne include {addon.units(rule.included_quantity)}"
                else:
                    why = f"non è disponibile in {target.name}"
                notes.append(f"{addon.name} termina al rinnovo: {why}.")
                next_term[code] = 0
        archive_before = quota_gb(catalogue, current.code, held, "archive")
        archive_after = quota_gb(catalogue, target.code, next_term, "archive")
        if archive_before and not archive_after and not confirm_archive_loss:
            raise PricingError(
                f"Con la tipologia {target.name} non c'è l'archivio di sicurezza: il suo contenuto "
                "sarà eliminato. Conferma esplicitamente per procedere.",
                field="confirm_archive_loss",
            )

    rateo_lines = []
    add_codes = _codes(catalogue, add)
    for code in add_codes:
        if in_term and target.code == current.code:
            rateo_lines.append(_rateo_line(catalogue, tier, held, code, add[code], months))
        next_term[code] = next_term.get(code, 0) + add[code]
    for code, quantity in next_term.items():
        if quantity:
            check_holding(catalogue, target.code, code, quantity)
    if usage is not None:
        # The archive is only skipped where it disappears (and its loss was confirmed above).
        archive_lost = not quota_gb(catalogue, target.code, next_term, "archive")
        skip = frozenset({"archive"}) if archive_lost and confirm_archive_loss else frozenset()
        check_fits(catalogue, target.code, next_term, usage, skip=skip)

    term_months = 12 * years
    span = f"{years} {'anno' if years == 1 else 'anni'}"
    change = f" (da {current.name})" if target.code != current.code else ""
    lines = [
        Line(
            "renewal",
            target.code,
            f"Rinnovo casella PEC {target.name}{change}, {span}",
            1,
            term_months,
            target.price_per_year,
            line_net(target.price_per_year, 1, term_months),
        )
    ]
    lines.extend(rateo_lines)
    for code in catalogue.ordered(list(next_term)):
        quantity = next_term[code]
        if not quantity:
            continue
        addon = catalogue.addon(code)
        lines.append(
            Line(
                "renewal_addon",
                code,
                f"{addon.name} ({addon.units(quantity)}), rinnovo {span}",
                quantity,
                term_months,
                addon.price_per_year,
                line_net(addon.price_per_year, quantity, term_months),
            )
        )
    return Quote(tuple(lines), months=months, notes=tuple(notes))


def quote_change(
    catalogue: Catalogue,
    *,
    tier: str,
    expires_on: date,
    today: date,
    held: Mapping[str, int] | None = None,
    add: Mapping[str, int] | None = None,
    keep: Mapping[str, int] | None = None,
    renew_years: int | None = None,
    to_tier: str | None = None,
    usage: Usage | None = None,
    confirm_archive_loss: bool = False,
) -> Quote:
    """One entry point for an existing mailbox: renewal, upgrade or add-on purchase."""
    held = held or {}
    if renew_years is not None:
        return quote_renewal(
            catalogue,
            tier=tier,
            expires_on=expires_on,
            today=today,
            years=renew_years,
            held=held,
            keep=keep,
            add=add,
            to_tier=to_tier,
            usage=usage,
            confirm_archive_loss=confirm_archive_loss,
        )
    if keep:
        raise PricingError("Una riduzione non si paga: vale dal prossimo rinnovo.", field="keep")
    if to_tier:
        return quote_upgrade(
            catalogue,
            tier=tier,
            to_tier=to_tier,
            expires_on=expires_on,
            today=today,
            held=held,
            add=add,
        )
    return quote_addon_purchase(
        catalogue, tier=tier, expires_on=expires_on, today=today, held=held, add=add or {}
    )
