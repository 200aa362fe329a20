"""The pricing engine against the rules of docs/product-rules.md, on its catalogue (no database).

Time is always an argument: every test names its own `today`.
"""

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import partial

import pytest

from billing.pricing import (
    Line,
    PricingError,
    Usage,
    check_fits,
    gb_to_free,
    line_net,
    quota_gb,
    quote_addon_purchase,
    quote_change,
    quote_new_mailbox,
    quote_renewal,
    quote_upgrade,
    rateo_months,
    totals,
)
from mailboxes.terms import GRACE_DAYS, add_years, grace_ends_on
from tests.conftest import domain_catalogue

D = Decimal

TODAY = date(2026, 11, 25)
SIX_MONTHS_LEFT = date(2027, 5, 25)  # the seed example: 6 months from TODAY
SEVEN_MONTHS_LEFT = date(2027, 5, 26)  # 6 months and a day: 7 months
EXPIRED_ON = date(2026, 11, 25)  # expires on TODAY: expired today


def rows(quote):
    """The lines of a quote as comparable tuples: (kind, code, quantity, months, net)."""
    return [(line.kind, line.code, line.quantity, line.months, line.net) for line in quote.lines]


def amounts(quote):
    return quote.net, quote.vat, quote.total


# --- the seed examples ------------------------------------------------------------------


@pytest.mark.parametrize("tier", ["standard", "pro", "premium"])
def test_it_charges_only_the_six_months_left_for_conservazione_bought_half_way_through_the_year(
    catalogue, tier
):
    quote = quote_addon_purchase(
        catalogue,
        tier=tier,
        expires_on=SIX_MONTHS_LEFT,
        today=TODAY,
        held={},
        add={"CONSERVAZIONE": 5},
    )
    assert quote.months == 6
    assert rows(quote) == [("addon", "CONSERVAZIONE", 5, 6, D("10.00"))]
    assert quote.lines[0].unit_price == D("4.00")
    assert amounts(quote) == (D("10.00"), D("2.20"), D("12.20"))


def test_it_counts_six_months_and_a_day_as_seven_months(catalogue):
    quote = quote_addon_purchase(
        catalogue,
        tier="standard",
        expires_on=SEVEN_MONTHS_LEFT,
        today=TODAY,
        held={},
        add={"CONSERVAZIONE": 5},
    )
    assert quote.months == 7
    assert rows(quote) == [("addon", "CONSERVAZIONE", 5, 7, D("11.67"))]
    assert amounts(quote) == (D("11.67"), D("2.57"), D("14.24"))


def test_renewing_pro_six_months_early_while_adding_5_gb_charges_rateo_and_the_new_year(catalogue):
    quote = quote_renewal(
        catalogue,
        tier="pro",
        expires_on=SIX_MONTHS_LEFT,
        today=TODAY,
        years=1,
        held={},
        add={"CONSERVAZIONE": 5},
    )
    assert rows(quote) == [
        ("renewal", "pro", 1, 12, D("24.90")),
        ("addon", "CONSERVAZIONE", 5, 6, D("10.00")),
        ("renewal_addon", "CONSERVAZIONE", 5, 12, D("20.00")),
    ]
    assert quote.months == 6
    assert amounts(quote) == (D("54.90"), D("12.08"), D("66.98"))


# --- dates: the rateo, the years, the grace period --------------------------------------


@pytest.mark.parametrize(
    ("expires_on", "today", "months"),
    [
        pytest.param(date(2027, 5, 25), date(2026, 11, 25), 6, id="seed-six-months-exactly"),
        pytest.param(date(2027, 5, 26), date(2026, 11, 25), 7, id="six-months-and-a-day"),
        pytest.param(date(2027, 5, 24), date(2026, 11, 25), 6, id="five-months-and-29-days"),
        pytest.param(date(2026, 11, 26), date(2026, 11, 25), 1, id="expiry-tomorrow"),
        pytest.param(date(2026, 12, 25), date(2026, 11, 25), 1, id="one-month-exactly"),
        pytest.param(date(2026, 12, 26), date(2026, 11, 25), 2, id="one-month-and-a-day"),
        pytest.param(date(2027, 11, 25), date(2026, 11, 25), 12, id="one-year-exactly"),
        pytest.param(date(2027, 11, 26), date(2026, 11, 25), 13, id="one-year-and-a-day"),
        pytest.param(date(2027, 1, 1), date(2026, 12, 31), 1, id="across-new-year-one-day"),
        pytest.param(date(2027, 1, 2), date(2026, 12, 1), 2, id="across-new-year-month-and-day"),
        pytest.param(date(2027, 2, 28), date(2027, 1, 31), 1, id="31-january-to-end-of-february"),
        pytest.param(date(2027, 3, 1), date(2027, 1, 31), 2, id="31-january-to-1-march"),
        pytest.param(date(2027, 3, 31), date(2027, 1, 31), 2, id="31-january-to-31-march"),
        pytest.param(date(2027, 4, 30), date(2027, 3, 31), 1, id="31-march-to-30-april"),
        pytest.param(date(2027, 5, 1), date(2027, 3, 31), 2, id="31-march-to-1-may"),
        pytest.param(date(2027, 3, 28), date(2027, 2, 28), 1, id="28-february-to-28-march"),
        pytest.param(date(2027, 3, 31), date(2027, 2, 28), 2, id="end-february-to-end-march"),
        pytest.param(date(2028, 2, 29), date(2028, 1, 31), 1, id="31-january-to-leap-day"),
        pytest.param(date(2028, 2, 29), date(2028, 1, 29), 1, id="one-month-to-leap-day"),
        pytest.param(date(2028, 2, 29), date(2028, 1, 28), 2, id="month-and-day-to-leap-day"),
        pytest.param(date(2028, 3, 1), date(2028, 2, 29), 1, id="leap-day-to-1-march"),
        pytest.param(date(2029, 2, 28), date(2028, 2, 29), 12, id="leap-day-to-28-feb-next-year"),
        pytest.param(date(2029, 3, 1), date(2028, 2, 29), 13, id="leap-day-to-1-march-next-year"),
        pytest.param(date(2028, 2, 29), date(2027, 2, 28), 13, id="28-february-to-leap-day"),
        pytest.param(date(2032, 2, 29), date(2028, 2, 29), 48, id="leap-day-to-leap-day"),
        pytest.param(date(2031, 11, 24), date(2026, 11, 25), 60, id="five-years-less-a-day"),
        pytest.param(date(2031, 11, 25), date(2026, 11, 25), 60, id="five-years-exactly"),
        pytest.param(date(2031, 11, 26), date(2026, 11, 25), 61, id="five-years-and-a-day"),
    ],
)
def test_rateo_months_counts_the_months_left_with_a_started_month_counting_whole(
    expires_on, today, months
):
    assert rateo_months(expires_on, today) == months


