"""Small helpers shared by the shop's views: who is buying, and which cart is theirs."""

from billing.models import Cart
from billing.services.cart import cart_get
from customers.models import Customer


def current_customer(request) -> Customer | None:
    if not request.user.is_authenticated:
        return None
    return getattr(request.user, "customer", None)


def request_cart(request, *, create: bool = False) -> Cart | None:
    """The customer's cart when logged in, else the one tied to this browser's session."""
    customer = current_customer(request)
    if customer is not None:
        return cart_get(customer=customer, create=create)
    if create and not request.session.session_key:
        request.session.save()
    return cart_get(session_key=request.session.session_key, create=create)
