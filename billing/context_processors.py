from billing.models import CartItem
from billing.views.common import current_customer


def cart(request):
    """The number of items in the cart, for the header (one small query)."""
    customer = current_customer(request)
    if customer is not None:
        count = CartItem.objects.filter(cart__customer=customer).count()
    elif request.session.session_key:
        count = CartItem.objects.filter(cart__session_key=request.session.session_key).count()
    else:
        count = 0
    return {"cart_count": count}
