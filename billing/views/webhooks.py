"""Gateway webhooks that django-payments does not route: Stripe's, one URL for all events."""

from django.http import HttpResponse, HttpResponseBadRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from billing.gateways import GatewayError, gateway_named
from billing.services.gateway_events import stripe_event_apply

MAX_EVENT_BYTES = 512 * 1024


@csrf_exempt
def stripe_webhook(request):
    if request.method != "POST":
        return HttpResponse("usa POST", status=405, headers={"Allow": "POST"})
    from billing.stripe_gateway import StripeProvider

    try:
        gateway = gateway_named("card")
    except GatewayError:
        gateway = None
    if not isinstance(gateway, StripeProvider):
        return JsonResponse({"error": "Stripe non è configurato"}, status=404)
    if len(request.body) > MAX_EVENT_BYTES:
        return HttpResponseBadRequest("evento troppo grande")
    try:
        event = gateway.verified_event(request.body, request.headers.get("Stripe-Signature", ""))
    except ValueError as error:
        return HttpResponseBadRequest(str(error))
    return JsonResponse({"received": True, "outcome": stripe_event_apply(event=event)})
