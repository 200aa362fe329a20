"""The quote interface shared by `manage.py quote` and `GET /api/quote`.

It turns raw parameters (strings, as typed on a command line or sent in a query string)
into a call of the pricing engine and the answer into JSON-ready data.
"""

import re
from dataclasses import dataclass
from datetime import date

from billing.pricing import Catalogue, PricingError, Quote, quote_change, quote_new_mailbox

MAX_QUANTITY_DIGITS = 6
_QUANTITY_ITEM = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_]*)\s*[=:]\s*(-?\d+)\s*$")


class QuoteInputError(PricingError):
    """The request itself is malformed (a date, a number, a CODE=QTY item)."""


@dataclass(frozen=True)
class QuoteRequest:
    tier: str
    today: date
    expires_on: date | None = None
    years: int | None = None
    renew_years: int | None = None
    to_tier: str | None = None
    has: tuple[tuple[str, int], ...] = ()
    add: tuple[tuple[str, int], ...] = ()
    keep: tuple[tuple[str, int], ...] = ()


def parse_date(value: str, name: str) -> date:
    try:
        text = value.strip()
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except (ValueError, AttributeError):
        raise QuoteInputError(
            f"{name}: data non valida «{value}», usa il formato AAAA-MM-GG.", field=name
        ) from None


def parse_int(value: str, name: str) -> int:
    text = (value or "").strip()
    if not re.fullmatch(r"-?\d{1,6}", text):
        raise QuoteInputError(f"{name}: «{value}» non è un numero intero valido.", field=name)
    return int(text)


def parse_items(values: list[str], name: str) -> tuple[tuple[str, int], ...]:
    items: dict[str, int] = {}
    for raw in values:
        for part in raw.split(","):
            if not part.strip():
                continue
            match = _QUANTITY_ITEM.match(part)
            if not match:
                raise QuoteInputError(
                    f"{name}: «{part}» non è nel formato CODICE=QUANTITÀ (es. CONSERVAZIONE=5).",
                    field=name,
                )
            code, digits = match.group(1).upper(), match.group(2)
            if len(digits.lstrip("-")) > MAX_QUANTITY_DIGITS:
                raise QuoteInputError(f"{name}: quantità fuori misura per {code}.", field=name)
            if code in items:
                raise QuoteInputError(f"{name}: {code} è indicato due volte.", field=name)
            items[code] = int(digits)
    return tuple(items.items())


def parse_request(params: dict[str, list[str]], *, default_today: date) -> QuoteRequest:
    """`params` maps each parameter to the list of its values (as a QueryDict does)."""

    def one(name: str) -> str | None:
        values = [v for v in params.get(name, []) if v is not None and str(v).strip() != ""]
        if len(values) > 1:
            raise QuoteInputError(f"{name}: indicato più di una volta.", field=name)
        return values[0] if values else None

    tier = one("tier")
    if not tier:
        raise QuoteInputError("tier: indica la tipologia (standard, pro o premium).", field="tier")
    today_raw = one("today")
    expires_raw = one("expires")
    years_raw = one("years")
    renew_raw = one("renew_years")
    request = QuoteRequest(
        tier=tier.strip().lower(),
        today=parse_date(today_raw, "today") if today_raw else default_today,
        expires_on=parse_date(expires_raw, "expires") if expires_raw else None,
        years=parse_int(years_raw, "years") if years_raw else None,
        renew_years=parse_int(renew_raw, "renew_years") if renew_raw else None,
        to_tier=(one("to_tier") or "").strip().lower() or None,
        has=parse_items(params.get("has", []), "has"),
        add=parse_items(params.get("add", []), "add"),
        keep=parse_items(params.get("keep", []), "keep"),
    )
    if request.expires_on is None and request.years is None:
        raise QuoteInputError(
            "Indica expires (scadenza di una casella esistente) oppure years "
            "(durata di una nuova casella).",
            field="expires",
        )
    if request.expires_on is not None and request.years is not None:
        raise QuoteInputError(
            "Indica expires oppure years, non entrambi: years vale solo per una nuova casella; "
            "per rinnovare usa renew_years.",
            field="years",
        )
    if request.years is not None and (
        request.has or request.keep or request.renew_years or request.to_tier
    ):
        raise QuoteInputError(
            "Una nuova casella si quota con tier, years e add soltanto.", field="years"
        )
    return request


def price_request(catalogue: Catalogue, request: QuoteRequest) -> Quote:
    if request.years is not None:
        return quote_new_mailbox(
            catalogue, tier=request.tier, years=request.years, addons=dict(request.add)
        )
    return quote_change(
        catalogue,
        tier=request.tier,
        expires_on=request.expires_on,
        today=request.today,
        held=dict(request.has),
        add=dict(request.add),
        keep=dict(request.keep),
        renew_years=request.renew_years,
        to_tier=request.to_tier,
    )


def quote_as_dict(quote: Quote) -> dict:
    return {
        "months": quote.months,
        "lines": [
            {
                "code": line.code,
                "description": line.description,
                "quantity": line.quantity,
                "months": line.months,
                "unit_price": f"{line.unit_price:.2f}",
                "net": f"{line.net:.2f}",
            }
            for line in quote.lines
        ],
        "notes": list(quote.notes),
        "net": f"{quote.net:.2f}",
        "vat": f"{quote.vat:.2f}",
        "total": f"{quote.total:.2f}",
    }
