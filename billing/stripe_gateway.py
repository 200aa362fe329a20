"""Stripe for cards, with the Stripe SDK (django-payments' own Stripe provider sends no
idempotency keys, saves no cards and cannot charge off-session).

- On-session: a Checkout Session per attempt (amount in cents, EUR, the order number and
  the attempt in metadata, the attempt's idempotency key). With the customer's consent the
  card is saved for later off-session charges (`setup_future_usage=off_session`).
- The browser comes back to /pagamenti/process/<token>/: the session is read from Stripe and
  a paid one is confirmed (`payment_confirm`). The webhook does the same from its event.
- Off-session: a PaymentIntent with `off_session=true, confirm=true` on the saved card.
- Webhooks: /pagamenti/stripe/webhook/, verified with the endpoint's signing secret
  (`stripe_event_apply` applies each event id once).

Nothing here runs unless PAYMENT_GATEWAY=stripe: the default configuration never loads it.
`HTTP_CLIENT` lets tests give the SDK recorded responses instead of the network.
"""

import json
import logging
from decimal import Decimal

import stripe
from django import forms
from django.http import HttpResponseBadRequest, HttpResponseRedirect
from payments import PaymentError, RedirectNeeded
from payments.core import BasicProvider

from billing.gateways import CardDetails, ChargeResult, Gateway, GatewayError

logger = logging.getLogger(__name__)

HTTP_CLIENT: "stripe.HTTPClient | None" = None  # None: the SDK's own (requests)
CENT = Decimal("0.01")


def cents(amount: Decimal) -> int:
    return int((amount / CENT).to_integral_value())


def from_cents(value) -> Decimal:
    return (Decimal(int(value)) * CENT).quantize(CENT)


class StripeStartForm(forms.Form):
    """The page before Stripe Checkout: one button (and the consent checkbox beside it)."""

    go = forms.CharField(widget=forms.HiddenInput, initial="1", required=False)