@pytest.mark.parametrize(
    ("expires_on", "today"),
    [
        pytest.param(date(2026, 11, 25), date(2026, 11, 25), id="expiry-today"),
        pytest.param(date(2026, 11, 24), date(2026, 11, 25), id="expired-yesterday"),
        pytest.param(date(2025, 11, 25), date(2026, 11, 25), id="expired-a-year-ago"),
        pytest.param(date(2028, 2, 29), date(2028, 3, 1), id="expired-on-leap-day"),
    ],
)
def test_rateo_months_refuses_a_mailbox_expired_today_or_in_the_past(expires_on, today):
    with pytest.raises(PricingError) as raised:
        rateo_months(expires_on, today)
    assert raised.value.field == "expires"
    assert raised.value.message == (
        f"La casella è scaduta il {expires_on:%d/%m/%Y}: si può solo rinnovare."
    )


@pytest.mark.parametrize(
    ("start", "years", "end"),
    [
        pytest.param(date(2027, 5, 25), 1, date(2028, 5, 25), id="one-year"),
        pytest.param(date(2026, 11, 25), 5, date(2031, 11, 25), id="five-years"),
        pytest.param(date(2027, 12, 31), 2, date(2029, 12, 31), id="31-december"),
        pytest.param(date(2027, 2, 28), 1, date(2028, 2, 28), id="28-february-into-leap-year"),
        pytest.param(date(2028, 2, 29), 1, date(2029, 2, 28), id="leap-day-becomes-28-february"),
        pytest.param(date(2028, 2, 29), 3, date(2031, 2, 28), id="leap-day-three-years"),
        pytest.param(date(2028, 2, 29), 5, date(2033, 2, 28), id="leap-day-five-years"),
        pytest.param(date(2028, 2, 29), 4, date(2032, 2, 29), id="leap-day-into-a-leap-year"),
    ],
)
def test_add_years_moves_the_expiry_by_whole_years_and_29_february_becomes_28(start, years, end):
    assert add_years(start, years) == end


def test_the_grace_period_ends_90_days_after_the_expiry():
    assert GRACE_DAYS == 90
    assert grace_ends_on(date(2026, 11, 25)) == date(2027, 2, 23)
    assert grace_ends_on(date(2028, 2, 1)) == date(2028, 5, 1)  # a leap February in between


@pytest.mark.parametrize(
    ("unit_price", "quantity", "months", "net"),
    [
        (D("4.00"), 5, 6, D("10.00")),
        (D("4.00"), 5, 7, D("11.67")),  # 11.666...
        (D("4.00"), 1, 1, D("0.33")),
        (D("9.90"), 1, 1, D("0.83")),  # 0.825: the half goes up
        (D("0.30"), 1, 1, D("0.03")),  # 0.025: the half goes up
        (D("3.00"), 1, 12, D("3.00")),
        (D("24.90"), 1, 60, D("124.50")),
        (D("6.00"), 30, 60, D("900.00")),
    ],
)
def test_a_line_net_is_price_times_quantity_times_months_over_12_rounded_half_up(
    unit_price, quantity, months, net
):
    result = line_net(unit_price, quantity, months)
    assert result == net
    assert result.as_tuple().exponent == -2


# --- a new mailbox --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tier", "years", "net"),
    [
        ("standard", 1, D("9.90")),
        ("standard", 2, D("19.80")),
        ("standard", 3, D("29.70")),
        ("standard", 4, D("39.60")),
        ("standard", 5, D("49.50")),
        ("pro", 1, D("24.90")),
        ("pro", 2, D("49.80")),
        ("pro", 3, D("74.70")),
        ("pro", 4, D("99.60")),
        ("pro", 5, D("124.50")),
        ("premium", 1, D("39.90")),
        ("premium", 2, D("79.80")),
        ("premium", 3, D("119.70")),
        ("premium", 4, D("159.60")),
        ("premium", 5, D("199.50")),
    ],
)
def test_a_new_mailbox_costs_the_yearly_price_of_its_tier_times_the_years(
    catalogue, tier, years, net
):
    quote = quote_new_mailbox(catalogue, tier=tier, years=years)
    assert rows(quote) == [("tier", tier, 1, 12 * years, net)]
    assert quote.months == 12 * years
    assert quote.net == net
    assert quote.total == net + quote.vat


def test_a_new_mailbox_line_is_described_in_italian_with_anno_or_anni(catalogue):
    one = quote_new_mailbox(catalogue, tier="pro", years=1)
    three = quote_new_mailbox(catalogue, tier="pro", years=3)
    assert one.lines[0].description == "Casella PEC Pro, 1 anno"
    assert three.lines[0].description == "Casella PEC Pro, 3 anni"


def test_a_new_mailbox_with_add_ons_charges_each_add_on_for_the_whole_term(catalogue):
    quote = quote_new_mailbox(
        catalogue,
        tier="pro",
        years=2,
        addons={"CONSERVAZIONE": 5, "ARCHIVIO": 10, "SPAZIO": 3},
    )
    assert rows(quote) == [
        ("tier", "pro", 1, 24, D("49.80")),
        ("addon", "SPAZIO", 3, 24, D("18.00")),
        ("addon", "ARCHIVIO", 10, 24, D("60.00")),
        ("addon", "CONSERVAZIONE", 5, 24, D("40.00")),
    ]
    assert amounts(quote) == (D("167.80"), D("36.92"), D("204.72"))


def test_a_new_standard_mailbox_may_have_the_sms_notice(catalogue):
    quote = quote_new_mailbox(catalogue, tier="standard", years=3, addons={"SMS": 1})
    assert rows(quote) == [
        ("tier", "standard", 1, 36, D("29.70")),
        ("addon", "SMS", 1, 36, D("12.00")),
    ]
    assert quote.net == D("41.70")


@pytest.mark.parametrize("years", [0, 6, -1, 10, True, 1.5, "2", None])
def test_a_new_mailbox_refuses_a_term_outside_1_to_5_whole_years(catalogue, years):
    with pytest.raises(PricingError) as raised:
        quote_new_mailbox(catalogue, tier="pro", years=years)
    assert raised.value.field == "years"


def test_a_new_mailbox_of_0_or_6_years_is_refused_with_the_allowed_range(catalogue):
    for years in (0, 6):
        with pytest.raises(PricingError) as raised:
            quote_new_mailbox(catalogue, tier="standard", years=years)
        assert raised.value.message == f"La durata va da 1 a 5 anni (richiesti {years})."


