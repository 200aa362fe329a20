"""Reading the SDI's receipts: validated against the official schema, then reduced to plain
data. No database here; `billing.sdi.services` decides what a receipt does to a document."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

import xmlschema

MESSAGES_NAMESPACE = "http://www.fatturapa.gov.it/sdi/messaggi/v1.0"
SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schemas" / "MessaggiTypes_v1.1.xsd"

# Root element -> the two-letter code the SDI uses in its file names.
KINDS = {
    "RicevutaConsegna": "RC",
    "NotificaMancataConsegna": "MC",
    "NotificaScarto": "NS",
    "NotificaEsito": "NE",
    "AttestazioneTrasmissioneFattura": "AT",
    "NotificaDecorrenzaTermini": "DT",
    "MetadatiInvioFile": "MT",
    "NotificaEsitoCommittente": "EC",
    "ScartoEsitoCommittente": "SE",
}
KIND_LABELS = {
    "RC": "ricevuta di consegna",
    "MC": "notifica di mancata consegna",
    "NS": "notifica di scarto",
    "NE": "notifica di esito",
    "AT": "attestazione di trasmissione",
    "DT": "notifica di decorrenza termini",
}

_schema: xmlschema.XMLSchema | None = None


def messages_schema() -> xmlschema.XMLSchema:
    global _schema
    if _schema is None:
        # The xmldsig import is the copy beside it (relative schemaLocation): no network.
        _schema = xmlschema.XMLSchema(SCHEMA_PATH, allow="local")
    return _schema


class ReceiptError(ValueError):
    """Not a receipt the schema accepts; the message says why."""


@dataclass(frozen=True)
class Receipt:
    kind: str  # RC, MC, NS, ...
    file_name: str  # NomeFile: the file it is about
    sdi_id: str
    when: str = ""  # DataOraConsegna or DataOraRicezione, as written
    errors: list[dict[str, str]] = field(default_factory=list)  # NS: code and description
    description: str = ""  # MC: the SDI's reason


def parse_receipt(content: bytes) -> Receipt:
    """The receipt in `content`, or ReceiptError when it is not one the schema accepts."""
    schema = messages_schema()
    try:
        resource = xmlschema.XMLResource(io.BytesIO(content), allow="none", defuse="always")
    except (xmlschema.XMLResourceError, ValueError, SyntaxError) as error:
        raise ReceiptError(f"XML non leggibile: {error}") from None
    except Exception as error:  # defusedxml and the parser raise their own types
        raise ReceiptError(f"XML non leggibile: {error}") from None
    root = resource.root
    namespace, _, local = root.tag.rpartition("}")
    if namespace.lstrip("{") != MESSAGES_NAMESPACE or local not in KINDS:
        raise ReceiptError(f"non è un messaggio dello SdI (elemento radice {root.tag})")
    errors = [
        f"{error.path}: {error.reason}" if error.reason else str(error)
        for error in schema.iter_errors(resource)
    ]
    if errors:
        raise ReceiptError("non valida secondo MessaggiTypes_v1.1.xsd: " + "; ".join(errors[:5]))

    def text(name: str) -> str:
        element = root.find(name)
        return (element.text or "").strip() if element is not None else ""

    kind = KINDS[local]
    sdi_errors = [
        {"code": text_of(error, "Codice"), "description": text_of(error, "Descrizione")}
        for error in root.findall("ListaErrori/Errore")
    ]
    return Receipt(
        kind=kind,
        file_name=text("NomeFile"),
        sdi_id=text("IdentificativoSdI"),
        when=text("DataOraConsegna") or text("DataOraRicezione"),
        errors=sdi_errors,
        description=text("Descrizione"),
    )


def text_of(element, name: str) -> str:
    child = element.find(name)
    return (child.text or "").strip() if child is not None else ""
