"""The quote interface: raw string parameters in, a priced quote and JSON-ready data out."""

from datetime import date
from decimal import Decimal

import pytest

from billing.pricing import PricingError
from billing.quotes import (
    QuoteInputError,
    QuoteRequest,
    parse_date,
    parse_items,
    parse_request,
    price_request,
    quote_as_dict,
)

D = Decimal
DEFAULT_TODAY = date(2026, 11, 25)
SEED = {"tier": ["pro"], "expires": ["2027-05-25"], "today": ["2026-11-25"]}


def parse(**params):
    """parse_request over a QueryDict-like mapping: every value is a list of strings."""
    return parse_request(
        {name: value if isinstance(value, list) else [value] for name, value in params.items()},
        default_today=DEFAULT_TODAY,
    )


def refusal(**params) -> QuoteInputError:
    with pytest.raises(QuoteInputError) as raised:
        parse(**params)
    return raised.value


# --- parse_request: what is accepted -----------------------------------------------------


def test_it_parses_an_existing_mailbox_request_with_explicit_today():
    request = parse(tier="pro", expires="2027-05-25", today="2026-11-25", add="CONSERVAZIONE=5")
    assert request == QuoteRequest(
        tier="pro",
        today=date(2026, 11, 25),
        expires_on=date(2027, 5, 25),
        add=(("CONSERVAZIONE", 5),),
    )


def test_it_uses_the_default_today_given_by_the_caller_when_today_is_missing():
    request = parse(tier="pro", expires="2027-05-25")
    assert request.today == DEFAULT_TODAY


def test_it_treats_a_blank_today_as_missing():
    request = parse(tier="pro", expires="2027-05-25", today="  ")
    assert request.today == DEFAULT_TODAY


def test_it_normalises_the_tier_and_to_tier_to_lower_case():
    request = parse(tier=" PRO ", expires="2027-05-25", to_tier="Premium")
    assert request.tier == "pro"
    assert request.to_tier == "premium"


def test_it_parses_a_renewal_with_keep_and_has():
    request = parse(
        tier="pro",
        expires="2027-05-25",
        renew_years="2",
        has="CONSERVAZIONE=10,SPAZIO=2",
        keep="CONSERVAZIONE=4",
    )
    assert request.renew_years == 2
    assert request.has == (("CONSERVAZIONE", 10), ("SPAZIO", 2))
    assert request.keep == (("CONSERVAZIONE", 4),)
    assert request.years is None


def test_it_parses_a_new_mailbox_request_by_years():
    request = parse(tier="standard", years="3", add="SMS=1")
    assert request.years == 3
    assert request.expires_on is None
    assert request.add == (("SMS", 1),)


@pytest.mark.parametrize(
    ("values", "items"),
    [
        (["CONSERVAZIONE=5"], (("CONSERVAZIONE", 5),)),
        (["conservazione=5"], (("CONSERVAZIONE", 5),)),
        (["CONSERVAZIONE:5"], (("CONSERVAZIONE", 5),)),
        ([" CONSERVAZIONE = 5 "], (("CONSERVAZIONE", 5),)),
        (["SPAZIO=1,CONSERVAZIONE=2"], (("SPAZIO", 1), ("CONSERVAZIONE", 2))),
        (["SPAZIO=1", "CONSERVAZIONE=2"], (("SPAZIO", 1), ("CONSERVAZIONE", 2))),
        (["SPAZIO=1,", ",,"], (("SPAZIO", 1),)),
        (["SPAZIO=999999"], (("SPAZIO", 999999),)),
        (["SPAZIO=-1"], (("SPAZIO", -1),)),  # the engine refuses it, not the parser
        ([], ()),
    ],
)
def test_it_parses_code_equals_quantity_items(values, items):
    assert parse_items(values, "add") == items


# --- parse_request: what is refused -------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["2026-13-01", "2026-02-30", "2027-02-29", "25/11/2026", "2026-11", "domani", "2026-1-5"],
)
@pytest.mark.parametrize("name", ["expires", "today"])
def test_it_refuses_a_malformed_date(name, value):
    params = {"tier": "pro", "expires": "2027-05-25", name: value}
    error = refusal(**params)
    assert error.field == name
    assert error.message == f"{name}: data non valida «{value}», usa il formato AAAA-MM-GG."