@pytest.mark.parametrize(
    ("tier", "addons", "field"),
    [
        pytest.param("standard", {"ARCHIVIO": 1}, "addon", id="archivio-on-standard"),
        pytest.param("standard", {"MULTIUTENTE": 1}, "addon", id="multiutente-on-standard"),
        pytest.param("pro", {"MULTIUTENTE": 1}, "addon", id="multiutente-on-pro"),
        pytest.param("pro", {"SMS": 1}, "addon", id="sms-on-pro"),
        pytest.param("standard", {"SPAZIO": 2}, "quantity", id="spazio-over-max-on-standard"),
        pytest.param("premium", {"MULTIUTENTE": 31}, "quantity", id="multiutente-over-max"),
        pytest.param("pro", {"CONSERVAZIONE": 0}, "quantity", id="zero-quantity"),
        pytest.param("pro", {"CONSERVAZIONE": -1}, "quantity", id="negative-quantity"),
        pytest.param("pro", {"FAX": 1}, "addon", id="unknown-add-on"),
        pytest.param("gold", {}, "tier", id="unknown-tier"),
    ],
)
def test_a_new_mailbox_refuses_add_ons_the_catalogue_does_not_allow(catalogue, tier, addons, field):
    with pytest.raises(PricingError) as raised:
        quote_new_mailbox(catalogue, tier=tier, years=1, addons=addons)
    assert raised.value.field == field


# --- add-ons bought during the term (Acquista, Aumenta, Aggiungi utenti Multiutente) -------


def purchase(catalogue, tier, *, held=None, add, expires_on=SIX_MONTHS_LEFT, today=TODAY):
    return quote_addon_purchase(
        catalogue, tier=tier, expires_on=expires_on, today=today, held=held or {}, add=add
    )


@pytest.mark.parametrize(
    ("tier", "code", "message"),
    [
        (
            "standard",
            "ARCHIVIO",
            "Spazio aggiuntivo Archivio di sicurezza non è disponibile per la tipologia Standard.",
        ),
        (
            "standard",
            "MULTIUTENTE",
            "Utenti aggiuntivi Multiutente non è disponibile per la tipologia Standard.",
        ),
    ],
)
def test_it_refuses_an_add_on_not_sold_on_the_tier_and_says_so(catalogue, tier, code, message):
    with pytest.raises(PricingError) as raised:
        purchase(catalogue, tier, add={code: 1})
    assert raised.value.field == "addon"
    assert raised.value.message == message


@pytest.mark.parametrize(
    ("tier", "code", "name", "tier_name"),
    [
        ("pro", "SMS", "Avviso SMS di ricezione", "Pro"),
        ("premium", "SMS", "Avviso SMS di ricezione", "Premium"),
        ("pro", "MULTIUTENTE", "Utenti aggiuntivi Multiutente", "Pro"),
    ],
)
def test_it_refuses_an_add_on_the_tier_already_includes_and_says_it_is_included(
    catalogue, tier, code, name, tier_name
):
    with pytest.raises(PricingError) as raised:
        purchase(catalogue, tier, add={code: 1})
    assert raised.value.field == "addon"
    message = raised.value.message
    assert name in message
    assert f"tipologia {tier_name}" in message
    assert "già" in message  # "già incluso" / "include già"
    assert "non è disponibile" not in message


@pytest.mark.parametrize(
    ("tier", "code", "held", "add", "message"),
    [
        (
            "standard",
            "SPAZIO",
            1,
            1,
            "Spazio aggiuntivo casella: al massimo 1 GB per la tipologia Standard "
            "(richiesti 2 GB).",
        ),
        (
            "standard",
            "SPAZIO",
            0,
            2,
            "Spazio aggiuntivo casella: al massimo 1 GB per la tipologia Standard "
            "(richiesti 2 GB).",
        ),
        (
            "standard",
            "SMS",
            1,
            1,
            "Avviso SMS di ricezione: al massimo 1 servizio per la tipologia Standard "
            "(richiesti 2 servizi).",
        ),
        (
            "pro",
            "CONSERVAZIONE",
            95,
            6,
            "Conservazione PEC: al massimo 100 GB per la tipologia Pro (richiesti 101 GB).",
        ),
        (
            "pro",
            "ARCHIVIO",
            0,
            101,
            "Spazio aggiuntivo Archivio di sicurezza: al massimo 100 GB per la tipologia Pro "
            "(richiesti 101 GB).",
        ),
        (
            "premium",
            "MULTIUTENTE",
            28,
            3,
            "Utenti aggiuntivi Multiutente: al massimo 30 utenti per la tipologia Premium "
            "(richiesti 31 utenti).",
        ),
    ],
)
def test_it_refuses_to_go_over_the_tier_maximum_counting_what_is_already_held(
    catalogue, tier, code, held, add, message
):
    with pytest.raises(PricingError) as raised:
        purchase(catalogue, tier, held={code: held}, add={code: add})
    assert raised.value.field == "quantity"
    assert raised.value.message == message


@pytest.mark.parametrize(
    ("tier", "code", "held", "add", "net"),
    [
        ("standard", "SPAZIO", 0, 1, D("1.50")),
        ("standard", "SMS", 0, 1, D("2.00")),
        ("pro", "CONSERVAZIONE", 95, 5, D("10.00")),
        ("premium", "ARCHIVIO", 99, 1, D("1.50")),
        ("premium", "MULTIUTENTE", 28, 2, D("6.00")),
    ],
)
def test_it_sells_up_to_exactly_the_tier_maximum(catalogue, tier, code, held, add, net):
    quote = purchase(catalogue, tier, held={code: held}, add={code: add})
    assert rows(quote) == [("addon", code, add, 6, net)]


@pytest.mark.parametrize("quantity", [0, -1, -100, True, False, 1.5, "5", None])
def test_it_refuses_a_quantity_that_is_not_a_positive_whole_number(catalogue, quantity):
    with pytest.raises(PricingError) as raised:
        purchase(catalogue, "pro", add={"CONSERVAZIONE": quantity})
    assert raised.value.field == "quantity"
    assert raised.value.message.startswith("La quantità deve essere un numero intero")


@pytest.mark.parametrize("held", [-1, True, 2.0])
def test_it_refuses_a_held_quantity_that_is_not_a_whole_number_from_zero(catalogue, held):
    with pytest.raises(PricingError) as raised:
        purchase(catalogue, "pro", held={"CONSERVAZIONE": held}, add={"SPAZIO": 1})
    assert raised.value.field == "quantity"


def test_it_refuses_held_add_ons_that_the_tier_cannot_have(catalogue):
    with pytest.raises(PricingError) as raised:
        purchase(catalogue, "standard", held={"ARCHIVIO": 5}, add={"CONSERVAZIONE": 1})
    assert raised.value.field == "addon"


def test_it_refuses_an_unknown_tier(catalogue):
    with pytest.raises(PricingError) as raised:
        purchase(catalogue, "gold", add={"CONSERVAZIONE": 1})
    assert raised.value.field == "tier"
    assert raised.value.message == (
        "Tipologia sconosciuta: «gold» (disponibili: premium, pro, standard)."
    )


