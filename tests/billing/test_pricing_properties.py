"""Properties of the pricing engine over the catalogue of docs/product-rules.md, checked with hypothesis.

Every generated case is a valid one (held and added quantities within the tier maxima), so
each property is checked on quotes the engine must accept. Dates come from a bounded range
and `today` is always passed in.
"""

from datetime import date, timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from hypothesis import given, settings
from hypothesis import strategies as st

from billing.money import quantize
from billing.pricing import (
    line_net,
    quote_addon_purchase,
    quote_new_mailbox,
    quote_renewal,
    quote_upgrade,
    rateo_months,
)
from mailboxes.terms import add_years, grace_ends_on
from tests.conftest import domain_catalogue

CATALOGUE = domain_catalogue()
TIERS = sorted(CATALOGUE.tiers)
FIRST_DAY = date(2024, 1, 1)
LAST_DAY = date(2032, 12, 31)
ONE_DAY = timedelta(days=1)

PROPERTY = settings(max_examples=200, deadline=None, database=None)


def sold_on(tier: str) -> dict[str, int]:
    """The add-ons sold on a tier, each with its maximum."""
    return {
        code: rule.max_quantity
        for (tier_code, code), rule in sorted(CATALOGUE.rules.items())
        if tier_code == tier and rule.sold
    }


def assert_well_formed(quote):
    """Two decimals on every line and on the totals; VAT once on the net; total = net + VAT."""
    for line in quote.lines:
        assert isinstance(line.net, Decimal)
        assert line.net.as_tuple().exponent == -2
    assert quote.net.as_tuple().exponent == -2
    assert quote.vat == quantize(quote.net * 22 / 100)
    assert quote.total == quote.net + quote.vat
    assert quote.total.as_tuple().exponent == -2


def assert_not_negative(quote):
    assert quote.net >= 0
    assert quote.vat >= 0
    assert quote.total >= 0


# --- strategies ---------------------------------------------------------------------------


@st.composite
def term_dates(draw):
    """(expires_on, today) with today before the expiry and the expiry within 5 years."""
    today = draw(st.dates(min_value=FIRST_DAY, max_value=LAST_DAY))
    expires_on = draw(st.dates(min_value=today + ONE_DAY, max_value=add_years(today, 5)))
    return expires_on, today


@st.composite
def purchases(draw):
    """A valid Acquista / Aumenta: tier, held add-ons and at least one add-on to add."""
    tier = draw(st.sampled_from(TIERS))
    sold = sold_on(tier)
    bought = draw(st.sampled_from(sorted(sold)))
    held: dict[str, int] = {}
    add: dict[str, int] = {}
    for code, most in sold.items():
        held[code] = draw(st.integers(0, most - 1 if code == bought else most))
        room = most - held[code]
        if room and (code == bought or draw(st.booleans())):
            add[code] = draw(st.integers(1, room))
    expires_on, today = draw(term_dates())
    return {"tier": tier, "held": held, "add": add, "expires_on": expires_on, "today": today}


@st.composite
def renewals(draw):
    """A valid renewal, before the expiry or in the grace period, maybe with a tier change."""
    tier = draw(st.sampled_from(TIERS))
    to_tier = draw(st.sampled_from([None, *TIERS]))
    target = to_tier or tier
    sold, sold_on_target = sold_on(tier), sold_on(target)
    held: dict[str, int] = {}
    keep: dict[str, int] = {}
    add: dict[str, int] = {}
    for code, most in sold.items():
        if code in sold_on_target:
            most = min(most, sold_on_target[code])
        held[code] = draw(st.integers(0, most))
        if held[code] and draw(st.booleans()):
            keep[code] = draw(st.integers(0, held[code]))
    for code, most in sold_on_target.items():
        if code in keep:
            continue
        room = most - held.get(code, 0)
        if room and draw(st.booleans()):
            add[code] = draw(st.integers(1, room))
    expires_on = draw(st.dates(min_value=FIRST_DAY, max_value=LAST_DAY))
    today = draw(
        st.dates(
            min_value=add_years(expires_on, -5),
            max_value=grace_ends_on(expires_on) - ONE_DAY,
        )
    )
    return {
        "tier": tier,
        "to_tier": to_tier,
        "years": draw(st.integers(1, 5)),
        "held": held,
        "keep": keep,
        "add": add,
        "expires_on": expires_on,
        "today": today,
        "confirm_archive_loss": True,
    }


@st.composite
def new_mailboxes(draw):
    tier = draw(st.sampled_from(TIERS))
    addons = {
        code: draw(st.integers(1, most))
        for code, most in sold_on(tier).items()
        if draw(st.booleans())
    }
    return {"tier": tier, "years": draw(st.integers(1, 5)), "addons": addons}


@st.composite
def upgrades(draw):
    tier, to_tier = draw(
        st.sampled_from(
            [
                (a, b)
                for a in TIERS
                for b in TIERS
                if CATALOGUE.tier(a).rank < CATALOGUE.tier(b).rank
            ]
        )
    )
    sold_after = sold_on(to_tier)
    held = {}
    for code, most in sold_on(tier).items():
        rule_after = CATALOGUE.rule(to_tier, code)
        # what the new tier includes is credited; what it sells must fit its maximum
        cap = most if not rule_after.sold else min(most, sold_after[code])
        held[code] = draw(st.integers(0, cap))
    expires_on, today = draw(term_dates())
    return {
        "tier": tier,
        "to_tier": to_tier,
        "held": held,
        "expires_on": expires_on,
        "today": today,
    }


