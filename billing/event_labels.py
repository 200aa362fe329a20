"""The order history as the billing clerk reads it: Italian labels for the event kinds,
the statuses and the details that the services record as codes."""

from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.utils import timezone

from billing.models import OrderStatus, PaymentMethod
from billing.money import format_eur

EVENT_LABELS = {
    "placed": "ordine inserito",
    "status": "cambio di stato",
    "payment_applied": "pagamento registrato",
    "payment_flagged": "pagamento da verificare",
    "fulfilled": "ordine evaso",
    "bank_transfer_registered": "bonifico registrato",
    "staff_bank_transfer": "bonifico registrato dallo staff",
    "refunded": "rimborso totale",
    "partially_refunded": "rimborso parziale",
    "autorenew_attempt": "tentativo di rinnovo automatico",
    "autorenew_failed": "rinnovo automatico non riuscito",
    "email_received": "e-mail «ordine ricevuto» inviata",
    "email_paid": "e-mail «pagamento ricevuto» inviata",
    "email_cancelled": "e-mail «ordine annullato» inviata",
    "email_autorenew_failed": "e-mail «rinnovo non riuscito» inviata",
    "autorenew_auth_required": "rinnovo automatico: serve la conferma 3-D Secure",
    "payment_confirmed": "pagamento confermato dal gateway",
    "payment_rejected": "pagamento rifiutato",
    "payment_replaced": "tentativo di pagamento sostituito",
    "duplicate_charge": "addebito doppio",
    "duplicate_refunded": "addebito doppio rimborsato",
    "disputed": "contestazione aperta",
    "gateway_refund": "rimborso tramite il gateway",
    "gateway_refunded": "rimborsato tramite il gateway",
    "bank_refund_due": "rimborso con bonifico da eseguire",
    "withdrawn": "recesso del cliente",
    "withdrawal_refunded": "recesso: rimborso eseguito",
    "withdrawal_refund_failed": "recesso: rimborso non riuscito",
    "email_withdrawal": "e-mail «recesso registrato» inviata",
}

DATA_LABELS = {
    "outcome": "esito",
    "amount": "importo",
    "total": "totale",
    "net": "imponibile",
    "vat": "IVA",
    "bank_reference": "riferimento bancario",
    "paid_on": "pagato il",
    "received_on": "incassato il",
    "on": "il",
    "to": "destinatario",
    "method": "metodo",
    "credit_note": "nota di credito",
    "invoice": "fattura",
}

OUTCOME_LABELS = {
    "fulfilled": "ordine evaso",
    "already": "già registrato",
    "not_confirmed": "pagamento non confermato",
    "flagged": "da verificare",
    "attention": "da verificare",
}

MONEY_KEYS = {"amount", "total", "net", "vat"}


def event_label(kind: str) -> str:
    """`staff_bank_transfer` -> "bonifico registrato dallo staff"; an unknown code is shown
    with its underscores as spaces rather than hidden."""
    return EVENT_LABELS.get(kind, kind.replace("_", " "))


def status_label(code: str) -> str:
    return dict(OrderStatus.choices).get(code, code) if code else ""


def transition_label(from_status: str, to_status: str) -> str:
    """ "in attesa di pagamento → pagato", or only the new status of a new order."""
    if from_status and to_status:
        return f"{status_label(from_status)} → {status_label(to_status)}"
    return status_label(to_status or from_status)


def format_date(value) -> str:
    """The one date format of the back office: 25/11/2026, with the time when there is one."""
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, str):
        try:
            return date.fromisoformat(value).strftime("%d/%m/%Y")
        except ValueError:
            return value
    return str(value)


def _value(key: str, value) -> str:
    if key in MONEY_KEYS:
        try:
            return format_eur(Decimal(str(value)))
        except (InvalidOperation, ValueError):
            return str(value)
    if key == "outcome":
        return OUTCOME_LABELS.get(str(value), str(value))
    if key == "method":
        return dict(PaymentMethod.choices).get(str(value), str(value))
    if key in ("paid_on", "received_on", "on"):
        return format_date(value)
    if isinstance(value, bool):
        return "sì" if value else "no"
    return str(value)


def details_label(data: dict) -> str:
    """`{"outcome": "fulfilled", "amount": "12.20"}` -> "esito: ordine evaso, importo: € 12,20"."""
    parts = [
        f"{DATA_LABELS.get(key, key.replace('_', ' '))}: {_value(key, v)}"
        for key, v in data.items()
    ]
    return ", ".join(parts)
