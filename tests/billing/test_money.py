"""Money helpers: Decimal only, cents rounded half up, VAT at 22%, euro amounts the Italian way."""

from decimal import Decimal

import pytest

from billing.money import CENT, VAT_RATE, ZERO, format_eur, quantize, vat_of

D = Decimal


def test_the_constants_are_a_cent_a_zero_with_two_decimals_and_a_vat_rate_of_22():
    assert D("0.01") == CENT
    assert D("0.00") == ZERO
    assert ZERO.as_tuple().exponent == -2
    assert D("22") == VAT_RATE


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (D("0.005"), D("0.01")),
        (D("2.675"), D("2.68")),
        (D("2.665"), D("2.67")),
        (D("0.004"), D("0.00")),
        (D("0.0049999"), D("0.00")),
        (D("1.0050"), D("1.01")),
        (D("11.666666"), D("11.67")),
        (D("12.2"), D("12.20")),
        (D("7"), D("7.00")),
        (D("0"), D("0.00")),
        (D("-0.005"), D("-0.01")),
        (D("-2.675"), D("-2.68")),
        (D("-0.004"), D("0.00")),
        (D("1234567.895"), D("1234567.90")),
    ],
)
def test_quantize_rounds_to_the_cent_with_halves_away_from_zero(amount, expected):
    result = quantize(amount)
    assert result == expected
    assert result.as_tuple().exponent == -2


def test_quantize_rounds_a_half_up_where_bankers_rounding_would_round_it_down():
    # ROUND_HALF_EVEN would give 0.02 and 2.66 here.
    assert quantize(D("0.025")) == D("0.03")
    assert quantize(D("2.665")) == D("2.67")


@pytest.mark.parametrize("amount", [0.005, 2.675, 12.2, 1, 0, "12.20", None])
def test_quantize_refuses_anything_that_is_not_a_decimal(amount):
    with pytest.raises(TypeError, match="Decimal"):
        quantize(amount)


@pytest.mark.parametrize(
    ("net", "vat"),
    [
        (D("10.00"), D("2.20")),
        (D("11.67"), D("2.57")),  # 2.5674
        (D("54.90"), D("12.08")),  # 12.078
        (D("9.90"), D("2.18")),  # 2.178
        (D("0.02"), D("0.00")),  # 0.0044
        (D("0.03"), D("0.01")),  # 0.0066
        (D("0.25"), D("0.06")),  # 0.055: a half, rounded up
        (D("0.00"), D("0.00")),
        (D("1234.56"), D("271.60")),  # 271.6032
        (D("-10.00"), D("-2.20")),
    ],
)
def test_vat_of_is_22_percent_of_the_net_rounded_half_up_to_the_cent(net, vat):
    result = vat_of(net)
    assert result == vat
    assert result.as_tuple().exponent == -2


def test_vat_of_takes_another_rate_when_given_one():
    assert vat_of(D("100.00"), D("10")) == D("10.00")
    assert vat_of(D("0.05"), D("10")) == D("0.01")  # 0.005 rounded half up
    assert vat_of(D("100.00"), D("0")) == D("0.00")


@pytest.mark.parametrize("net", [10.0, 0.25])
def test_vat_of_refuses_a_float_net(net):
    with pytest.raises(TypeError):
        vat_of(net)


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (D("12.20"), "€ 12,20"),
        (D("12.2"), "€ 12,20"),
        (D("1234.56"), "€ 1.234,56"),
        (D("1234567.8"), "€ 1.234.567,80"),
        (D("1000"), "€ 1.000,00"),
        (D("999.99"), "€ 999,99"),
        (D("999.995"), "€ 1.000,00"),
        (D("100"), "€ 100,00"),
        (D("0.005"), "€ 0,01"),
        (D("0.01"), "€ 0,01"),
        (D("0"), "€ 0,00"),
        (D("0.00"), "€ 0,00"),
        (D("-0.00"), "€ 0,00"),
        (D("-0.004"), "€ 0,00"),
        (D("-12.20"), "-€ 12,20"),
        (D("-1234.56"), "-€ 1.234,56"),
        (D("-0.005"), "-€ 0,01"),
        (D("-1000000"), "-€ 1.000.000,00"),
    ],
)
def test_format_eur_writes_the_amount_the_italian_way(amount, text):
    assert format_eur(amount) == text


@pytest.mark.parametrize("amount", [12.2, 0.0, -1.5, 12])
def test_format_eur_refuses_anything_that_is_not_a_decimal(amount):
    with pytest.raises(TypeError):
        format_eur(amount)
