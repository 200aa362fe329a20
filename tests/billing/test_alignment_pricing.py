"""The co-termination rule ("Allinea le scadenze") on the DOMAIN.md catalogue, no database.

Time is always an argument: every test names its own `today`.
"""

from datetime import date
from decimal import Decimal

import pytest

from billing.alignment import (
    MAX_ALIGNMENT_MONTHS,
    AlignedMailbox,
    alignment_months,
    quote_alignment,
    quote_mailbox_alignment,
)
from billing.pricing import PricingError

D = Decimal
TODAY = date(2026, 11, 25)


@pytest.mark.parametrize(
    "expires_on, target, months",
    [
        (date(2027, 5, 25), date(2028, 5, 25), 12),  # exactly one year
        (date(2027, 5, 25), date(2027, 5, 26), 1),  # one day: a started month
        (date(2027, 5, 25), date(2027, 6, 24), 1),  # less than a month after the expiry
        (date(2027, 5, 25), date(2027, 6, 25), 1),  # exactly a month
        (date(2027, 5, 25), date(2027, 6, 26), 2),  # a month and a day
        (date(2027, 1, 31), date(2027, 2, 28), 1),  # the 31st to the end of February
        (date(2027, 1, 31), date(2027, 3, 1), 2),  # ... and a day more
        (date(2027, 1, 31), date(2027, 3, 31), 2),  # the 31st to the 31st
        (date(2027, 3, 31), date(2027, 4, 30), 1),  # the 31st to a 30-day month's end
        (date(2026, 11, 30), date(2027, 2, 28), 3),  # February shorter than the 30th
        (date(2028, 2, 29), date(2028, 3, 29), 1),  # leap day, one month
        (date(2028, 2, 29), date(2029, 2, 28), 12),  # leap day to the next 28 February
        (date(2027, 2, 28), date(2028, 2, 29), 13),  # into a leap day: a year and a day
        (date(2026, 12, 15), date(2027, 1, 10), 1),  # across the new year, 26 days
        (date(2027, 5, 25), date(2032, 5, 25), 60),  # the longest alignment
    ],
)
def test_the_months_run_from_the_expiry_to_the_target_a_started_month_counting_whole(
    expires_on, target, months
):
    assert alignment_months(expires_on, target) == months


def _box(address="a@pec.it", tier="pro", expires_on=date(2027, 5, 25), held=None, expired=False):
    return AlignedMailbox(address, tier, expires_on, held or {}, expired)


@pytest.mark.parametrize(
    "tier, held, expires_on, target, months, unit, net",
    [
        # Pro 24.90, 6 months: 12.45
        ("pro", {}, date(2027, 5, 25), date(2027, 11, 25), 6, "24.90", "12.45"),
        # Pro + 5 GB Conservazione (20.00) = 44.90, 6 months: 22.45
        ("pro", {"CONSERVAZIONE": 5}, date(2027, 5, 25), date(2027, 11, 25), 6, "44.90", "22.45"),
        # Standard 9.90 + SMS 4.00 = 13.90, 7 months (6 and a day): 8.108... -> 8.11
        ("standard", {"SMS": 1}, date(2027, 5, 25), date(2027, 11, 26), 7, "13.90", "8.11"),
        # Premium 39.90 + 2 users 12.00 = 51.90, one day after the expiry: a month, 4.325 -> 4.33
        ("premium", {"MULTIUTENTE": 2}, date(2027, 1, 31), date(2027, 2, 1), 1, "51.90", "4.33"),
        # Standard 9.90, the 31st to 28 February: a month, 0.825 -> 0.83 (half up)
        ("standard", {}, date(2027, 1, 31), date(2027, 2, 28), 1, "9.90", "0.83"),
        # Pro, 60 months: 5 x 24.90
        ("pro", {}, date(2027, 5, 25), date(2032, 5, 25), 60, "24.90", "124.50"),
    ],
)
def test_each_mailbox_pays_tier_and_kept_addons_for_its_months_rounded_per_line(
    catalogue, tier, held, expires_on, target, months, unit, net
):
    quote = quote_mailbox_alignment(
        catalogue, _box(tier=tier, held=held, expires_on=expires_on), target=target, today=TODAY
    )
    (line,) = quote.lines
    assert (line.months, line.unit_price, line.net) == (months, D(unit), D(net))
    assert line.kind == "alignment" and line.quantity == 1
    assert "a@pec.it" in line.description


