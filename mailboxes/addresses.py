"""The rules of a PEC address's local part, as pure functions."""

import re

MIN_LENGTH = 3
MAX_LENGTH = 64
_ALLOWED = re.compile(r"^[a-z0-9._-]+$")


def normalize_local_part(value: str) -> str:
    return (value or "").strip().lower()


def local_part_error(local_part: str) -> str | None:
    """None when the local part is acceptable, else the reason in Italian."""
    value = normalize_local_part(local_part)
    if not value:
        return "Indica il nome della casella (la parte prima della @)."
    if not _ALLOWED.match(value):
        return "Usa solo lettere, cifre, punto, trattino e trattino basso (niente spazi o accenti)."
    if len(value) < MIN_LENGTH:
        return f"Il nome della casella deve avere almeno {MIN_LENGTH} caratteri."
    if len(value) > MAX_LENGTH:
        return f"Il nome della casella può avere al massimo {MAX_LENGTH} caratteri."
    if value.startswith(".") or value.endswith("."):
        return "Il nome della casella non può iniziare o finire con un punto."
    if value[0] in "-_" or value[-1] in "-_":
        return "Il nome della casella non può iniziare o finire con un trattino."
    if ".." in value:
        return "Il nome della casella non può contenere due punti di seguito."
    return None


def domain_error(domain: str, domains: list[str]) -> str | None:
    if (domain or "").strip().lower() not in domains:
        return "Scegli uno dei domini certificati proposti."
    return None


def make_address(local_part: str, domain: str) -> str:
    return f"{normalize_local_part(local_part)}@{domain.strip().lower()}"
