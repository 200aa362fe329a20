"""The cart: kept in the database, anonymous until login, priced on the server each time."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, QuerySet

from billing.catalogue_cache import current_catalogue
from billing.models import Cart, CartItem, ItemKind, Order
from billing.pricing import PricingError, Quote, totals
from billing.services.items import MAX_NEW_MAILBOXES, ItemSpec, item_quote, new_mailbox_address
from billing.services.orders import OrderError, order_place
from customers.models import Customer
from mailboxes.models import Mailbox
from mailboxes.selectors import address_unavailable_reason
from pecshop.prepared import Bound, prepared


class CartError(OrderError):
    pass


def cart_get(
    *, customer: Customer | None = None, session_key: str | None = None, create: bool = False
) -> Cart | None:
    if customer is not None:
        owner = {"customer": customer}
    elif session_key:
        owner = {"session_key": session_key}
    else:
        return None
    cart = Cart.objects.filter(**owner).first()
    if cart is None and create:
        cart, _ = Cart.objects.get_or_create(**owner)
    return cart


@dataclass(frozen=True)
class CartState:
    """What every page needs to know of a cart: its id, a version that moves with any change
    (the cart page's body is kept under it), its size, and whether it changes mailboxes."""

    id: int
    version: str
    count: int
    has_mailbox_changes: bool


def _state_of(cart: QuerySet) -> QuerySet:
    changes = CartItem.objects.filter(cart=OuterRef("pk")).exclude(kind=ItemKind.NEW_MAILBOX)
    return cart.annotate(count=Count("items"), changes=Exists(changes)).values_list(
        "pk", "updated_at", "count", "changes"
    )


@prepared
def _customer_cart_state(customer_id: int) -> QuerySet:
    return _state_of(Cart.objects.filter(customer_id=customer_id))


@prepared
def _session_cart_state(session_key: str) -> QuerySet:
    return _state_of(Cart.objects.filter(session_key=session_key))


def cart_state_read(customer: Customer) -> Bound:
    """The customer's cart state as a statement to send with a page's own
    (`pecshop.prepared.together`); `cart_state_from` reads its rows."""
    return _customer_cart_state.bind(customer_id=customer.pk)


def cart_state_from(rows: list) -> CartState | None:
    if not rows:
        return None
    pk, updated_at, count, changes = rows[0]
    return CartState(pk, f"{pk}-{updated_at.timestamp()}", count, bool(changes))


def cart_state(
    *,
    customer: Customer | None = None,
    session_key: str | None = None,
) -> CartState | None:
    """The cart's id, version and item count: one statement, compiled once. Read from the
    database each time, so nothing has to be forgotten when the cart changes."""
    if customer is not None:
        return cart_state_from(cart_state_read(customer).rows())
    if session_key:
        return cart_state_from(_session_cart_state.all(session_key=session_key))
    return None


@transaction.atomic
def cart_merge(*, session_key: str, customer: Customer) -> Cart | None:
    """At login: the anonymous cart's items move into the customer's own cart."""
    anonymous = Cart.objects.select_for_update().filter(session_key=session_key).first()
    if anonymous is None:
        return cart_get(customer=customer)
    own = Cart.objects.get_or_create(customer=customer)[0]
    anonymous.items.update(cart=own)
    anonymous.delete()
    own.save(update_fields=["updated_at"])
    return own


IN_CART = "Questo indirizzo è già nel carrello."


def cart_address_problem(
    *, cart: Cart | None, address: str, exclude_item: int | None = None
) -> str | None:
    """Why `address` cannot go into this cart (taken, or already in the cart), or None; the
    live check and the configure page ask the same question as adding to the cart."""
    reason = address_unavailable_reason(address)
    if reason:
        return reason
    if cart is not None:
        others = cart.items.filter(kind=ItemKind.NEW_MAILBOX).exclude(pk=exclude_item)
        if any(new_mailbox_address(i.params) == address for i in others):
            return IN_CART
    return None


def _check_new_mailbox(cart: Cart, params: dict, exclude_item: int | None = None) -> None:
    try:
        address = new_mailbox_address(params)
    except PricingError as error:
        raise CartError(error.message, field=error.field) from None
    problem = cart_address_problem(cart=cart, address=address, exclude_item=exclude_item)
    if problem:
        raise CartError(problem, field="local_part")
    others = cart.items.filter(kind=ItemKind.NEW_MAILBOX).exclude(pk=exclude_item)
    if exclude_item is None and others.count() >= MAX_NEW_MAILBOXES:
        raise CartError(
            f"Il carrello può contenere al massimo {MAX_NEW_MAILBOXES} nuove caselle.",
            field="local_part",
        )


@transaction.atomic
def cart_add_item(
    *, cart: Cart, spec: ItemSpec, today: date, mailbox: Mailbox | None = None
) -> CartItem:
    """Validate and add an item. Only what is bought is stored, never a price."""
    cart = Cart.objects.select_for_update().get(pk=cart.pk)
    params = _clean_params(spec)
    if spec.kind == ItemKind.NEW_MAILBOX:
        _check_new_mailbox(cart, params)
    elif mailbox is None:
        raise CartError("Casella non trovata.", field="mailbox")
    try:
        item_quote(
            current_catalogue(today),
            ItemSpec(spec.kind, params, spec.mailbox_id),
            today=today,
            mailbox=mailbox,
        )
    except PricingError as error:
        raise CartError(error.message, field=error.field) from None
    item = CartItem.objects.create(cart=cart, kind=spec.kind, mailbox=mailbox, params=params)
    cart.save(update_fields=["updated_at"])  # the cart's version (CartState) moves
    return item


@transaction.atomic
def cart_update_item(*, item: CartItem, params: dict, today: date) -> CartItem:
    params = _clean_params(ItemSpec(item.kind, params))
    if item.kind == ItemKind.NEW_MAILBOX:
        _check_new_mailbox(item.cart, params, exclude_item=item.pk)
    try:
        item_quote(
            current_catalogue(today),
            ItemSpec(item.kind, params, item.mailbox_id),
            today=today,
            mailbox=item.mailbox,
        )
    except PricingError as error:
        raise CartError(error.message, field=error.field) from None
    item.params = params
    item.save(update_fields=["params"])
    item.cart.save(update_fields=["updated_at"])
    return item


def cart_remove_item(*, cart: Cart, item_id: int) -> None:
    cart.items.filter(pk=item_id).delete()
    cart.save(update_fields=["updated_at"])


def _clean_params(spec: ItemSpec) -> dict:
    """Keep only the keys an item of this kind has (a tampered form adds nothing)."""
    allowed = {
        ItemKind.NEW_MAILBOX: {"tier", "local_part", "domain", "years", "addons"},
        ItemKind.ADDON: {"add"},
        ItemKind.RENEWAL: {"years", "to_tier", "keep", "add", "confirm_archive_loss"},
        ItemKind.UPGRADE: {"to_tier", "add"},
    }[spec.kind]
    params = {k: v for k, v in spec.params.items() if k in allowed}
    if spec.kind == ItemKind.NEW_MAILBOX:
        params["local_part"] = str(params.get("local_part", "")).strip().lower()
        params["domain"] = str(params.get("domain", "")).strip().lower()
        params["addons"] = {k: v for k, v in (params.get("addons") or {}).items() if v}
    return params


@dataclass(frozen=True)
class PricedItem:
    item: CartItem
    quote: Quote | None
    error: str | None


@dataclass(frozen=True)
class CartSummary:
    items: list[PricedItem]
    net: Decimal
    vat: Decimal
    total: Decimal

    @property
    def is_valid(self) -> bool:
        return bool(self.items) and all(p.error is None for p in self.items)


def cart_summary(*, cart: Cart | None, today: date) -> CartSummary:
    """Every item priced now; an item that no longer fits the rules says why."""
    if cart is None:
        return CartSummary([], Decimal("0.00"), Decimal("0.00"), Decimal("0.00"))
    catalogue = current_catalogue(today)
    priced = []
    for item in cart.items.select_related("mailbox__tier"):
        try:
            quote = item_quote(
                catalogue,
                ItemSpec(item.kind, item.params, item.mailbox_id),
                today=today,
                mailbox=item.mailbox,
            )
            priced.append(PricedItem(item, quote, None))
        except PricingError as error:
            priced.append(PricedItem(item, None, error.message))
    net, vat, total = totals([line for p in priced if p.quote for line in p.quote.lines])
    return CartSummary(priced, net, vat, total)


@transaction.atomic
def cart_checkout(
    *,
    cart: Cart,
    customer: Customer,
    payment_method: str,
    placement_key: str,
    today: date,
    holders: dict[int, int] | None = None,
    passwords: dict[int, str] | None = None,
    actor=None,
) -> Order:
    """Place the order of the cart's items and empty the cart, in one transaction.

    `holders` and `passwords` give, per cart item id, the holder profile and the mailbox
    password of each new mailbox (default holder: the account's own).
    """
    existing = Order.objects.filter(customer=customer, placement_key=placement_key).first()
    if existing is not None:
        return existing
    holders, passwords = holders or {}, passwords or {}
    specs = []
    for item in cart.items.select_related("mailbox").order_by("created_at", "id"):
        params = dict(item.params)
        if item.kind == ItemKind.NEW_MAILBOX:
            params["holder_id"] = holders.get(item.pk) or customer.own_holder_id
            if passwords.get(item.pk):
                params["password_hash"] = make_password(passwords[item.pk])
        specs.append(ItemSpec(item.kind, params, item.mailbox_id))
    order = order_place(
        customer=customer,
        items=specs,
        payment_method=payment_method,
        placement_key=placement_key,
        today=today,
        actor=actor,
    )
    cart.items.all().delete()
    cart.save(update_fields=["updated_at"])
    return order
