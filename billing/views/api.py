from django.conf import settings
from django.http import HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET
from pydantic_core import to_json

from billing.catalogue_cache import current_catalogue
from billing.pricing import PricingError
from billing.quotes import parse_request, price_request, quote_as_dict
from billing.services.cart import cart_address_problem
from billing.views.common import request_cart
from mailboxes.addresses import domain_error, local_part_error, make_address
from pecshop.ratelimit import rate_limited


def _json(data: dict, status: int = 200) -> HttpResponse:
    # pydantic-core's encoder (as the API's answers): UTF-8, a third of json.dumps's time.
    return HttpResponse(to_json(data), status=status, content_type="application/json")


@rate_limited("api-quote")
@require_GET
def api_quote(request):
    """The live price of a purchase; the same parameters as `manage.py quote`."""
    params = {key: request.GET.getlist(key) for key in request.GET}
    try:
        quote_request = parse_request(params, default_today=timezone.localdate())
        quote = price_request(current_catalogue(quote_request.today), quote_request)
    except PricingError as error:
        return _json({"error": error.message, "field": error.field}, status=400)
    return _json(quote_as_dict(quote))


@rate_limited("api-address")
@require_GET
def api_address(request):
    """Is this address free? For the live check while the customer types."""
    local_part = request.GET.get("local_part", "")
    domain = request.GET.get("domain", settings.PEC_DOMAINS[0])
    message = local_part_error(local_part) or domain_error(domain, settings.PEC_DOMAINS)
    if message:
        return _json({"available": False, "valid": False, "message": message})
    address = make_address(local_part, domain)
    # An address already in this browser's cart is not free either (the cart being edited
    # leaves out its own item).
    item = request.GET.get("item", "")
    reason = cart_address_problem(
        cart=request_cart(request),
        address=address,
        exclude_item=int(item) if item.isdigit() else None,
    )
    if reason:
        return _json({"available": False, "valid": True, "address": address, "message": reason})
    return _json(
        {"available": True, "valid": True, "address": address, "message": f"{address} è libero."}
    )