def test_it_refuses_an_unknown_add_on_code(catalogue):
    with pytest.raises(PricingError) as raised:
        purchase(catalogue, "pro", add={"FAX": 1})
    assert raised.value.field == "addon"
    assert raised.value.message == (
        "Servizio aggiuntivo sconosciuto: «FAX» "
        "(disponibili: ARCHIVIO, CONSERVAZIONE, MULTIUTENTE, SMS, SPAZIO)."
    )


def test_it_refuses_a_purchase_of_nothing(catalogue):
    with pytest.raises(PricingError) as raised:
        purchase(catalogue, "pro", add={})
    assert raised.value.field == "addon"
    assert raised.value.message == "Scegli almeno un servizio da acquistare."


@pytest.mark.parametrize(
    "today",
    [EXPIRED_ON, date(2026, 12, 1), date(2027, 1, 15)],
    ids=["on-the-expiry-day", "a-week-after", "in-the-grace-period"],
)
def test_nothing_but_a_renewal_can_be_bought_once_the_mailbox_has_expired(catalogue, today):
    with pytest.raises(PricingError) as raised:
        purchase(catalogue, "pro", add={"CONSERVAZIONE": 1}, expires_on=EXPIRED_ON, today=today)
    assert raised.value.field == "expires"
    assert "si può solo rinnovare" in raised.value.message


def test_aumenta_charges_only_the_new_units_by_the_rateo(catalogue):
    quote = purchase(catalogue, "pro", held={"CONSERVAZIONE": 5}, add={"CONSERVAZIONE": 5})
    assert rows(quote) == [("addon", "CONSERVAZIONE", 5, 6, D("10.00"))]
    assert quote.lines[0].description == (
        "Aumento Conservazione PEC da 5 GB a 10 GB (+5 GB), rateo di 6 mesi"
    )


def test_acquista_describes_a_first_purchase_of_an_add_on(catalogue):
    quote = purchase(catalogue, "pro", add={"CONSERVAZIONE": 5})
    assert quote.lines[0].description == "Acquisto Conservazione PEC (5 GB), rateo di 6 mesi"


def test_several_add_ons_come_in_catalogue_order_each_with_its_rateo(catalogue):
    quote = purchase(
        catalogue,
        "pro",
        held={"SPAZIO": 1},
        add={"CONSERVAZIONE": 2, "SPAZIO": 4, "ARCHIVIO": 1},
        expires_on=SEVEN_MONTHS_LEFT,
    )
    assert rows(quote) == [
        ("addon", "SPAZIO", 4, 7, D("7.00")),
        ("addon", "ARCHIVIO", 1, 7, D("1.75")),
        ("addon", "CONSERVAZIONE", 2, 7, D("4.67")),
    ]
    assert quote.net == D("13.42")


def test_multiutente_users_can_be_added_on_premium(catalogue):
    quote = purchase(catalogue, "premium", held={"MULTIUTENTE": 1}, add={"MULTIUTENTE": 2})
    assert rows(quote) == [("addon", "MULTIUTENTE", 2, 6, D("6.00"))]
    assert quote.lines[0].description == (
        "Aumento Utenti aggiuntivi Multiutente da 1 utente a 3 utenti (+2 utenti), rateo di 6 mesi"
    )


@pytest.mark.parametrize("tier", ["standard", "pro"])
def test_multiutente_users_cannot_be_added_below_premium(catalogue, tier):
    with pytest.raises(PricingError) as raised:
        purchase(catalogue, tier, add={"MULTIUTENTE": 1})
    assert raised.value.field == "addon"
    assert "Multiutente" in raised.value.message


# --- upgrade during the term ------------------------------------------------------------


def upgrade(catalogue, tier, to_tier, *, held=None, add=None, expires_on=SIX_MONTHS_LEFT):
    return quote_upgrade(
        catalogue,
        tier=tier,
        to_tier=to_tier,
        expires_on=expires_on,
        today=TODAY,
        held=held or {},
        add=add,
    )


def test_an_upgrade_charges_the_rateo_of_the_price_difference_of_the_two_tiers(catalogue):
    quote = upgrade(catalogue, "pro", "premium", expires_on=SEVEN_MONTHS_LEFT)
    assert rows(quote) == [("upgrade", "premium", 1, 7, D("8.75"))]
    assert quote.lines[0].unit_price == D("15.00")
    assert quote.lines[0].description == "Upgrade da Pro a Premium, rateo di 7 mesi"
    assert quote.months == 7
    assert quote.notes == ()


def test_an_upgrade_from_standard_to_pro_credits_the_rateo_of_the_sms_notice_it_includes(
    catalogue,
):
    quote = upgrade(catalogue, "standard", "pro", held={"SMS": 1})
    assert rows(quote) == [
        ("upgrade", "pro", 1, 6, D("7.50")),
        ("credit", "SMS", 1, 6, D("-2.00")),
    ]
    assert quote.lines[1].kind == "credit"
    assert quote.lines[1].net < 0
    assert amounts(quote) == (D("5.50"), D("1.21"), D("6.71"))
    assert quote.notes == ("Avviso SMS di ricezione termina con l'upgrade: è incluso in Pro.",)


def test_an_upgrade_from_standard_to_premium_credits_the_sms_and_keeps_the_space(catalogue):
    quote = upgrade(catalogue, "standard", "premium", held={"SPAZIO": 1, "SMS": 1})
    assert rows(quote) == [
        ("upgrade", "premium", 1, 6, D("15.00")),
        ("credit", "SMS", 1, 6, D("-2.00")),
    ]
    assert quote.net == D("13.00")


def test_an_upgrade_may_buy_add_ons_of_the_new_tier_at_the_same_time(catalogue):
    quote = upgrade(catalogue, "standard", "pro", held={"SMS": 1}, add={"ARCHIVIO": 5})
    assert rows(quote) == [
        ("upgrade", "pro", 1, 6, D("7.50")),
        ("credit", "SMS", 1, 6, D("-2.00")),
        ("addon", "ARCHIVIO", 5, 6, D("7.50")),
    ]
    assert quote.net == D("13.00")


def test_an_upgrade_to_premium_may_add_multiutente_users(catalogue):
    quote = upgrade(catalogue, "pro", "premium", add={"MULTIUTENTE": 2})
    assert rows(quote) == [
        ("upgrade", "premium", 1, 6, D("7.50")),
        ("addon", "MULTIUTENTE", 2, 6, D("6.00")),
    ]


def test_an_upgrade_refuses_add_ons_the_new_tier_does_not_sell(catalogue):
    with pytest.raises(PricingError) as raised:
        upgrade(catalogue, "standard", "pro", add={"MULTIUTENTE": 1})
    assert raised.value.field == "addon"


