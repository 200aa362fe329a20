"""Cards saved at the gateway with the customer's consent, for automatic renewals.

The shop never holds card data: only the gateway's ids and what the customer needs to
recognise the card (brand, last 4 digits, expiry). The first card saved pays the
automatic renewals until the customer chooses another one.
"""

import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from billing.gateways import CardDetails, GatewayError, gateway_named
from billing.models import Payment, SavedCard
from customers.models import Customer

logger = logging.getLogger(__name__)


class SavedCardError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def saved_cards_of(customer: Customer):
    return SavedCard.objects.filter(customer=customer, removed_at__isnull=True)


def default_card(customer: Customer) -> SavedCard | None:
    return saved_cards_of(customer).order_by("-is_default", "-created_at", "-id").first()


@transaction.atomic
def saved_card_record(
    *, customer: Customer, gateway: str, details: CardDetails, payment: Payment | None = None
) -> SavedCard:
    """Record a card the gateway saved (once per gateway method, whatever repeats)."""
    Customer.objects.select_for_update().get(pk=customer.pk)
    card = SavedCard.objects.filter(gateway=gateway, gateway_method=details.gateway_method).first()
    if card is None:
        has_default = saved_cards_of(customer).filter(is_default=True).exists()
        try:
            with transaction.atomic():
                card = SavedCard.objects.create(
                    customer=customer,
                    gateway=gateway,
                    gateway_customer=details.gateway_customer,
                    gateway_method=details.gateway_method,
                    brand=details.brand[:30],
                    last4=details.last4[-4:],
                    exp_month=details.exp_month,
                    exp_year=details.exp_year,
                    is_default=not has_default,
                )
        except IntegrityError:
            card = SavedCard.objects.get(gateway=gateway, gateway_method=details.gateway_method)
    if payment is not None and payment.saved_card_id is None:
        Payment.objects.filter(pk=payment.pk).update(saved_card=card)
    return card


def _own_card(customer: Customer, card_id: int) -> SavedCard:
    card = saved_cards_of(customer).filter(pk=card_id).first()
    if card is None:
        raise SavedCard.DoesNotExist
    return card


@transaction.atomic
def saved_card_set_default(*, customer: Customer, card_id: int) -> SavedCard:
    """Choose the card that pays the automatic renewals."""
    Customer.objects.select_for_update().get(pk=customer.pk)
    card = _own_card(customer, card_id)
    saved_cards_of(customer).exclude(pk=card.pk).update(is_default=False)
    SavedCard.objects.filter(pk=card.pk).update(is_default=True)
    card.is_default = True
    return card


def saved_card_remove(*, customer: Customer, card_id: int) -> SavedCard:
    """Remove a card: detached at the gateway, then hidden here (payments keep their link).
    When it paid the renewals, the most recent remaining card takes its place."""
    card = _own_card(customer, card_id)
    try:
        gateway_named("card").detach_card(card)
    except GatewayError as error:
        logger.warning("card %s not detached at the gateway: %s", card.pk, error)
    with transaction.atomic():
        Customer.objects.select_for_update().get(pk=customer.pk)
        SavedCard.objects.filter(pk=card.pk).update(removed_at=timezone.now(), is_default=False)
        if card.is_default:
            successor = saved_cards_of(customer).order_by("-created_at", "-id").first()
            if successor is not None:
                SavedCard.objects.filter(pk=successor.pk).update(is_default=True)
    return card


def card_setup_start(*, customer: Customer, return_url: str) -> str:
    """Begin saving a card from the Area Clienti (the customer gave consent): the URL of
    the gateway's card page."""
    import uuid

    gateway = gateway_named("card")
    if not gateway.saves_cards:
        raise SavedCardError("Il circuito di pagamento non permette di salvare carte.")
    try:
        return gateway.start_card_setup(customer, return_url=return_url, key=uuid.uuid4().hex)
    except GatewayError as error:
        raise SavedCardError(
            f"Non è stato possibile aprire la pagina della carta: {error}"
        ) from error


def card_setup_finish(*, customer: Customer, reference: str) -> SavedCard:
    gateway = gateway_named("card")
    try:
        details = gateway.finish_card_setup(customer, reference=reference)
    except GatewayError as error:
        raise SavedCardError(f"La carta non è stata salvata: {error}") from error
    return saved_card_record(customer=customer, gateway=gateway.name, details=details)
