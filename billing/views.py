from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from billing.catalogue import load_catalogue
from billing.pricing import PricingError
from billing.quotes import parse_request, price_request, quote_as_dict
from billing.selectors import catalogue_table


@require_GET
def api_quote(request):
    """The live price of a purchase; the same parameters as `manage.py quote`."""
    params = {key: request.GET.getlist(key) for key in request.GET}
    try:
        quote_request = parse_request(params, default_today=timezone.localdate())
        quote = price_request(load_catalogue(), quote_request)
    except PricingError as error:
        return JsonResponse(
            {"error": error.message, "field": error.field},
            status=400,
            json_dumps_params={"ensure_ascii": False},
        )
    return JsonResponse(quote_as_dict(quote), json_dumps_params={"ensure_ascii": False})


def catalogue(request):
    """The three tiers side by side, the features every tier has, and the paid add-ons."""
    return render(request, "billing/catalogue.html", catalogue_table())