@pytest.mark.parametrize(
    ("tier", "to_tier", "message"),
    [
        ("pro", "standard", "Il passaggio da Pro a Standard è possibile solo al rinnovo."),
        ("premium", "pro", "Il passaggio da Premium a Pro è possibile solo al rinnovo."),
        ("premium", "standard", "Il passaggio da Premium a Standard è possibile solo al rinnovo."),
    ],
)
def test_a_downgrade_during_the_term_is_refused(catalogue, tier, to_tier, message):
    with pytest.raises(PricingError) as raised:
        upgrade(catalogue, tier, to_tier)
    assert raised.value.field == "to_tier"
    assert raised.value.message == message


@pytest.mark.parametrize("tier", ["standard", "pro", "premium"])
def test_an_upgrade_to_the_same_tier_is_refused(catalogue, tier):
    with pytest.raises(PricingError) as raised:
        upgrade(catalogue, tier, tier)
    assert raised.value.field == "to_tier"
    assert raised.value.message.startswith("La casella è già di tipologia")


def test_an_upgrade_of_an_expired_mailbox_is_refused(catalogue):
    with pytest.raises(PricingError) as raised:
        quote_upgrade(
            catalogue,
            tier="standard",
            to_tier="pro",
            expires_on=EXPIRED_ON,
            today=date(2026, 12, 1),
            held={},
        )
    assert raised.value.field == "expires"


def test_an_upgrade_to_an_unknown_tier_is_refused(catalogue):
    with pytest.raises(PricingError) as raised:
        upgrade(catalogue, "standard", "gold")
    assert raised.value.field == "tier"


# --- renewal -----------------------------------------------------------------------------


def renewal(catalogue, tier, years=1, *, held=None, today=TODAY, expires_on=SIX_MONTHS_LEFT, **kw):
    return quote_renewal(
        catalogue,
        tier=tier,
        expires_on=expires_on,
        today=today,
        years=years,
        held=held or {},
        **kw,
    )


@pytest.mark.parametrize(
    ("years", "net"),
    [(1, D("13.90")), (2, D("27.80")), (3, D("41.70")), (4, D("55.60")), (5, D("69.50"))],
)
def test_a_renewal_costs_n_times_the_tier_and_the_held_add_ons_at_full_yearly_prices(
    catalogue, years, net
):
    quote = renewal(catalogue, "standard", years, held={"SMS": 1})
    assert rows(quote) == [
        ("renewal", "standard", 1, 12 * years, D("9.90") * years),
        ("renewal_addon", "SMS", 1, 12 * years, D("4.00") * years),
    ]
    assert quote.net == net


def test_a_renewal_keeps_every_held_add_on_in_catalogue_order(catalogue):
    quote = renewal(
        catalogue, "pro", 3, held={"CONSERVAZIONE": 5, "SPAZIO": 2, "ARCHIVIO": 1, "SMS": 0}
    )
    assert rows(quote) == [
        ("renewal", "pro", 1, 36, D("74.70")),
        ("renewal_addon", "SPAZIO", 2, 36, D("18.00")),
        ("renewal_addon", "ARCHIVIO", 1, 36, D("9.00")),
        ("renewal_addon", "CONSERVAZIONE", 5, 36, D("60.00")),
    ]
    assert amounts(quote) == (D("161.70"), D("35.57"), D("197.27"))
    assert quote.lines[0].description == "Rinnovo casella PEC Pro, 3 anni"


@pytest.mark.parametrize("years", [0, 6, -1, True])
def test_a_renewal_refuses_a_term_outside_1_to_5_years(catalogue, years):
    with pytest.raises(PricingError) as raised:
        renewal(catalogue, "pro", years)
    assert raised.value.field == "years"


@pytest.mark.parametrize(
    "today",
    [
        pytest.param(date(2026, 11, 25), id="on-the-expiry-day"),
        pytest.param(date(2026, 12, 10), id="two-weeks-after"),
        pytest.param(date(2027, 2, 22), id="day-89-after"),
    ],
)
def test_a_renewal_in_the_90_days_after_expiry_works_and_added_add_ons_pay_no_rateo(
    catalogue, today
):
    quote = renewal(
        catalogue,
        "pro",
        held={"SPAZIO": 1},
        expires_on=EXPIRED_ON,
        today=today,
        add={"CONSERVAZIONE": 5},
    )
    assert quote.months == 0
    assert rows(quote) == [
        ("renewal", "pro", 1, 12, D("24.90")),
        ("renewal_addon", "SPAZIO", 1, 12, D("3.00")),
        ("renewal_addon", "CONSERVAZIONE", 5, 12, D("20.00")),
    ]
    assert quote.net == D("47.90")


@pytest.mark.parametrize(
    "today",
    [
        pytest.param(date(2027, 2, 23), id="day-90-after"),
        pytest.param(date(2027, 2, 24), id="day-91-after"),
        pytest.param(date(2028, 1, 1), id="a-year-after"),
    ],
)
def test_a_renewal_from_day_90_after_expiry_is_refused(catalogue, today):
    with pytest.raises(PricingError) as raised:
        renewal(catalogue, "pro", expires_on=EXPIRED_ON, today=today)
    assert raised.value.field == "expires"
    assert raised.value.message == (
        "Sono passati più di 90 giorni dalla scadenza del 25/11/2026: "
        "la casella non si può più rinnovare."
    )


def test_a_renewal_long_before_expiry_charges_the_full_years_and_no_rateo(catalogue):
    quote = renewal(catalogue, "premium", 2, today=date(2026, 1, 10), held={"MULTIUTENTE": 2})
    assert rows(quote) == [
        ("renewal", "premium", 1, 24, D("79.80")),
        ("renewal_addon", "MULTIUTENTE", 2, 24, D("24.00")),
    ]


def test_keep_reduces_an_add_on_for_the_new_term(catalogue):
    quote = renewal(catalogue, "pro", held={"CONSERVAZIONE": 10}, keep={"CONSERVAZIONE": 4})
    assert rows(quote) == [
        ("renewal", "pro", 1, 12, D("24.90")),
        ("renewal_addon", "CONSERVAZIONE", 4, 12, D("16.00")),
    ]


def test_keep_zero_drops_an_add_on_at_the_renewal(catalogue):
    quote = renewal(catalogue, "standard", held={"SMS": 1, "SPAZIO": 1}, keep={"SMS": 0})
    assert rows(quote) == [
        ("renewal", "standard", 1, 12, D("9.90")),
        ("renewal_addon", "SPAZIO", 1, 12, D("3.00")),
    ]


def test_keep_above_what_is_held_is_refused(catalogue):
    with pytest.raises(PricingError) as raised:
        renewal(catalogue, "pro", held={"CONSERVAZIONE": 5}, keep={"CONSERVAZIONE": 6})
    assert raised.value.field == "quantity"
    assert raised.value.message == (
        "Conservazione PEC: per aumentare la quantità usa «aggiungi», non la riduzione."
    )


