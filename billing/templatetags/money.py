from decimal import Decimal

from django import template

from billing.money import format_eur

register = template.Library()


@register.filter
def eur(amount) -> str:
    """`€ 12,20`: formatting only; amounts are computed by the pricing engine."""
    if amount is None or amount == "":
        return ""
    return format_eur(amount if isinstance(amount, Decimal) else Decimal(str(amount)))
