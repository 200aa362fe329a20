"""An order paid at once with the account's saved card (an API order that asks for it).

The charge runs off-session on the default saved card through the card gateway's
`charge_saved_card`, with the new attempt's own idempotency key: a call repeated after a
timeout is the same charge at the gateway. The caller runs it at most once per placed
order (the API only for the request that placed the order, not for its replays), so a
repeated request never charges again; an order whose charge did not go through stays
awaiting payment and is paid from its link like any other.
"""

import logging
from dataclasses import dataclass
from datetime import date

from payments import PaymentStatus

from billing.gateways import ChargeResult, GatewayError, gateway_for
from billing.models import Order, Payment, PaymentMethod, SavedCard
from billing.services.orders import OrderError
from billing.services.payments import payment_confirm, payment_reject, payment_start
from billing.services.saved_cards import default_card
from customers.models import Customer

logger = logging.getLogger(__name__)

NO_CARD = "Nessuna carta salvata nell'account: salvala nell'Area Clienti o paga dal link."
NOT_CARD = "Sulla carta salvata si addebitano solo gli ordini con pagamento «card»."


def saved_card_for(customer: Customer, payment_method: str) -> SavedCard:
    """The card an order of this customer would be charged to; checked before placing it."""
    if payment_method != PaymentMethod.CARD:
        raise OrderError(NOT_CARD, field="payment_method")
    card = default_card(customer)
    if card is None:
        raise OrderError(NO_CARD, field="pay_with_saved_card")
    return card


@dataclass(frozen=True)
class CardCharge:
    """What a saved-card charge of an order came to, as the API reports it."""

    status: str  # "charged", "declined" or "pending"
    card: str  # "Visa •••• 4242"
    message: str


def order_charge_saved_card(*, order: Order, today: date) -> ChargeResult | None:
    """Charge an order awaiting payment by card to the account's default saved card.

    None, and nothing charged, when there is nothing to charge any more: the order is no
    longer awaiting payment, or the card was removed since the order was checked (the order
    then stays payable from its link). It never raises for a placed order."""
    card = default_card(order.customer)
    if card is None or order.payment_method != PaymentMethod.CARD:
        return None
    try:
        payment = payment_start(order=order)
    except OrderError:  # paid or cancelled meanwhile
        return None
    Payment.objects.filter(pk=payment.pk).update(saved_card=card)
    try:
        result = gateway_for(payment).charge_saved_card(
            payment, card, idempotency_key=payment.idempotency_key
        )
    except GatewayError as error:
        logger.warning("saved-card charge of payment %s failed: %s", payment.pk, error)
        result = ChargeResult("declined", message=str(error))
    if result.status == "succeeded":
        payment_confirm(
            payment_id=payment.pk,
            reference=result.reference,
            amount=payment.total,
            source="saved_card",
            paid_on=today,
        )
    else:
        payment_reject(
            payment_id=payment.pk,
            message=result.message or "Addebito sulla carta salvata rifiutato.",
            source="saved_card",
        )
    return result


def card_charge_of(payment: Payment | None) -> CardCharge | None:
    """The last saved-card charge of an order (its payment with a saved card), if any."""
    if payment is None:
        return None
    status = {PaymentStatus.CONFIRMED: "charged", PaymentStatus.REJECTED: "declined"}.get(
        payment.status, "pending"
    )
    return CardCharge(
        status, str(payment.saved_card) if payment.saved_card else "", payment.message
    )
