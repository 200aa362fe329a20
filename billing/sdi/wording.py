"""What the customer's copy says about the electronic document: only what has happened."""

from __future__ import annotations

from django.utils import timezone

from billing.sdi.models import SdiState, SdiTransmission

NOT_FISCAL = "Copia di cortesia, priva di valore fiscale."
ADE_AREA = (
    "l'originale è a disposizione nell'area riservata «Fatture e Corrispettivi» del sito "
    "dell'Agenzia delle Entrate"
)


def _day(moment) -> str:
    return f"{timezone.localtime(moment):%d/%m/%Y}" if moment else ""


def courtesy_note(transmission: SdiTransmission | None) -> str:
    """The PDF's footer, true at the moment it is rendered."""
    if transmission is None:
        # A document issued before the shop transmitted to the SDI: no claim either way.
        return f"{NOT_FISCAL} Il documento elettronico è il file FatturaPA."
    state = transmission.state
    if state == SdiState.QUEUED:
        return (
            f"{NOT_FISCAL} Il documento elettronico è in attesa di trasmissione al Sistema "
            "di Interscambio (SdI)."
        )
    sent = (
        f"Il documento elettronico è stato trasmesso al Sistema di Interscambio (SdI) il "
        f"{_day(transmission.sent_at or transmission.outcome_at)} (file {transmission.file_name})"
    )
    if state == SdiState.SENT:
        return f"{NOT_FISCAL} {sent} ed è in attesa dell'esito."
    sdi_id = f", identificativo SdI {transmission.sdi_id}" if transmission.sdi_id else ""
    if state == SdiState.DELIVERED:
        return (
            f"{NOT_FISCAL} {sent} ed è stato consegnato il {_day(transmission.outcome_at)}{sdi_id}."
        )
    if state == SdiState.NOT_DELIVERED:
        return (
            f"{NOT_FISCAL} {sent}{sdi_id}. Non è stato possibile recapitarlo al destinatario: "
            f"è comunque valido e {ADE_AREA}."
        )
    return (
        f"{NOT_FISCAL} Il file {transmission.file_name} è stato scartato dal Sistema di "
        f"Interscambio il {_day(transmission.outcome_at)}: il documento è in correzione e sarà "
        "trasmesso di nuovo."
    )
