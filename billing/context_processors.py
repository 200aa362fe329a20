from billing.views.common import request_cart_state


def cart(request):
    """The number of items in the cart, for the header (from the cache, usually)."""
    state = request_cart_state(request)
    return {"cart_count": state.count if state else 0}
