"""PayPal for one-off orders, through django-payments' PayPal provider.

The provider's own return handler confirms the payment by a bare status change; here the
return goes through `payment_confirm`, which fulfils the order once. PayPal keeps no card
for the shop: its renewals are paid by the customer from the reminder e-mail.
"""

import json
import logging

import requests
from django.db import transaction
from django.http import HttpResponseBadRequest, HttpResponseRedirect
from payments import PaymentError, PaymentStatus
from payments.paypal import PaypalProvider

from billing.gateways import Gateway, GatewayError
from billing.models import Order, Payment

logger = logging.getLogger(__name__)

REFUND_TIMEOUT = 30  # seconds; a refund not answered by then is retried with the same id


class PayPalProvider(Gateway, PaypalProvider):
    name = "paypal"

    def process_data(self, payment, request):
        from billing.services.payments import payment_reject

        if request.method != "GET" or "token" not in request.GET:
            return HttpResponseBadRequest("richiesta non valida")
        payer_id = request.GET.get("PayerID", "")
        if not payer_id:
            payment_reject(payment_id=payment.pk, message="Annullato su PayPal.", source="browser")
            return HttpResponseRedirect(payment.get_failure_url())
        # Two returns at once: the second waits here and finds the payment confirmed (the
        # order first, as every confirmation path locks them).
        with transaction.atomic():
            Order.objects.select_for_update().get(pk=payment.order_id)
            payment = Payment.objects.select_for_update().get(pk=payment.pk)
            if payment.status == PaymentStatus.CONFIRMED:
                return HttpResponseRedirect(payment.get_success_url())
            return self._execute(payment, payer_id)

    def _execute(self, payment, payer_id: str):
        from billing.services.payments import payment_confirm

        try:
            executed = self.execute_payment(payment, payer_id[:64])
            self.set_response_links(payment, executed)
        except (PaymentError, requests.RequestException, KeyError, TypeError, ValueError) as error:
            logger.warning("PayPal payment %s not executed: %s", payment.pk, error)
            return HttpResponseRedirect(payment.get_failure_url())
        payment_confirm(
            payment_id=payment.pk,
            reference=payment.transaction_id,
            amount=payment.total,
            source="browser",
        )
        return HttpResponseRedirect(payment.get_success_url())

    def get_form(self, payment, data=None):
        try:
            return super().get_form(payment, data)
        except (requests.RequestException, KeyError, ValueError) as error:
            raise PaymentError("PayPal non risponde", code=502) from error

    def get_token_from_request(self, payment, request):
        raise PaymentError("PayPal non usa questo indirizzo", code=400)

    def refund_payment(self, payment, *, amount, idempotency_key) -> str:
        """A refund of the sale, sent with `PayPal-Request-Id: idempotency_key`: the same
        refund asked again (a timeout, a job that died after sending) gets PayPal's first
        answer back instead of a second refund. The provider's own `post` cannot carry that
        header, and on an error answer it would mark the original payment failed; this
        leaves the payment as it is and raises GatewayError."""
        try:
            url = self._get_links(payment)["refund"]["href"]
            response = requests.request(
                "post",
                url,
                data=json.dumps({"amount": self.get_amount_data(payment, amount)}),
                headers={
                    "Content-Type": "application/json",
                    "Authorization": self.get_access_token(payment),
                    "PayPal-Request-Id": idempotency_key,
                },
                timeout=REFUND_TIMEOUT,
            )
            data = response.json()
            if response.status_code >= 400:
                raise GatewayError(
                    f"PayPal {response.status_code}: {data.get('message') or data.get('name')}"
                )
            return str(data["id"])
        except (PaymentError, requests.RequestException, KeyError, TypeError, ValueError) as error:
            raise GatewayError(str(error)) from error