@pytest.mark.parametrize(
    "item",
    [
        "CONSERVAZIONE",
        "CONSERVAZIONE=",
        "=5",
        "5=CONSERVAZIONE",
        "CONSERVAZIONE=5GB",
        "CONSERVAZIONE=1.5",
        "CONSERVAZIONE==5",
        "CONSER VAZIONE=5",
        "CONSERVAZIONE=cinque",
        "CONSERVAZIONE=+5",
    ],
)
@pytest.mark.parametrize("name", ["add", "has", "keep"])
def test_it_refuses_a_malformed_code_equals_quantity_item(name, item):
    error = refusal(tier="pro", expires="2027-05-25", **{name: item})
    assert error.field == name
    assert "non è nel formato CODICE=QUANTITÀ" in error.message


@pytest.mark.parametrize(
    "values",
    [["SPAZIO=1,SPAZIO=2"], ["SPAZIO=1,spazio=1"], ["SPAZIO=1", "SPAZIO=1"], ["SPAZIO:1,SPAZIO=1"]],
)
def test_it_refuses_a_code_given_twice(values):
    error = refusal(tier="pro", expires="2027-05-25", add=values)
    assert error.field == "add"
    assert error.message == "add: SPAZIO è indicato due volte."


@pytest.mark.parametrize(
    "quantity", ["1000000", "9999999", "0000001", "-1000000", "12345678901234"]
)
def test_it_refuses_a_quantity_of_seven_digits_or_more(quantity):
    error = refusal(tier="pro", expires="2027-05-25", add=f"CONSERVAZIONE={quantity}")
    assert error.field == "add"
    assert error.message == "add: quantità fuori misura per CONSERVAZIONE."


@pytest.mark.parametrize("value", ["abc", "1.5", "2 anni", "1000000", "+2", "0x2"])
@pytest.mark.parametrize("name", ["years", "renew_years"])
def test_it_refuses_years_that_are_not_a_short_whole_number(name, value):
    params = {"tier": "pro", name: value}
    if name == "renew_years":
        params["expires"] = "2027-05-25"
    error = refusal(**params)
    assert error.field == name
    assert error.message == f"{name}: «{value}» non è un numero intero valido."


def test_it_refuses_years_and_expires_together():
    error = refusal(tier="pro", years="1", expires="2027-05-25")
    assert error.field == "years"
    assert "non entrambi" in error.message


def test_it_refuses_a_request_with_neither_years_nor_expires():
    error = refusal(tier="pro")
    assert error.field == "expires"
    assert error.message.startswith("Indica expires")


@pytest.mark.parametrize("tier", [None, "", "   "])
def test_it_refuses_a_missing_tier(tier):
    params = {"expires": "2027-05-25"}
    if tier is not None:
        params["tier"] = tier
    error = refusal(**params)
    assert error.field == "tier"
    assert error.message == "tier: indica la tipologia (standard, pro o premium)."


@pytest.mark.parametrize("name", ["tier", "expires", "today", "years", "to_tier"])
def test_it_refuses_a_single_valued_parameter_given_twice(name):
    values = {
        "tier": ["pro", "premium"],
        "expires": ["2027-05-25", "2027-05-26"],
        "today": ["2026-11-25", "2026-11-26"],
        "years": ["1", "2"],
        "to_tier": ["pro", "premium"],
    }[name]
    params = {"tier": "pro", "expires": "2027-05-25", name: values}
    error = refusal(**params)
    assert error.field == name
    assert error.message == f"{name}: indicato più di una volta."


@pytest.mark.parametrize(
    "extra",
    [{"has": "SPAZIO=1"}, {"keep": "SPAZIO=0"}, {"renew_years": "1"}, {"to_tier": "premium"}],
)
def test_it_refuses_existing_mailbox_parameters_on_a_new_mailbox(extra):
    error = refusal(tier="pro", years="1", **extra)
    assert error.field == "years"
    assert error.message == "Una nuova casella si quota con tier, years e add soltanto."


def test_an_input_error_is_a_pricing_error_with_an_italian_message():
    error = refusal(tier="pro", expires="domani")
    assert isinstance(error, PricingError)
    assert str(error) == error.message


# --- price_request ------------------------------------------------------------------------


def test_it_prices_the_seed_mid_year_purchase(catalogue):
    quote = price_request(catalogue, parse(**SEED, add="CONSERVAZIONE=5"))
    assert quote.months == 6
    assert (quote.net, quote.vat, quote.total) == (D("10.00"), D("2.20"), D("12.20"))