# --- amounts are never negative and always well formed --------------------------------------


@PROPERTY
@given(purchases())
def test_an_add_on_purchase_is_never_negative_and_always_well_formed(case):
    quote = quote_addon_purchase(CATALOGUE, **case)
    assert_not_negative(quote)
    assert_well_formed(quote)
    assert all(line.net >= 0 for line in quote.lines)


@PROPERTY
@given(renewals())
def test_a_renewal_is_never_negative_and_always_well_formed(case):
    quote = quote_renewal(CATALOGUE, **case)
    assert_not_negative(quote)
    assert_well_formed(quote)
    assert all(line.net >= 0 for line in quote.lines)


@PROPERTY
@given(upgrades())
def test_an_upgrade_is_never_negative_overall_and_always_well_formed(case):
    quote = quote_upgrade(CATALOGUE, **case)
    assert_not_negative(quote)
    assert_well_formed(quote)


@PROPERTY
@given(new_mailboxes())
def test_a_new_mailbox_is_never_negative_and_always_well_formed(case):
    quote = quote_new_mailbox(CATALOGUE, **case)
    assert_not_negative(quote)
    assert_well_formed(quote)


# --- the rateo --------------------------------------------------------------------------------


@PROPERTY
@given(term_dates())
def test_the_rateo_is_between_1_and_60_months_for_an_expiry_within_5_years(dates):
    expires_on, today = dates
    assert 1 <= rateo_months(expires_on, today) <= 60


@PROPERTY
@given(st.dates(min_value=FIRST_DAY, max_value=LAST_DAY), st.integers(1, 60))
def test_the_rateo_of_a_whole_number_of_months_is_that_number(today, months):
    assert rateo_months(today + relativedelta(months=months), today) == months


@PROPERTY
@given(purchases())
def test_each_purchase_line_is_the_rateo_of_its_units_rounded_to_the_cent(case):
    quote = quote_addon_purchase(CATALOGUE, **case)
    months = rateo_months(case["expires_on"], case["today"])
    assert quote.months == months
    assert {line.code: line.quantity for line in quote.lines} == case["add"]
    for line in quote.lines:
        price = CATALOGUE.addon(line.code).price_per_year
        assert line.months == months
        assert line.net == quantize(price * line.quantity * months / Decimal(12))


# --- monotone in time and in quantity -----------------------------------------------------


@PROPERTY
@given(purchases(), st.integers(0, 5 * 366))
def test_buying_earlier_before_the_same_expiry_never_costs_less(case, days_earlier):
    later = quote_addon_purchase(CATALOGUE, **case)
    earlier_today = max(case["today"] - timedelta(days=days_earlier), FIRST_DAY)
    earlier = quote_addon_purchase(CATALOGUE, **{**case, "today": earlier_today})
    assert earlier.months >= later.months
    assert earlier.net >= later.net


@PROPERTY
@given(renewals(), st.integers(0, 5 * 366))
def test_renewing_earlier_before_the_same_expiry_never_costs_less(case, days_earlier):
    later = quote_renewal(CATALOGUE, **case)
    earlier_today = case["today"] - timedelta(days=days_earlier)
    earlier = quote_renewal(CATALOGUE, **{**case, "today": earlier_today})
    assert earlier.net >= later.net


@PROPERTY
@given(
    st.sampled_from([(tier, code) for tier in TIERS for code in sold_on(tier)]),
    st.data(),
    term_dates(),
)
def test_buying_more_units_never_costs_less(tier_code, data, dates):
    tier, code = tier_code
    most = sold_on(tier)[code]
    fewer = data.draw(st.integers(1, most))
    more = data.draw(st.integers(fewer, most))
    expires_on, today = dates

    def price(quantity):
        return quote_addon_purchase(
            CATALOGUE, tier=tier, expires_on=expires_on, today=today, held={}, add={code: quantity}
        ).net

    assert price(more) >= price(fewer)


# --- full-year prices ---------------------------------------------------------------------


@PROPERTY
@given(new_mailboxes())
def test_a_new_mailbox_costs_its_years_times_the_tier_and_add_ons_exactly(case):
    quote = quote_new_mailbox(CATALOGUE, **case)
    yearly = CATALOGUE.tier(case["tier"]).price_per_year + sum(
        (CATALOGUE.addon(code).price_per_year * q for code, q in case["addons"].items()),
        Decimal("0"),
    )
    assert quote.net == case["years"] * yearly
    assert quote.months == 12 * case["years"]


@PROPERTY
@given(renewals())
def test_a_plain_renewal_costs_its_years_times_the_tier_and_held_add_ons_exactly(case):
    case = {**case, "to_tier": None, "keep": {}, "add": {}}
    quote = quote_renewal(CATALOGUE, **case)
    yearly = CATALOGUE.tier(case["tier"]).price_per_year + sum(
        (CATALOGUE.addon(code).price_per_year * q for code, q in case["held"].items()),
        Decimal("0"),
    )
    assert quote.net == case["years"] * yearly
    assert all(line.months == 12 * case["years"] for line in quote.lines)


@PROPERTY
@given(st.sampled_from(TIERS), st.integers(1, 100), st.integers(1, 60))
def test_a_line_net_is_never_more_than_half_a_cent_from_the_exact_amount(tier, quantity, months):
    price = CATALOGUE.tier(tier).price_per_year
    exact = price * quantity * months / Decimal(12)
    assert abs(line_net(price, quantity, months) - exact) <= Decimal("0.005")
