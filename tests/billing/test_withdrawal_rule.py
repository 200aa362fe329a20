"""The withdrawal's refund rule and period, with no database: explicit dates in a table."""

from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing.withdrawal_rule import (
    ServiceLine,
    withdrawal_last_day,
    withdrawal_open,
    withdrawal_refund,
)

PAID = date(2026, 11, 25)


def line(net, start, end, description="riga"):
    return ServiceLine(description, D(net), start, end)


@pytest.mark.parametrize(
    "case, lines, withdrawn_on, used, net, vat, total",
    [
        (
            "same day: a new Pro mailbox for 2 years with 5 GB Conservazione, nothing used",
            [
                line("49.80", PAID, date(2028, 11, 25)),
                line("40.00", PAID, date(2028, 11, 25)),
            ],
            PAID,
            "0.00",
            "89.80",
            "19.76",
            "109.56",
        ),
        (
            "day 7 of a one-year Pro mailbox: 24.90 x 7 / 365 = 0.48 used",
            [line("24.90", PAID, date(2027, 11, 25))],
            date(2026, 12, 2),
            "0.48",
            "24.42",
            "5.37",
            "29.79",
        ),
        (
            "day 14, the last day: 24.90 x 14 / 365 = 0.96 used",
            [line("24.90", PAID, date(2027, 11, 25))],
            date(2026, 12, 9),
            "0.96",
            "23.94",
            "5.27",
            "29.21",
        ),
        (
            "a leap year: 366 days paid, 100.00 x 10 / 366 = 2.73 (2.74 in 365 days)",
            [line("100.00", date(2028, 2, 1), date(2029, 2, 1))],
            date(2028, 2, 11),
            "2.73",
            "97.27",
            "21.40",
            "118.67",
        ),
        (
            "activated on 29 February: the term ends on 28 February, 365 days",
            [line("100.00", date(2028, 2, 29), date(2029, 2, 28))],
            date(2028, 3, 10),
            "2.74",
            "97.26",
            "21.40",
            "118.66",
        ),
        (
            "a renewal whose new term has not started used nothing; its rateo line did",
            [
                line("24.90", date(2027, 5, 25), date(2028, 5, 25)),
                line("20.00", date(2027, 5, 25), date(2028, 5, 25)),
                line("10.00", PAID, date(2027, 5, 25)),
            ],
            date(2026, 11, 30),
            "0.28",
            "54.62",
            "12.02",
            "66.64",
        ),
        (
            "an upgrade with a credited SMS line on day 7: the credit's used share is negative",
            [
                line("7.50", PAID, date(2027, 5, 25)),
                line("-2.00", PAID, date(2027, 5, 25)),
            ],
            date(2026, 12, 2),
            "0.21",
            "5.29",
            "1.16",
            "6.45",
        ),
        (
            "an upgrade with a credited SMS line on the same day: all of it back",
            [
                line("7.50", PAID, date(2027, 5, 25)),
                line("-2.00", PAID, date(2027, 5, 25)),
            ],
            PAID,
            "0.00",
            "5.50",
            "1.21",
            "6.71",
        ),
    ],
)
def test_the_refund_is_what_was_paid_minus_the_days_used(
    case, lines, withdrawn_on, used, net, vat, total
):
    refund = withdrawal_refund(lines, withdrawn_on=withdrawn_on)
    assert (refund.used, refund.net, refund.vat, refund.total) == (
        D(used),
        D(net),
        D(vat),
        D(total),
    ), case
    assert refund.total == refund.net + refund.vat


def test_each_line_says_its_days_and_its_used_share():
    refund = withdrawal_refund(
        [line("7.50", PAID, date(2027, 5, 25)), line("-2.00", PAID, date(2027, 5, 25))],
        withdrawn_on=date(2026, 12, 2),
    )
    upgrade, credit = refund.lines
    assert (upgrade.days_used, upgrade.days_paid, upgrade.used, upgrade.refund) == (
        7,
        181,
        D("0.29"),
        D("7.21"),
    )
    # ROUND_HALF_UP rounds halves away from zero: -0.0773... is -0.08
    assert (credit.used, credit.refund) == (D("-0.08"), D("-1.92"))
    assert refund.paid_net == D("5.50")


def test_a_withdrawal_after_the_end_of_the_paid_period_uses_it_all():
    refund = withdrawal_refund(
        [line("10.00", PAID, date(2026, 12, 5))], withdrawn_on=PAID.replace(day=28)
    )
    assert refund.lines[0].days_used == 3
    refund = withdrawal_refund(
        [line("10.00", PAID, date(2026, 12, 5))], withdrawn_on=date(2027, 1, 1)
    )
    assert (refund.lines[0].days_used, refund.net) == (10, D("0.00"))


def test_an_empty_paid_period_is_refused():
    with pytest.raises(ValueError):
        withdrawal_refund([line("10.00", PAID, PAID)], withdrawn_on=PAID)


@pytest.mark.parametrize(
    "paid_on, today, is_open",
    [
        (PAID, PAID, True),
        (PAID, date(2026, 12, 2), True),
        (PAID, date(2026, 12, 9), True),  # the 14th day after payment
        (PAID, date(2026, 12, 10), False),  # the 15th
        (PAID, date(2026, 11, 24), False),
        (date(2028, 2, 20), date(2028, 3, 5), True),  # across 29 February 2028
        (date(2028, 2, 20), date(2028, 3, 6), False),
        (date(2026, 12, 25), date(2027, 1, 8), True),  # across the new year
    ],
)
def test_the_period_runs_to_the_14th_day_after_payment(paid_on, today, is_open):
    assert withdrawal_open(paid_on=paid_on, today=today) is is_open


def test_the_last_day_is_14_days_after_payment():
    assert withdrawal_last_day(PAID) == date(2026, 12, 9)


# --- properties -------------------------------------------------------------------------------

positive_lines = st.lists(
    st.tuples(
        st.decimals(min_value=D("0.01"), max_value=D("5000.00"), places=2),
        st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31)),
        st.integers(min_value=1, max_value=5 * 366),
    ),
    min_size=1,
    max_size=6,
)


def _lines(raw):
    return [line(str(net), start, start + timedelta(days=days)) for net, start, days in raw]


@settings(max_examples=200, deadline=None)
@given(raw=positive_lines, offset=st.integers(min_value=-30, max_value=2000))
def test_the_refund_is_never_negative_nor_above_what_was_paid(raw, offset):
    lines = _lines(raw)
    withdrawn_on = lines[0].starts_on + timedelta(days=offset)
    refund = withdrawal_refund(lines, withdrawn_on=withdrawn_on)
    assert D("0.00") <= refund.net <= refund.paid_net
    assert refund.total == refund.net + refund.vat
    assert all(D("0.00") <= r.used <= r.line.net for r in refund.lines)


@settings(max_examples=200, deadline=None)
@given(raw=positive_lines, day=st.integers(min_value=0, max_value=400))
def test_a_later_withdrawal_never_refunds_more(raw, day):
    lines = _lines(raw)
    start = min(item.starts_on for item in lines)
    earlier = withdrawal_refund(lines, withdrawn_on=start + timedelta(days=day))
    later = withdrawal_refund(lines, withdrawn_on=start + timedelta(days=day + 1))
    assert later.net <= earlier.net
