"""The money helpers live in `addons.money`, at the bottom of the layers, so that the
catalogue (prices), the admin and billing all use the one rounding rule; these names stay
importable from here."""

from addons.money import CENT, VAT_RATE, ZERO, format_eur, quantize, vat_of  # noqa: F401
