"""Payment gateways, through django-payments.

`TestGatewayProvider` is the gateway used in development and tests, shown to customers as
"Pagamento di prova": its page lets the payer choose success or failure, and it accepts
webhooks signed with HMAC-SHA256 like a real gateway, so the same code paths run as with
Stripe or PayPal (a browser return and a webhook racing, a webhook delivered twice...).
"""

import hashlib
import hmac
import json

from django import forms
from django.conf import settings
from django.http import HttpResponseBadRequest, HttpResponseForbidden, JsonResponse
from payments import PaymentStatus, RedirectNeeded
from payments.core import BasicProvider

SIGNATURE_HEADER = "HTTP_X_TEST_GATEWAY_SIGNATURE"


def sign(body: bytes, secret: str | None = None) -> str:
    key = (secret or settings.PAYMENT_TEST_WEBHOOK_SECRET).encode()
    return hmac.new(key, body, hashlib.sha256).hexdigest()


class TestGatewayForm(forms.Form):
    outcome = forms.ChoiceField(
        label="Esito del pagamento di prova",
        choices=[("success", "Pagamento riuscito"), ("failure", "Pagamento rifiutato")],
        widget=forms.RadioSelect,
        initial="success",
    )


class TestGatewayProvider(BasicProvider):
    label = "Pagamento di prova"

    def get_form(self, payment, data=None):
        if payment.status == PaymentStatus.WAITING:
            payment.change_status(PaymentStatus.INPUT)
        form = TestGatewayForm(data=data)
        if form.is_valid():
            if form.cleaned_data["outcome"] == "success":
                self._confirm(payment, f"test-{payment.token}", payment.total)
                raise RedirectNeeded(payment.get_success_url())
            payment.change_status(PaymentStatus.REJECTED, "Pagamento rifiutato (prova).")
            raise RedirectNeeded(payment.get_failure_url())
        return form

    def get_token_from_request(self, payment, request):
        """The payment a webhook sent to the provider-wide URL (`process/<variant>/`) is
        about: its `token` in the JSON body. None (a 400 from django-payments) otherwise."""
        if payment is not None:
            return payment.token
        try:
            token = json.loads(request.body).get("token")
        except (ValueError, AttributeError):
            return None
        return token if isinstance(token, str) and token.strip() else None

    def process_data(self, payment, request):
        """The gateway's webhook: a JSON body signed in the X-Test-Gateway-Signature header."""
        signature = request.META.get(SIGNATURE_HEADER, "")
        if not hmac.compare_digest(signature, sign(request.body)):
            return HttpResponseForbidden("firma non valida")
        try:
            event = json.loads(request.body)
            status = event["status"]
            reference = str(event["transaction_id"])
        except (ValueError, KeyError, TypeError):
            return HttpResponseBadRequest("evento non valido")
        if status == "confirmed":
            from decimal import Decimal, InvalidOperation

            try:
                amount = Decimal(str(event.get("amount", payment.total)))
            except InvalidOperation:
                return HttpResponseBadRequest("importo non valido")
            self._confirm(payment, reference, amount)
        elif status == "rejected":
            if payment.status not in (PaymentStatus.CONFIRMED, PaymentStatus.REFUNDED):
                payment.change_status(PaymentStatus.REJECTED, "Rifiutato dal gateway.")
        else:
            return HttpResponseBadRequest("stato sconosciuto")
        return JsonResponse({"ok": True})

    @staticmethod
    def _confirm(payment, reference: str, amount) -> None:
        if payment.status == PaymentStatus.CONFIRMED:
            # Delivered twice: the fulfilment guard makes the repeat harmless anyway.
            from billing.services.payments import payment_apply

            payment_apply(payment_id=payment.pk)
            return
        payment.transaction_id = reference
        payment.captured_amount = amount
        payment.save(update_fields=["transaction_id", "captured_amount"])
        payment.change_status(PaymentStatus.CONFIRMED)

    def capture(self, payment, amount=None):
        return amount or payment.total

    def release(self, payment):
        return None

    def refund(self, payment, amount=None):
        return amount or payment.captured_amount

    def cancel(self, payment):
        return None