def test_vat_is_computed_once_on_the_order_not_per_line(catalogue):
    # Three lines of 0.83 each: per-line VAT would be 3 x 0.18 = 0.54; once on 2.49 it is 0.55.
    boxes = [_box(f"{n}@pec.it", "standard", date(2027, 1, 31)) for n in ("uno", "due", "tre")]
    quote = quote_alignment(catalogue, boxes, target=date(2027, 2, 28), today=TODAY)
    assert [row.net for row in quote.rows] == [D("0.83")] * 3
    assert (quote.net, quote.vat, quote.total) == (D("2.49"), D("0.55"), D("3.04"))


def test_three_mailboxes_with_different_expiries_and_tiers_line_up_on_one_date(catalogue):
    boxes = [
        _box("uno@pec.it", "standard", date(2026, 12, 10), {"SMS": 1}),
        _box("due@pec.it", "pro", date(2027, 3, 31), {"CONSERVAZIONE": 5}),
        _box("tre@pec.it", "premium", date(2027, 6, 1)),
    ]
    quote = quote_alignment(catalogue, boxes, target=date(2027, 12, 31), today=TODAY)
    # 13.90 x 13 / 12 = 15.058 -> 15.06; 44.90 x 9 / 12 = 33.675 -> 33.68;
    # 39.90 x 7 / 12 = 23.275 -> 23.28 (6 months and 30 days)
    assert [(r.address, r.months, r.net) for r in quote.rows] == [
        ("uno@pec.it", 13, D("15.06")),
        ("due@pec.it", 9, D("33.68")),
        ("tre@pec.it", 7, D("23.28")),
    ]
    assert (quote.net, quote.vat, quote.total) == (D("72.02"), D("15.84"), D("87.86"))


def test_an_expired_mailbox_in_grace_counts_from_its_expiry(catalogue):
    box = _box(expires_on=date(2026, 11, 1), expired=True)
    quote = quote_mailbox_alignment(catalogue, box, target=date(2027, 11, 1), today=TODAY)
    assert quote.lines[0].months == 12
    assert quote.lines[0].net == D("24.90")


def test_an_expired_mailbox_past_its_grace_cannot_be_aligned(catalogue):
    box = _box(expires_on=date(2026, 8, 1), expired=True)
    with pytest.raises(PricingError, match="più di 90 giorni"):
        quote_mailbox_alignment(catalogue, box, target=date(2027, 8, 1), today=TODAY)


@pytest.mark.parametrize(
    "target", [date(2027, 5, 25), date(2027, 5, 24), date(2027, 1, 1)], ids=str
)
def test_the_target_must_be_later_than_every_selected_expiry(catalogue, target):
    boxes = [_box("uno@pec.it", expires_on=date(2026, 12, 31)), _box("due@pec.it")]
    with pytest.raises(PricingError, match="successiva alla scadenza di due@pec.it") as error:
        quote_alignment(catalogue, boxes, target=target, today=TODAY)
    assert error.value.field == "target"


def test_the_target_must_be_in_the_future(catalogue):
    box = _box(expires_on=date(2026, 11, 1), expired=True)
    with pytest.raises(PricingError, match="successiva a oggi"):
        quote_mailbox_alignment(catalogue, box, target=TODAY, today=TODAY)


def test_at_most_sixty_months_are_added_to_a_mailbox(catalogue):
    box = _box(expires_on=date(2027, 5, 25))
    quote_mailbox_alignment(catalogue, box, target=date(2032, 5, 25), today=TODAY)
    with pytest.raises(
        PricingError, match=f"al massimo se ne possono aggiungere {MAX_ALIGNMENT_MONTHS}"
    ):
        quote_mailbox_alignment(catalogue, box, target=date(2032, 5, 26), today=TODAY)


def test_an_empty_selection_or_a_mailbox_twice_is_refused(catalogue):
    with pytest.raises(PricingError, match="almeno una casella"):
        quote_alignment(catalogue, [], target=date(2028, 1, 1), today=TODAY)
    with pytest.raises(PricingError, match="due volte"):
        quote_alignment(catalogue, [_box(), _box()], target=date(2028, 1, 1), today=TODAY)


def test_an_addon_the_tier_does_not_sell_is_refused(catalogue):
    box = _box(tier="standard", held={"ARCHIVIO": 2})
    with pytest.raises(PricingError, match="non è disponibile"):
        quote_mailbox_alignment(catalogue, box, target=date(2028, 1, 1), today=TODAY)