def test_keep_of_an_add_on_not_held_is_refused(catalogue):
    with pytest.raises(PricingError) as raised:
        renewal(catalogue, "pro", held={}, keep={"ARCHIVIO": 1})
    assert raised.value.field == "quantity"


def test_keep_and_add_on_the_same_code_are_refused_together(catalogue):
    with pytest.raises(PricingError) as raised:
        renewal(
            catalogue,
            "pro",
            held={"CONSERVAZIONE": 5},
            keep={"CONSERVAZIONE": 2},
            add={"CONSERVAZIONE": 1},
        )
    assert raised.value.field == "quantity"
    assert raised.value.message == (
        "Conservazione PEC: indica una riduzione o un aumento, non entrambi."
    )


@pytest.mark.parametrize(
    ("keep", "field"),
    [
        ({"CONSERVAZIONE": -1}, "quantity"),
        ({"CONSERVAZIONE": True}, "quantity"),
        ({"FAX": 0}, "addon"),
    ],
)
def test_keep_refuses_negative_quantities_and_unknown_codes(catalogue, keep, field):
    with pytest.raises(PricingError) as raised:
        renewal(catalogue, "pro", held={"CONSERVAZIONE": 5}, keep=keep)
    assert raised.value.field == field


def test_adding_at_renewal_on_the_same_tier_still_respects_the_tier_maximum(catalogue):
    with pytest.raises(PricingError) as raised:
        renewal(catalogue, "standard", held={"SPAZIO": 1}, add={"SPAZIO": 1})
    assert raised.value.field == "quantity"


def test_a_renewal_that_keeps_less_and_adds_another_add_on_prices_both_changes(catalogue):
    quote = renewal(
        catalogue,
        "pro",
        held={"CONSERVAZIONE": 10},
        keep={"CONSERVAZIONE": 2},
        add={"ARCHIVIO": 2},
    )
    assert rows(quote) == [
        ("renewal", "pro", 1, 12, D("24.90")),
        ("addon", "ARCHIVIO", 2, 6, D("3.00")),
        ("renewal_addon", "ARCHIVIO", 2, 12, D("6.00")),
        ("renewal_addon", "CONSERVAZIONE", 2, 12, D("8.00")),
    ]


# --- tier change at renewal ------------------------------------------------------------------


def test_renewing_down_to_standard_requires_confirming_the_loss_of_the_archive(catalogue):
    with pytest.raises(PricingError) as raised:
        renewal(catalogue, "pro", held={"ARCHIVIO": 5}, to_tier="standard")
    assert raised.value.field == "confirm_archive_loss"
    assert "Conferma esplicitamente" in raised.value.message


@pytest.mark.parametrize("tier", ["pro", "premium"])
def test_renewing_down_to_standard_needs_the_confirmation_even_without_archive_add_on(
    catalogue, tier
):
    with pytest.raises(PricingError) as raised:
        renewal(catalogue, tier, to_tier="standard")
    assert raised.value.field == "confirm_archive_loss"


def test_renewing_down_to_standard_drops_the_archive_with_a_note_once_confirmed(catalogue):
    quote = renewal(
        catalogue,
        "pro",
        held={"ARCHIVIO": 5, "CONSERVAZIONE": 2},
        to_tier="standard",
        confirm_archive_loss=True,
    )
    assert rows(quote) == [
        ("renewal", "standard", 1, 12, D("9.90")),
        ("renewal_addon", "CONSERVAZIONE", 2, 12, D("8.00")),
    ]
    assert quote.lines[0].description == "Rinnovo casella PEC Standard (da Pro), 1 anno"
    assert quote.notes == (
        "Spazio aggiuntivo Archivio di sicurezza termina al rinnovo: non è disponibile in Standard.",
    )


def test_renewing_standard_to_pro_drops_the_sms_notice_that_pro_includes(catalogue):
    quote = renewal(catalogue, "standard", held={"SMS": 1, "SPAZIO": 1}, to_tier="pro")
    assert rows(quote) == [
        ("renewal", "pro", 1, 12, D("24.90")),
        ("renewal_addon", "SPAZIO", 1, 12, D("3.00")),
    ]
    assert quote.notes == ("Avviso SMS di ricezione termina al rinnovo: è incluso in Pro.",)


def test_renewing_premium_down_to_pro_drops_multiutente_users_pro_does_not_sell(catalogue):
    quote = renewal(catalogue, "premium", 2, held={"MULTIUTENTE": 5, "ARCHIVIO": 1}, to_tier="pro")
    assert rows(quote) == [
        ("renewal", "pro", 1, 24, D("49.80")),
        ("renewal_addon", "ARCHIVIO", 1, 24, D("6.00")),
    ]
    assert len(quote.notes) == 1
    assert quote.notes == (
        "Utenti aggiuntivi Multiutente termina al rinnovo: Pro ne include 1 utente.",
    )


def test_add_ons_added_with_a_tier_change_start_with_the_new_term_without_rateo(catalogue):
    quote = renewal(catalogue, "standard", to_tier="premium", add={"MULTIUTENTE": 2})
    assert rows(quote) == [
        ("renewal", "premium", 1, 12, D("39.90")),
        ("renewal_addon", "MULTIUTENTE", 2, 12, D("12.00")),
    ]


def test_a_tier_change_at_renewal_refuses_holdings_over_the_new_tier_maximum(catalogue):
    with pytest.raises(PricingError) as raised:
        renewal(
            catalogue, "pro", held={"SPAZIO": 10}, to_tier="standard", confirm_archive_loss=True
        )
    assert raised.value.field == "quantity"
    assert "al massimo 1 GB per la tipologia Standard" in raised.value.message


def test_a_tier_change_at_renewal_accepts_holdings_reduced_to_the_new_tier_maximum(catalogue):
    quote = renewal(
        catalogue,
        "pro",
        held={"SPAZIO": 10},
        keep={"SPAZIO": 1},
        to_tier="standard",
        confirm_archive_loss=True,
    )
    assert quote.net == D("12.90")


def test_a_tier_change_at_renewal_refuses_adding_an_add_on_the_new_tier_includes(catalogue):
    with pytest.raises(PricingError) as raised:
        renewal(catalogue, "standard", to_tier="pro", add={"SMS": 1})
    assert raised.value.field == "addon"


# --- used space against the quotas -------------------------------------------------------


@pytest.mark.parametrize(
    ("used_mb", "quota", "to_free"),
    [
        (0, 0, 0),
        (0, 1, 0),
        (1024, 1, 0),
        (1025, 1, 1),
        (2048, 1, 1),
        (2049, 1, 2),
        (100, 0, 1),
        (5000, 2, 3),
        (10240, 3, 7),
    ],
)
def test_gb_to_free_is_the_whole_gb_that_must_be_deleted_to_fit(used_mb, quota, to_free):
    assert gb_to_free(used_mb, quota) == to_free


