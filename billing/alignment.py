"""Aligning expiries ("Allinea le scadenze", co-termination), as pure functions.

Several mailboxes are renewed so that they all expire on one target date. Each pays the
monthly rateo from its current expiry to the target, a started month counting whole:
(tier price + every kept add-on's unit price x quantity) x months / 12, rounded per line.
VAT is computed once on the order. No database and no clock: `today` is an argument.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from dateutil.relativedelta import relativedelta

from billing.pricing import (
    Catalogue,
    Line,
    PricingError,
    Quote,
    check_holdings,
    line_net,
)
from mailboxes.terms import GRACE_DAYS, grace_ends_on

MAX_ALIGNMENT_MONTHS = 60


@dataclass(frozen=True)
class AlignedMailbox:
    """What the price of one mailbox depends on. `held` are the add-ons kept for the new
    period (scheduled reductions already applied); `expired` is a mailbox in grace."""

    address: str
    tier: str
    expires_on: date
    held: Mapping[str, int] = field(default_factory=dict)
    expired: bool = False


def alignment_months(expires_on: date, target: date) -> int:
    """Months from the current expiry to the target; a started month counts whole."""
    rd = relativedelta(target, expires_on)
    return rd.years * 12 + rd.months + (1 if rd.days > 0 else 0)


def check_alignment_target(target: date, *, today: date) -> None:
    if target <= today:
        raise PricingError(
            f"La data di allineamento deve essere successiva a oggi ({today:%d/%m/%Y}).",
            field="target",
        )


def quote_mailbox_alignment(
    catalogue: Catalogue, mailbox: AlignedMailbox, *, target: date, today: date
) -> Quote:
    """One mailbox renewed up to `target`: one line naming its address."""
    tier = catalogue.tier(mailbox.tier)
    check_alignment_target(target, today=today)
    if mailbox.expired and today >= grace_ends_on(mailbox.expires_on):
        raise PricingError(
            f"{mailbox.address}: sono passati più di {GRACE_DAYS} giorni dalla scadenza del "
            f"{mailbox.expires_on:%d/%m/%Y}, la casella non si può più rinnovare.",
            field="mailboxes",
        )
    if not mailbox.expired and mailbox.expires_on <= today:
        raise PricingError(
            f"{mailbox.address} è scaduta il {mailbox.expires_on:%d/%m/%Y}.", field="mailboxes"
        )
    if target <= mailbox.expires_on:
        raise PricingError(
            f"La data di allineamento deve essere successiva alla scadenza di "
            f"{mailbox.address} ({mailbox.expires_on:%d/%m/%Y}).",
            field="target",
        )
    months = alignment_months(mailbox.expires_on, target)
    if months > MAX_ALIGNMENT_MONTHS:
        raise PricingError(
            f"{mailbox.address}: dalla scadenza del {mailbox.expires_on:%d/%m/%Y} alla data "
            f"scelta ci sono {months} mesi, al massimo se ne possono aggiungere "
            f"{MAX_ALIGNMENT_MONTHS}.",
            field="target",
        )
    check_holdings(catalogue, tier.code, mailbox.held)
    unit_price = tier.price_per_year
    parts = [f"Casella PEC {tier.name}"]
    for code in catalogue.ordered(code for code, q in mailbox.held.items() if q):
        addon = catalogue.addon(code)
        quantity = mailbox.held[code]
        unit_price += addon.price_per_year * quantity
        parts.append(f"{addon.name} ({addon.units(quantity)})")
    description = (
        f"Allineamento scadenza {mailbox.address} dal {mailbox.expires_on:%d/%m/%Y} "
        f"al {target:%d/%m/%Y}: {', '.join(parts)}, {months} "
        f"{'mese' if months == 1 else 'mesi'}"
    )
    line = Line(
        "alignment",
        tier.code,
        description,
        1,
        months,
        unit_price,
        line_net(unit_price, 1, months),
    )
    return Quote((line,), months=months)


@dataclass(frozen=True)
class AlignmentRow:
    address: str
    expires_on: date
    months: int
    net: Decimal
    line: Line


@dataclass(frozen=True)
class AlignmentQuote:
    target: date
    rows: tuple[AlignmentRow, ...]
    quote: Quote

    @property
    def net(self) -> Decimal:
        return self.quote.net

    @property
    def vat(self) -> Decimal:
        return self.quote.vat

    @property
    def total(self) -> Decimal:
        return self.quote.total


def quote_alignment(
    catalogue: Catalogue, mailboxes: Sequence[AlignedMailbox], *, target: date, today: date
) -> AlignmentQuote:
    """Every selected mailbox up to `target`, each on its own line; VAT once on the total."""
    if not mailboxes:
        raise PricingError("Scegli almeno una casella da allineare.", field="mailboxes")
    check_alignment_target(target, today=today)
    seen: set[str] = set()
    rows = []
    for mailbox in mailboxes:
        if mailbox.address in seen:
            raise PricingError(f"{mailbox.address} è indicata due volte.", field="mailboxes")
        seen.add(mailbox.address)
        line = quote_mailbox_alignment(catalogue, mailbox, target=target, today=today).lines[0]
        rows.append(AlignmentRow(mailbox.address, mailbox.expires_on, line.months, line.net, line))
    return AlignmentQuote(target, tuple(rows), Quote(tuple(r.line for r in rows)))
