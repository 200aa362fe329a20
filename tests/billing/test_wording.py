"""The words the customer reads on previews, orders and invoices: one month is "1 mese"."""

from datetime import date
from decimal import Decimal as D

import pytest

from billing.documents import InvoiceDocumentLine, _line_description
from billing.pricing import months_text, quote_addon_purchase

TODAY = date(2026, 11, 25)


@pytest.mark.parametrize(("months", "expected"), [(1, "1 mese"), (2, "2 mesi"), (12, "12 mesi")])
def test_months_read_singular_and_plural(months, expected):
    assert months_text(months) == expected


@pytest.mark.parametrize(
    ("expires_on", "expected"),
    [(date(2026, 12, 20), "rateo di 1 mese"), (date(2027, 5, 25), "rateo di 6 mesi")],
)
def test_a_rateo_line_says_mese_for_one_month_and_mesi_for_more(catalogue, expires_on, expected):
    quote = quote_addon_purchase(
        catalogue,
        tier="pro",
        expires_on=expires_on,
        today=TODAY,
        held={},
        add={"CONSERVAZIONE": 5},
    )
    assert quote.lines[0].description.endswith(expected)
    assert "1 mesi" not in quote.lines[0].description


def test_an_invoice_line_of_one_month_says_1_mese():
    line = InvoiceDocumentLine(
        position=1,
        code="CONSERVAZIONE",
        description="Conservazione PEC",
        quantity=5,
        months=1,
        unit_price=D("4.00"),
        net=D("1.67"),
    )
    assert _line_description(line) == "Conservazione PEC (quantità 5, 1 mese)"