@pytest.mark.parametrize(
    ("tier", "holdings", "quota", "gb"),
    [
        ("standard", {}, "mailbox", 1),
        ("standard", {"SPAZIO": 1}, "mailbox", 2),
        ("pro", {"SPAZIO": 10}, "mailbox", 12),
        ("standard", {}, "archive", 0),
        ("pro", {}, "archive", 3),
        ("pro", {"ARCHIVIO": 5}, "archive", 8),
        ("premium", {}, "archive", 8),
        ("premium", {"CONSERVAZIONE": 7}, "conservation", 7),
        ("pro", {}, "conservation", 0),
    ],
)
def test_a_quota_is_the_gb_included_by_the_tier_plus_the_add_on_gb(
    catalogue, tier, holdings, quota, gb
):
    assert quota_gb(catalogue, tier, holdings, quota) == gb


def test_usage_reads_each_quota_in_mb():
    usage = Usage(mailbox_mb=1, archive_mb=2, conservation_mb=3)
    assert [usage.of(q) for q in ("mailbox", "archive", "conservation")] == [1, 2, 3]
    assert usage.of("elsewhere") == 0


def test_check_fits_says_how_many_gb_to_delete(catalogue):
    with pytest.raises(PricingError) as raised:
        check_fits(catalogue, "standard", {}, Usage(mailbox_mb=3000))
    assert raised.value.field == "quantity"
    assert raised.value.message == (
        "Lo spazio della casella usato non entra nei 1 GB richiesti: "
        "elimina almeno 2 GB di messaggi prima di procedere."
    )


def test_check_fits_accepts_usage_exactly_at_the_quota_and_skips_what_it_is_told(catalogue):
    check_fits(catalogue, "standard", {}, Usage(mailbox_mb=1024))
    check_fits(catalogue, "standard", {}, Usage(archive_mb=5000), skip=frozenset({"archive"}))
    with pytest.raises(PricingError):
        check_fits(catalogue, "standard", {}, Usage(archive_mb=5000))


def test_reducing_conservazione_at_renewal_is_refused_while_the_used_space_would_not_fit(
    catalogue,
):
    with pytest.raises(PricingError) as raised:
        renewal(
            catalogue,
            "pro",
            held={"CONSERVAZIONE": 10},
            keep={"CONSERVAZIONE": 2},
            usage=Usage(conservation_mb=5000),
        )
    assert raised.value.message == (
        "Lo spazio della conservazione usato non entra nei 2 GB richiesti: "
        "elimina almeno 3 GB di messaggi prima di procedere."
    )


def test_reducing_conservazione_at_renewal_works_when_the_used_space_fits(catalogue):
    quote = renewal(
        catalogue,
        "pro",
        held={"CONSERVAZIONE": 10},
        keep={"CONSERVAZIONE": 5},
        usage=Usage(conservation_mb=5000),
    )
    assert ("renewal_addon", "CONSERVAZIONE", 5, 12, D("20.00")) in rows(quote)


def test_renewing_down_to_standard_is_refused_when_the_mailbox_is_too_full(catalogue):
    with pytest.raises(PricingError) as raised:
        renewal(
            catalogue,
            "pro",
            to_tier="standard",
            confirm_archive_loss=True,
            usage=Usage(mailbox_mb=1536),
        )
    assert "elimina almeno 1 GB" in raised.value.message
    assert "della casella" in raised.value.message


def test_renewing_down_to_standard_fits_when_spazio_is_added_for_the_new_term(catalogue):
    quote = renewal(
        catalogue,
        "pro",
        to_tier="standard",
        confirm_archive_loss=True,
        add={"SPAZIO": 1},
        usage=Usage(mailbox_mb=1536, archive_mb=3072),
    )
    assert rows(quote) == [
        ("renewal", "standard", 1, 12, D("9.90")),
        ("renewal_addon", "SPAZIO", 1, 12, D("3.00")),
    ]


def test_renewing_premium_down_to_pro_is_refused_while_the_archive_would_not_fit(catalogue):
    with pytest.raises(PricingError) as raised:
        renewal(catalogue, "premium", to_tier="pro", usage=Usage(archive_mb=5120))
    assert raised.value.message == (
        "Lo spazio dell'archivio di sicurezza usato non entra nei 3 GB richiesti: "
        "elimina almeno 2 GB di messaggi prima di procedere."
    )


def test_renewing_premium_down_to_pro_fits_with_enough_archivio_added(catalogue):
    quote = renewal(
        catalogue, "premium", to_tier="pro", add={"ARCHIVIO": 2}, usage=Usage(archive_mb=5120)
    )
    assert quote.net == D("30.90")


def test_reducing_archivio_at_renewal_is_refused_while_the_archive_would_not_fit(catalogue):
    with pytest.raises(PricingError) as raised:
        renewal(
            catalogue,
            "pro",
            held={"ARCHIVIO": 10},
            keep={"ARCHIVIO": 0},
            usage=Usage(archive_mb=10 * 1024),
        )
    assert raised.value.message == (
        "Lo spazio dell'archivio di sicurezza usato non entra nei 3 GB richiesti: "
        "elimina almeno 7 GB di messaggi prima di procedere."
    )


def test_confirming_archive_loss_does_not_let_an_overfull_archive_into_a_smaller_one(catalogue):
    with pytest.raises(PricingError):
        renewal(
            catalogue,
            "premium",
            to_tier="pro",
            confirm_archive_loss=True,
            usage=Usage(archive_mb=5120),
        )


def test_confirming_archive_loss_does_not_allow_reducing_archivio_below_the_used_space(catalogue):
    with pytest.raises(PricingError):
        renewal(
            catalogue,
            "pro",
            held={"ARCHIVIO": 10},
            keep={"ARCHIVIO": 0},
            confirm_archive_loss=True,
            usage=Usage(archive_mb=10 * 1024),
        )


def test_renewing_down_to_standard_with_confirmation_ignores_the_archive_to_be_deleted(catalogue):
    quote = renewal(
        catalogue,
        "premium",
        to_tier="standard",
        confirm_archive_loss=True,
        usage=Usage(mailbox_mb=1024, archive_mb=8 * 1024),
    )
    assert rows(quote) == [("renewal", "standard", 1, 12, D("9.90"))]


# --- quote_change: one entry point ------------------------------------------------------


def change(catalogue, tier, **kw):
    kw.setdefault("expires_on", SIX_MONTHS_LEFT)
    kw.setdefault("today", TODAY)
    return quote_change(catalogue, tier=tier, **kw)


def test_quote_change_with_renew_years_is_a_renewal(catalogue):
    quote = change(catalogue, "pro", renew_years=1, add={"CONSERVAZIONE": 5})
    assert [line.kind for line in quote.lines] == ["renewal", "addon", "renewal_addon"]
    assert quote.total == D("66.98")


