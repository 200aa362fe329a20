"""Payment gateways, through django-payments.

`TestGatewayProvider` is the gateway used in development and tests, shown to customers as
"Pagamento di prova": its page lets the payer choose success or failure (and, with the
customer's consent, saves a test card for the automatic renewals), and it accepts webhooks
signed with HMAC-SHA256 like a real gateway, so the same code paths run as with Stripe or
PayPal (a browser return and a webhook racing, a webhook delivered twice...).

Every confirmation goes through `billing.services.payments.payment_confirm`, which fulfils
the order once; nothing depends on django-payments' status signal.
"""

import hashlib
import hmac
import json
from decimal import Decimal, InvalidOperation
from typing import ClassVar

from django import forms
from django.conf import settings
from django.http import HttpResponseBadRequest, HttpResponseForbidden, JsonResponse
from payments import PaymentError, RedirectNeeded
from payments.core import BasicProvider

from billing.gateways import CardDetails, ChargeResult, Gateway

SIGNATURE_HEADER = "HTTP_X_TEST_GATEWAY_SIGNATURE"
MAX_WEBHOOK_BYTES = 64 * 1024


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


class TestCardOutcomes:
    """What the test gateway answers to an off-session charge of a saved card: success
    unless tests (or a developer in a shell) say otherwise."""

    decline: ClassVar[bool] = False
    authentication_required: ClassVar[bool] = False
    charged: ClassVar[list[int]] = []  # payment ids, for tests to look at


# The card the test gateway saves: Visa 4242, expiring at the end of this year + 4.
TEST_CARD = {"brand": "Visa", "last4": "4242", "exp_month": 12}
TEST_CARD_YEARS = 4


class TestGatewayProvider(Gateway, BasicProvider):
    label = "Pagamento di prova"
    name = "test"
    saves_cards = True

    def get_form(self, payment, data=None):
        from billing.services.payments import payment_mark_input, payment_reject

        payment_mark_input(payment=payment)
        form = TestGatewayForm(data=data)
        if form.is_valid():
            if form.cleaned_data["outcome"] == "success":
                self._confirm(payment, f"test-{payment.token}", payment.total, "browser")
                raise RedirectNeeded(payment.get_success_url())
            payment_reject(
                payment_id=payment.pk, message="Pagamento rifiutato (prova).", source="browser"
            )
            raise RedirectNeeded(payment.get_failure_url())
        return form

    def process_data(self, payment, request):
        """The gateway's webhook: a JSON body signed in the X-Test-Gateway-Signature header."""
        from billing.services.payments import payment_reject

        if request.method != "POST":
            return HttpResponseBadRequest("metodo non ammesso")
        signature = request.META.get(SIGNATURE_HEADER, "")
        if not hmac.compare_digest(signature, sign(request.body)):
            return HttpResponseForbidden("firma non valida")
        try:
            event = json.loads(request.body)
            status = event["status"]
            reference = str(event["transaction_id"])[:255]
        except (ValueError, KeyError, TypeError):
            return HttpResponseBadRequest("evento non valido")
        if status == "confirmed":
            amount = _amount(event.get("amount", payment.total))
            if amount is None:
                return HttpResponseBadRequest("importo non valido")
            self._confirm(payment, reference, amount, "webhook")
        elif status == "rejected":
            payment_reject(
                payment_id=payment.pk, message="Rifiutato dal gateway.", source="webhook"
            )
        else:
            return HttpResponseBadRequest("stato sconosciuto")
        return JsonResponse({"ok": True})

    def get_token_from_request(self, payment, request):
        """The static endpoint /pagamenti/process/<variant>/: the token is in the signed body."""
        if request.method != "POST" or len(request.body) > MAX_WEBHOOK_BYTES:
            raise PaymentError("richiesta non valida", code=400)
        if not hmac.compare_digest(request.META.get(SIGNATURE_HEADER, ""), sign(request.body)):
            raise PaymentError("firma non valida", code=403)
        try:
            token = json.loads(request.body)["token"]
        except (ValueError, KeyError, TypeError):
            raise PaymentError("evento non valido", code=400) from None
        if not isinstance(token, str) or len(token) > 36:
            raise PaymentError("evento non valido", code=400)
        return token

    @staticmethod
    def _confirm(payment, reference: str, amount: Decimal, source: str) -> None:
        from billing.services.payments import payment_confirm
        from billing.services.saved_cards import saved_card_record

        outcome = payment_confirm(
            payment_id=payment.pk, reference=reference, amount=amount, source=source
        )
        if payment.save_card and outcome == "fulfilled":
            from django.utils import timezone

            saved_card_record(
                customer=payment.order.customer,
                gateway="test",
                details=CardDetails(
                    gateway_customer=f"test-customer-{payment.order.customer_id}",
                    gateway_method=f"test-card-{payment.token}",
                    exp_year=timezone.localdate().year + TEST_CARD_YEARS,
                    **TEST_CARD,
                ),
                payment=payment,
            )

    # --- the shop's own gateway calls -------------------------------------------------

    def refund_payment(self, payment, *, amount, idempotency_key):
        return f"test-refund-{idempotency_key}"

    def charge_saved_card(self, payment, card, *, idempotency_key):
        if TestCardOutcomes.decline:
            return ChargeResult("declined", message="Carta rifiutata (prova).")
        if TestCardOutcomes.authentication_required:
            return ChargeResult("authentication_required", message="Serve 3-D Secure (prova).")
        TestCardOutcomes.charged.append(payment.pk)
        return ChargeResult("succeeded", reference=f"saved-{payment.token}")

    def start_card_setup(self, customer, *, return_url, key):
        """The test gateway has no card page: its card is "entered" at once."""
        return f"{return_url}?setup={key}"

    def finish_card_setup(self, customer, *, reference):
        from django.utils import timezone

        return CardDetails(
            gateway_customer=f"test-customer-{customer.pk}",
            gateway_method=f"test-card-{reference}"[:255],
            exp_year=timezone.localdate().year + TEST_CARD_YEARS,
            **TEST_CARD,
        )

    def capture(self, payment, amount=None):
        return amount or payment.total

    def release(self, payment):
        return None

    def refund(self, payment, amount=None):
        return amount or payment.captured_amount

    def cancel(self, payment):
        return None


def _amount(value) -> Decimal | None:
    """A positive amount with at most two decimals and a sane size, or None."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    if not amount.is_finite() or amount <= 0 or amount >= Decimal("1e10"):
        return None
    if amount != amount.quantize(Decimal("0.01")):
        return None
    return amount
