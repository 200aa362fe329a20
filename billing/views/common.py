"""Small helpers shared by the shop's views: who is buying, and which cart is theirs."""

from dataclasses import astuple

from billing.models import Cart
from billing.services.cart import CartState, cart_get, cart_state
from customers.models import Customer

SESSION_STATE_KEY = "cart_state"


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


def request_cart_state(request) -> CartState | None:
    """The cart's id, version and size, read once per request (the page and its header
    both ask), unless the view read it with its own statements (`set_request_cart_state`)."""
    if not hasattr(request, "_cart_state"):
        customer = current_customer(request)
        if customer is not None:
            # A customer's cart may change from another browser: ask the database.
            request._cart_state = cart_state(customer=customer)
        elif not request.session.session_key:
            request._cart_state = None
        elif SESSION_STATE_KEY in request.session:
            # An anonymous cart changes only through this session, which keeps its state.
            state = request.session[SESSION_STATE_KEY]
            request._cart_state = CartState(*state) if state else None
        else:
            state = cart_state(session_key=request.session.session_key)
            request.session[SESSION_STATE_KEY] = list(astuple(state)) if state else None
            request._cart_state = state
    return request._cart_state


def set_request_cart_state(request, state: CartState | None) -> None:
    """The customer's cart state as the view read it with its own statements (in the same
    round trip, `billing.services.cart.cart_state_read`): the header asks nothing more."""
    request._cart_state = state


def forget_request_cart_state(request) -> None:
    """After this request changed its cart."""
    request.session.pop(SESSION_STATE_KEY, None)
    if hasattr(request, "_cart_state"):
        del request._cart_state