def test_quote_change_with_renew_years_may_go_down_a_tier(catalogue):
    quote = change(catalogue, "premium", renew_years=1, to_tier="pro")
    assert rows(quote) == [("renewal", "pro", 1, 12, D("24.90"))]


def test_quote_change_with_to_tier_alone_is_an_upgrade(catalogue):
    quote = change(catalogue, "standard", to_tier="pro", held={"SMS": 1})
    assert [line.kind for line in quote.lines] == ["upgrade", "credit"]
    assert quote.net == D("5.50")


def test_quote_change_with_to_tier_lower_and_no_renewal_is_refused(catalogue):
    with pytest.raises(PricingError) as raised:
        change(catalogue, "premium", to_tier="pro")
    assert raised.value.field == "to_tier"


def test_quote_change_with_add_alone_is_an_add_on_purchase(catalogue):
    quote = change(catalogue, "standard", add={"CONSERVAZIONE": 5})
    assert rows(quote) == [("addon", "CONSERVAZIONE", 5, 6, D("10.00"))]
    assert quote.total == D("12.20")


def test_quote_change_refuses_keep_without_a_renewal(catalogue):
    with pytest.raises(PricingError) as raised:
        change(catalogue, "pro", held={"CONSERVAZIONE": 5}, keep={"CONSERVAZIONE": 2})
    assert raised.value.field == "keep"
    assert raised.value.message == "Una riduzione non si paga: vale dal prossimo rinnovo."


def test_quote_change_with_nothing_to_do_is_refused(catalogue):
    with pytest.raises(PricingError) as raised:
        change(catalogue, "pro")
    assert raised.value.field == "addon"


def test_quote_change_passes_usage_and_confirmation_on_to_the_renewal(catalogue):
    with pytest.raises(PricingError) as raised:
        change(catalogue, "pro", renew_years=1, to_tier="standard")
    assert raised.value.field == "confirm_archive_loss"
    with pytest.raises(PricingError) as raised:
        change(
            catalogue,
            "pro",
            renew_years=1,
            to_tier="standard",
            confirm_archive_loss=True,
            usage=Usage(mailbox_mb=2048),
        )
    assert "elimina almeno 1 GB" in raised.value.message


# --- VAT once on the total net -----------------------------------------------------------


def test_vat_is_computed_once_on_the_total_net_of_an_order_of_several_quotes(catalogue):
    one = purchase(catalogue, "pro", add={"CONSERVAZIONE": 5}, expires_on=SEVEN_MONTHS_LEFT)
    two = purchase(catalogue, "premium", add={"CONSERVAZIONE": 5}, expires_on=SEVEN_MONTHS_LEFT)
    assert one.net == two.net == D("11.67")
    assert one.vat == two.vat == D("2.57")  # 2.5674 each

    net, vat, total = totals(one.lines + two.lines)

    assert (net, vat, total) == (D("23.34"), D("5.13"), D("28.47"))  # 5.1348
    assert vat != one.vat + two.vat  # 5.14 when summed per quote


def test_vat_of_a_quote_is_computed_on_its_total_net_not_line_by_line(catalogue):
    quote = purchase(
        catalogue,
        "pro",
        add={"SPAZIO": 5, "ARCHIVIO": 5, "CONSERVAZIONE": 5},
        expires_on=SEVEN_MONTHS_LEFT,
    )
    assert [line.net for line in quote.lines] == [D("8.75"), D("8.75"), D("11.67")]
    assert amounts(quote) == (D("29.17"), D("6.42"), D("35.59"))
    per_line = sum(
        (line.net * 22 / 100).quantize(D("0.01"), rounding=ROUND_HALF_UP) for line in quote.lines
    )
    assert per_line == D("6.43")
    assert quote.vat != per_line


def test_totals_of_no_lines_are_zero():
    assert totals([]) == (D("0.00"), D("0.00"), D("0.00"))


def test_totals_count_a_negative_credit_line():
    lines = [
        Line("upgrade", "pro", "", 1, 6, D("15.00"), D("7.50")),
        Line("credit", "SMS", "", 1, 6, D("4.00"), D("-2.00")),
    ]
    assert totals(lines) == (D("5.50"), D("1.21"), D("6.71"))


# --- errors are for the customer, in Italian ----------------------------------------------

CATALOGUE = domain_catalogue()

REFUSALS = [
    pytest.param(
        partial(rateo_months, EXPIRED_ON, TODAY),
        "La casella è scaduta il 25/11/2026: si può solo rinnovare.",
        id="expired",
    ),
    pytest.param(
        partial(quote_new_mailbox, CATALOGUE, tier="pro", years=6),
        "La durata va da 1 a 5 anni (richiesti 6).",
        id="years",
    ),
    pytest.param(
        partial(quote_new_mailbox, CATALOGUE, tier="pro", years=1.5),
        "La durata deve essere un numero intero di anni.",
        id="years-not-whole",
    ),
    pytest.param(
        partial(purchase, CATALOGUE, "pro", add={"CONSERVAZIONE": 0}),
        "La quantità deve essere un numero intero positivo.",
        id="quantity",
    ),
    pytest.param(
        partial(purchase, CATALOGUE, "pro", held={"CONSERVAZIONE": -1}, add={"SPAZIO": 1}),
        "La quantità deve essere un numero intero non negativo.",
        id="held-quantity",
    ),
    pytest.param(
        partial(purchase, CATALOGUE, "standard", add={"ARCHIVIO": 1}),
        "Spazio aggiuntivo Archivio di sicurezza non è disponibile per la tipologia Standard.",
        id="not-sold",
    ),
    pytest.param(
        partial(upgrade, CATALOGUE, "pro", "pro"),
        "La casella è già di tipologia Pro.",
        id="same-tier",
    ),
    pytest.param(
        partial(upgrade, CATALOGUE, "pro", "standard"),
        "Il passaggio da Pro a Standard è possibile solo al rinnovo.",
        id="downgrade",
    ),
    pytest.param(
        partial(renewal, CATALOGUE, "pro", to_tier="standard"),
        "Con la tipologia Standard non c'è l'archivio di sicurezza: il suo contenuto "
        "sarà eliminato. Conferma esplicitamente per procedere.",
        id="archive-loss",
    ),
    pytest.param(
        partial(change, CATALOGUE, "pro", keep={"SPAZIO": 0}),
        "Una riduzione non si paga: vale dal prossimo rinnovo.",
        id="keep-without-renewal",
    ),
]


@pytest.mark.parametrize(("refused_call", "message"), REFUSALS)
def test_every_refusal_carries_an_italian_message_for_the_customer(refused_call, message):
    with pytest.raises(PricingError) as raised:
        refused_call()
    assert isinstance(raised.value.message, str)
    assert raised.value.message == message
    assert str(raised.value) == message
    assert raised.value.field is not None