class StripeProvider(Gateway, BasicProvider):
    label = "Carta di credito (Stripe)"
    name = "stripe"
    saves_cards = True

    def __init__(self, api_key: str, endpoint_secret: str, **kwargs):
        super().__init__(capture=True)
        if not api_key or not endpoint_secret:
            raise ValueError("Stripe needs api_key and endpoint_secret")
        self.api_key = api_key
        self.endpoint_secret = endpoint_secret

    def client(self) -> stripe.StripeClient:
        return stripe.StripeClient(self.api_key, http_client=HTTP_CLIENT, max_network_retries=2)

    # --- on-session checkout ----------------------------------------------------------

    def get_form(self, payment, data=None):
        if data is None:
            return StripeStartForm()
        from billing.services.payments import payment_mark_input

        payment_mark_input(payment=payment)
        session = self.checkout_session(payment)
        raise RedirectNeeded(session["url"])

    def checkout_session(self, payment) -> dict:
        order = payment.order
        metadata = {
            "order_number": order.number,
            "payment_token": payment.token,
            "attempt": str(payment.attempt),
        }
        intent = {"metadata": metadata, "description": f"Ordine {order.number}"}
        params = {
            "mode": "payment",
            "client_reference_id": payment.token,
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": "eur",
                        "unit_amount": cents(payment.total),
                        "product_data": {"name": f"Ordine {order.number}"},
                    },
                }
            ],
            "metadata": metadata,
            "payment_intent_data": intent,
            "success_url": self.get_return_url(payment) + "?session_id={CHECKOUT_SESSION_ID}",
            "cancel_url": payment.get_failure_url(),
            "locale": "it",
        }
        try:
            if payment.save_card:
                intent["setup_future_usage"] = "off_session"
                params["customer"] = self.customer_for(order.customer)
            else:
                params["customer_email"] = order.customer.email
            session = plain(
                self.client().v1.checkout.sessions.create(
                    params=params,
                    options={"idempotency_key": f"{payment.idempotency_key}-session"},
                )
            )
        except stripe.StripeError as error:
            raise PaymentError(_message(error), code=400) from error
        type(payment).objects.filter(pk=payment.pk).update(gateway_reference=session["id"])
        return session

    def customer_for(self, customer) -> str:
        """The Stripe customer of a shop customer: the one of a saved card, or a new one
        (created once: the key is the customer's id)."""
        from billing.models import SavedCard

        known = (
            SavedCard.objects.filter(customer=customer, gateway=self.name)
            .values_list("gateway_customer", flat=True)
            .first()
        )
        if known:
            return known
        created = self.client().v1.customers.create(
            params={"email": customer.email, "metadata": {"shop_customer": str(customer.pk)}},
            options={"idempotency_key": f"customer-{customer.pk}"},
        )
        return created["id"]

    def process_data(self, payment, request):
        """The browser's return from Checkout (GET with session_id)."""
        from billing.services.payments import payment_confirm

        session_id = request.GET.get("session_id", "")
        if request.method != "GET" or not session_id.startswith("cs_") or len(session_id) > 255:
            return HttpResponseBadRequest("richiesta non valida")
        try:
            session = plain(
                self.client().v1.checkout.sessions.retrieve(
                    session_id, params={"expand": ["payment_intent.payment_method"]}
                )
            )
        except stripe.StripeError as error:
            logger.warning("checkout session %s not read: %s", session_id, error)
            return HttpResponseRedirect(payment.get_failure_url())
        if session.get("client_reference_id") != payment.token:
            return HttpResponseBadRequest("sessione di un altro pagamento")
        if session.get("payment_status") != "paid":
            return HttpResponseRedirect(payment.get_failure_url())
        intent = session["payment_intent"]
        outcome = payment_confirm(
            payment_id=payment.pk,
            reference=_id(intent),
            amount=from_cents(session["amount_total"]),
            source="browser",
        )
        if outcome == "fulfilled" and payment.save_card and isinstance(intent, dict):
            save_card_of_intent(payment, intent)
        return HttpResponseRedirect(payment.get_success_url())

    def get_token_from_request(self, payment, request):
        raise PaymentError("Gli eventi Stripe vanno inviati a /pagamenti/stripe/webhook/", code=400)

    # --- webhooks ---------------------------------------------------------------------

    def verified_event(self, payload: bytes, signature: str) -> dict:
        """The event of a webhook whose signature is valid; ValueError otherwise."""
        try:
            stripe.WebhookSignature.verify_header(
                payload.decode("utf-8"),
                signature,
                self.endpoint_secret,
                tolerance=stripe.Webhook.DEFAULT_TOLERANCE,  # older signatures are replays
            )
            event = json.loads(payload)
        except (stripe.SignatureVerificationError, UnicodeDecodeError, ValueError) as error:
            raise ValueError("firma o evento non validi") from error
        if not isinstance(event, dict) or not isinstance(event.get("id"), str):
            raise ValueError("evento non valido")
        return event

    # --- the shop's own gateway calls -------------------------------------------------

    def cancel_attempt(self, payment) -> None:
        if not payment.gateway_reference.startswith("cs_"):
            return
        try:
            self.client().v1.checkout.sessions.expire(payment.gateway_reference)
        except stripe.StripeError as error:
            raise GatewayError(_message(error)) from error

    def refund_payment(self, payment, *, amount, idempotency_key) -> str:
        try:
            refund = self.client().v1.refunds.create(
                params={
                    "payment_intent": payment.transaction_id,
                    "amount": cents(amount),
                    "metadata": {"order_number": payment.order.number},
                },
                options={"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as error:
            raise GatewayError(_message(error)) from error
        return refund["id"]

    def charge_saved_card(self, payment, card, *, idempotency_key) -> ChargeResult:
        params = {
            "amount": cents(payment.total),
            "currency": "eur",
            "customer": card.gateway_customer,
            "payment_method": card.gateway_method,
            "off_session": True,
            "confirm": True,
            "description": f"Ordine {payment.order.number} (rinnovo automatico)",
            "metadata": {
                "order_number": payment.order.number,
                "payment_token": payment.token,
                "attempt": str(payment.attempt),
            },
        }
        try:
            intent = plain(
                self.client().v1.payment_intents.create(
                    params=params, options={"idempotency_key": idempotency_key}
                )
            )
        except stripe.CardError as error:
            if error.code == "authentication_required":
                return ChargeResult("authentication_required", message=_message(error))
            return ChargeResult("declined", message=_message(error))
        except stripe.StripeError as error:
            raise GatewayError(_message(error)) from error
        if intent["status"] == "succeeded":
            return ChargeResult("succeeded", reference=intent["id"])
        if intent["status"] == "requires_action":
            return ChargeResult("authentication_required", message="Serve 3-D Secure.")
        return ChargeResult("declined", message=f"Stato {intent['status']}")

    def start_card_setup(self, customer, *, return_url, key) -> str:
        """A Checkout Session in setup mode: Stripe's page collects and saves the card."""
        try:
            session = plain(
                self.client().v1.checkout.sessions.create(
                    params={
                        "mode": "setup",
                        "currency": "eur",
                        "customer": self.customer_for(customer),
                        "payment_method_types": ["card"],
                        "metadata": {"shop_customer": str(customer.pk)},
                        "success_url": return_url + "?session_id={CHECKOUT_SESSION_ID}",
                        "cancel_url": return_url,
                        "locale": "it",
                    },
                    options={"idempotency_key": f"setup-{key}"},
                )
            )
        except stripe.StripeError as error:
            raise GatewayError(_message(error)) from error
        return session["url"]

    def finish_card_setup(self, customer, *, reference) -> CardDetails:
        if not reference.startswith("cs_") or len(reference) > 255:
            raise GatewayError("Sessione non valida.")
        try:
            session = plain(
                self.client().v1.checkout.sessions.retrieve(
                    reference, params={"expand": ["setup_intent.payment_method"]}
                )
            )
        except stripe.StripeError as error:
            raise GatewayError(_message(error)) from error
        intent = session.get("setup_intent") or {}
        method = intent.get("payment_method") if isinstance(intent, dict) else None
        if (
            session.get("metadata", {}).get("shop_customer") != str(customer.pk)
            or not isinstance(method, dict)
            or intent.get("status") != "succeeded"
        ):
            raise GatewayError("La carta non è stata salvata.")
        card = method.get("card") or {}
        return CardDetails(
            gateway_customer=_id(session.get("customer")),
            gateway_method=method["id"],
            brand=str(card.get("brand", "carta")).capitalize(),
            last4=str(card.get("last4", "")),
            exp_month=int(card.get("exp_month", 1)),
            exp_year=int(card.get("exp_year", 2000)),
        )

    def detach_card(self, card) -> None:
        try:
            self.client().v1.payment_methods.detach(card.gateway_method)
        except stripe.StripeError as error:
            raise GatewayError(_message(error)) from error


def save_card_of_intent(payment, intent: dict) -> None:
    """Record the card of a paid intent the customer agreed to save."""
    from billing.services.saved_cards import saved_card_record

    method = intent.get("payment_method")
    customer = intent.get("customer")
    if not isinstance(method, dict) or not customer or "card" not in method:
        return
    card = method["card"]
    saved_card_record(
        customer=payment.order.customer,
        gateway=StripeProvider.name,
        details=CardDetails(
            gateway_customer=_id(customer),
            gateway_method=method["id"],
            brand=str(card.get("brand", "carta")).capitalize(),
            last4=str(card.get("last4", "")),
            exp_month=int(card.get("exp_month", 1)),
            exp_year=int(card.get("exp_year", 2000)),
        ),
        payment=payment,
    )


def plain(obj):
    """A Stripe object as plain dicts and lists (the SDK's objects are not dicts)."""
    return obj.to_dict() if hasattr(obj, "to_dict") else obj


def _id(value) -> str:
    return value["id"] if isinstance(value, dict) else str(value or "")


def _message(error: "stripe.StripeError") -> str:
    return getattr(error, "user_message", None) or str(error) or type(error).__name__