def test_it_prices_the_seed_early_renewal_with_added_gb(catalogue):
    quote = price_request(catalogue, parse(**SEED, renew_years="1", add="CONSERVAZIONE=5"))
    assert [line.net for line in quote.lines] == [D("24.90"), D("10.00"), D("20.00")]
    assert (quote.net, quote.vat, quote.total) == (D("54.90"), D("12.08"), D("66.98"))


@pytest.mark.parametrize(
    ("tier", "years", "add", "net"),
    [
        ("standard", "1", [], D("9.90")),
        ("standard", "5", ["SMS=1"], D("69.50")),
        ("pro", "2", ["CONSERVAZIONE=5"], D("89.80")),
        ("premium", "3", ["MULTIUTENTE=2,ARCHIVIO=1"], D("164.70")),
    ],
)
def test_it_prices_a_new_mailbox_by_years(catalogue, tier, years, add, net):
    quote = price_request(catalogue, parse(tier=tier, years=years, add=add))
    assert quote.lines[0].kind == "tier"
    assert quote.months == 12 * int(years)
    assert quote.net == net


@pytest.mark.parametrize("years", ["0", "6", "-1"])
def test_it_refuses_a_new_mailbox_outside_1_to_5_years_when_pricing(catalogue, years):
    request = parse(tier="pro", years=years)
    with pytest.raises(PricingError) as raised:
        price_request(catalogue, request)
    assert raised.value.field == "years"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"tier": "gold", "years": "1"}, "tier"),
        ({**SEED, "add": "FAX=1"}, "addon"),
        ({**SEED, "add": "SPAZIO=999999"}, "quantity"),
        ({**SEED, "add": "SPAZIO=-1"}, "quantity"),
        ({**SEED, "add": "SPAZIO=0"}, "quantity"),
        ({**SEED, "add": "SMS=1"}, "addon"),
        ({**SEED, "keep": "SPAZIO=0", "has": "SPAZIO=1"}, "keep"),
        ({**SEED, "to_tier": "standard"}, "to_tier"),
        ({**SEED, "today": "2027-05-25", "add": "SPAZIO=1"}, "expires"),
    ],
)
def test_it_passes_the_engine_refusals_through(catalogue, params, field):
    request = parse(**params)
    with pytest.raises(PricingError) as raised:
        price_request(catalogue, request)
    assert raised.value.field == field
    assert not isinstance(raised.value, QuoteInputError)


# --- quote_as_dict --------------------------------------------------------------------------


def test_quote_as_dict_gives_json_ready_strings_with_two_decimals(catalogue):
    answer = quote_as_dict(price_request(catalogue, parse(**SEED, add="CONSERVAZIONE=5")))
    assert answer == {
        "months": 6,
        "lines": [
            {
                "code": "CONSERVAZIONE",
                "description": answer["lines"][0]["description"],
                "quantity": 5,
                "months": 6,
                "unit_price": "4.00",
                "net": "10.00",
            }
        ],
        "notes": [],
        "net": "10.00",
        "vat": "2.20",
        "total": "12.20",
    }
    assert "rateo di 6 mesi" in answer["lines"][0]["description"]


def test_quote_as_dict_shows_a_credit_as_a_negative_amount_and_keeps_the_notes(catalogue):
    params = {
        "tier": "standard",
        "expires": "2027-05-25",
        "today": "2026-11-25",
        "to_tier": "pro",
        "has": "SMS=1",
    }
    answer = quote_as_dict(price_request(catalogue, parse(**params)))
    assert [(line["code"], line["net"]) for line in answer["lines"]] == [
        ("pro", "7.50"),
        ("SMS", "-2.00"),
    ]
    assert (answer["net"], answer["vat"], answer["total"]) == ("5.50", "1.21", "6.71")
    assert len(answer["notes"]) == 1
    assert "Avviso SMS di ricezione" in answer["notes"][0]


def test_quote_as_dict_of_a_new_mailbox_gives_its_months_and_price(catalogue):
    answer = quote_as_dict(price_request(catalogue, parse(tier="premium", years="5")))
    assert answer["months"] == 60
    assert answer["lines"][0]["unit_price"] == "39.90"
    assert answer["lines"][0]["net"] == "199.50"
    assert answer["total"] == "243.39"  # 199.50 + 43.89


@pytest.mark.parametrize("value", ["20261125", "2026-W48-3", "2026-11-25T00:00", "25-11-2026"])
def test_only_the_plain_iso_date_format_is_accepted(value):
    with pytest.raises(QuoteInputError, match="AAAA-MM-GG"):
        parse_date(value, "today")
