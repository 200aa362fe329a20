"""Money helpers: Decimal only, two decimals, ROUND_HALF_UP, one VAT rate of 22%. They sit
with the catalogue, the lowest app, so that every layer above may use them."""

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
VAT_RATE = Decimal("22")
ZERO = Decimal("0.00")


def quantize(amount: Decimal) -> Decimal:
    """Round to the cent, halves away from zero (the rule of Italian invoices)."""
    if not isinstance(amount, Decimal):
        raise TypeError(f"money must be a Decimal, not {type(amount).__name__}")
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def vat_of(net: Decimal, rate: Decimal = VAT_RATE) -> Decimal:
    """VAT on a total net (computed once per order or invoice, never per line)."""
    return quantize(net * rate / Decimal(100))


def format_eur(amount: Decimal) -> str:
    """`€ 1.234,56`: the Italian way, with a minus sign before the symbol when negative."""
    amount = quantize(amount)
    sign = "-" if amount < 0 else ""
    whole, _, cents = f"{abs(amount):.2f}".partition(".")
    groups = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    return f"{sign}€ {'.'.join(groups)},{cents}"
