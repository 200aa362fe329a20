"""The consumer's withdrawal (recesso, Codice del Consumo art. 52-59): when it is open and
what is refunded, as pure functions.

No database and no clock: the dates are arguments. A consumer may withdraw until 23:59
(Europe/Rome) of the 14th day after the order was paid. The refund is what was paid minus
the value of the service provided up to the withdrawal (art. 57 c. 3), line by line:

    used = quantize(line net x days used / days of the line's paid period)

"days used" run from the day the line's service started (the activation of a new mailbox,
the purchase day of an add-on, an increase or an upgrade, the first day of a renewal's new
term) to the withdrawal day: withdrawing on the day it started uses 0 days, and a renewal
whose new term has not started has used nothing. The paid period runs from that start to
the expiry the line paid for. The refund net is the sum of (line net - used); the VAT is
computed once on it, as for orders.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from billing.money import ZERO, quantize, vat_of

WITHDRAWAL_DAYS = 14


def withdrawal_last_day(paid_on: date) -> date:
    """The last day (until 23:59 Europe/Rome) on which an order paid on `paid_on` may be
    withdrawn."""
    return paid_on + timedelta(days=WITHDRAWAL_DAYS)


def earliest_withdrawable_payment(today: date) -> date:
    """The first payment day whose withdrawal period is still open on `today`."""
    return today - timedelta(days=WITHDRAWAL_DAYS)


def withdrawal_open(*, paid_on: date, today: date) -> bool:
    return paid_on <= today <= withdrawal_last_day(paid_on)


@dataclass(frozen=True)
class ServiceLine:
    """One paid line of an order and the period of service it paid for."""

    description: str
    net: Decimal
    starts_on: date
    ends_on: date


@dataclass(frozen=True)
class LineRefund:
    line: ServiceLine
    days_used: int
    days_paid: int
    used: Decimal

    @property
    def refund(self) -> Decimal:
        return self.line.net - self.used


@dataclass(frozen=True)
class WithdrawalRefund:
    lines: tuple[LineRefund, ...]

    @property
    def paid_net(self) -> Decimal:
        return quantize(sum((r.line.net for r in self.lines), ZERO))

    @property
    def used(self) -> Decimal:
        return quantize(sum((r.used for r in self.lines), ZERO))

    @property
    def net(self) -> Decimal:
        """What is refunded, before VAT (never below zero)."""
        return max(quantize(sum((r.refund for r in self.lines), ZERO)), ZERO)

    @property
    def vat(self) -> Decimal:
        return vat_of(self.net)

    @property
    def total(self) -> Decimal:
        return self.net + self.vat


def days_used(line: ServiceLine, withdrawn_on: date) -> int:
    """Whole days of service from the line's start to the withdrawal day, within its period."""
    days_paid = (line.ends_on - line.starts_on).days
    return min(max((withdrawn_on - line.starts_on).days, 0), max(days_paid, 0))


def line_refund(line: ServiceLine, withdrawn_on: date) -> LineRefund:
    days_paid = (line.ends_on - line.starts_on).days
    if days_paid <= 0:
        raise ValueError(f"{line.description}: il periodo pagato è vuoto.")
    used_days = days_used(line, withdrawn_on)
    used = quantize(line.net * used_days / Decimal(days_paid))
    return LineRefund(line=line, days_used=used_days, days_paid=days_paid, used=used)


def withdrawal_refund(lines, *, withdrawn_on: date) -> WithdrawalRefund:
    """The refund of an order withdrawn on `withdrawn_on`, line by line."""
    return WithdrawalRefund(tuple(line_refund(line, withdrawn_on) for line in lines))
