"""What the shop asks of a payment gateway beyond django-payments' checkout page.

Each provider of `PAYMENT_VARIANTS` (the test gateway, Stripe, PayPal) implements the
calls below that it supports; the services reach them through `gateway_for(payment)`.
Every call that creates a charge or a refund receives an idempotency key from the caller.
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

from payments.core import provider_factory

if TYPE_CHECKING:
    from billing.models import Payment, SavedCard


class GatewayError(Exception):
    """The gateway could not do what was asked (unreachable, refused, not supported)."""


ChargeStatus = Literal["succeeded", "declined", "authentication_required"]


@dataclass(frozen=True)
class ChargeResult:
    status: ChargeStatus
    reference: str = ""  # the gateway's charge, when it succeeded
    message: str = ""


@dataclass(frozen=True)
class CardDetails:
    """A card the gateway saved for the customer, as the shop shows it."""

    gateway_customer: str
    gateway_method: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int


class Gateway:
    """The default answers of a gateway that supports none of the calls."""

    name = ""
    saves_cards = False

    def cancel_attempt(self, payment: "Payment") -> None:
        """Close an unconfirmed attempt at the gateway where the gateway allows it."""

    def refund_payment(self, payment: "Payment", *, amount: Decimal, idempotency_key: str) -> str:
        raise GatewayError("Questo gateway non rimborsa automaticamente.")

    def charge_saved_card(
        self, payment: "Payment", card: "SavedCard", *, idempotency_key: str
    ) -> ChargeResult:
        raise GatewayError("Questo gateway non addebita carte salvate.")

    def detach_card(self, card: "SavedCard") -> None:
        """Remove a saved card at the gateway."""

    def start_card_setup(self, customer, *, return_url: str, key: str) -> str:
        """Begin saving a card outside a payment; the URL of the gateway's card page."""
        raise GatewayError("Questo gateway non salva carte.")

    def finish_card_setup(self, customer, *, reference: str) -> CardDetails:
        """The card saved by the setup `reference` came back with."""
        raise GatewayError("Questo gateway non salva carte.")


def gateway_for(payment: "Payment") -> Gateway:
    return gateway_named(payment.variant)


def gateway_named(variant: str) -> Gateway:
    try:
        provider = provider_factory(variant)
    except (ValueError, ImportError) as error:
        raise GatewayError(f"Nessun gateway per «{variant}».") from error
    if not isinstance(provider, Gateway):
        raise GatewayError(f"Il gateway «{variant}» non supporta questa operazione.")
    return provider
