"""Italian tax identifiers, checked by their check digits (python-stdnum).

Each function answers None when the value is valid, else a message for the customer.
"""

from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength
from stdnum.it import codicefiscale, iva


def normalize(value: str | None) -> str:
    return (value or "").replace(" ", "").replace("-", "").strip().upper()


def _error(value: str, module, what: str, lengths: str, invalid: str = "non valido") -> str | None:
    try:
        module.validate(value)
    except InvalidChecksum:
        return f"{what} {invalid}: il carattere di controllo non torna."
    except InvalidLength:
        return f"{what} {invalid}: deve avere {lengths}."
    except (InvalidFormat, InvalidComponent):
        return f"{what} {invalid}: controlla lettere e cifre."
    return None


def person_fiscal_code_error(value: str) -> str | None:
    value = normalize(value)
    if not value:
        return "Indica il codice fiscale."
    if len(value) != 16:
        return "Il codice fiscale di una persona ha 16 caratteri."
    return _error(value, codicefiscale, "Codice fiscale", "16 caratteri")


def company_fiscal_code_error(value: str) -> str | None:
    """A company's codice fiscale: 11 digits (often the P.IVA) or, for a sole trader, 16."""
    value = normalize(value)
    if not value:
        return "Indica il codice fiscale."
    return _error(value, codicefiscale, "Codice fiscale", "11 cifre o 16 caratteri")


def vat_number_error(value: str) -> str | None:
    value = normalize(value)
    if not value:
        return "Indica la partita IVA."
    return _error(value, iva, "Partita IVA", "11 cifre", invalid="non valida")


def normalize_codes(data: dict) -> dict:
    """Codes of a holder as stored: tax codes without spaces or dashes, upper case;
    province and SDI code upper case. Only the keys present are touched."""
    out = dict(data)
    for name in ("fiscal_code", "vat_number"):
        if name in out:
            out[name] = normalize(out[name])
    for name in ("province", "sdi_code"):
        if name in out:
            out[name] = (out[name] or "").strip().upper()
    return out
