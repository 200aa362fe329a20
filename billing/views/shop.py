"""The catalogue, the configuration of a new mailbox, and the cart."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe

from addons.models import Tier
from billing.catalogue_cache import cached_fragment, current_catalogue
from billing.forms import MailboxConfigForm
from billing.models import Cart, CartItem, ItemKind
from billing.pricing import PricingError, quote_new_mailbox
from billing.selectors import catalogue_table
from billing.services.cart import (
    CartError,
    cart_add_item,
    cart_address_problem,
    cart_remove_item,
    cart_summary,
    cart_update_item,
)
from billing.services.items import MAX_NEW_MAILBOXES, ItemSpec, item_quote
from billing.views.common import (
    forget_request_cart_state,
    request_cart,
    request_cart_state,
)
from mailboxes.addresses import make_address


def catalogue(request):
    """The three tiers side by side, the features every tier has, and the paid add-ons."""
    snapshot = current_catalogue()
    body = cached_fragment(
        "page",
        lambda: render_to_string("billing/_catalogue_body.html", catalogue_table(snapshot)),
        catalogue=snapshot,
    )
    return render(request, "billing/catalogue.html", {"body": mark_safe(body)})  # noqa: S308


def configure(request, tier: str, item_id: int | None = None):
    """Choose the address, the term and the add-ons of a new mailbox; add it to the cart.

    Works without JavaScript: "Aggiorna il prezzo" submits the form and shows the price.
    """
    catalogue = current_catalogue()
    if tier not in catalogue.tiers:
        raise Http404
    item = None
    if item_id is not None:
        cart = request_cart(request)
        item = (
            get_object_or_404(CartItem, pk=item_id, cart=cart, kind=ItemKind.NEW_MAILBOX)
            if cart
            else None
        )
        if item is None:
            raise Http404
    today = timezone.localdate()
    if request.method == "POST":
        form = MailboxConfigForm(request.POST, catalogue=catalogue, tier=tier)
    else:
        initial = MailboxConfigForm.initial_from_params(item.params) if item else {}
        form = MailboxConfigForm(initial=initial, catalogue=catalogue, tier=tier)

    quote = None
    if form.is_bound:
        form.is_valid()
        # A taken address is reported together with any other error, not after fixing them.
        _report_address_problem(form, request_cart(request), item)
    if form.is_bound and not form.errors:
        params = form.item_params()
        try:
            quote = item_quote(catalogue, ItemSpec(ItemKind.NEW_MAILBOX, params), today=today)
        except PricingError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        if quote is not None and request.POST.get("action") != "price":
            try:
                forget_request_cart_state(request)
                if item is None:
                    cart_add_item(
                        cart=request_cart(request, create=True),
                        spec=ItemSpec(ItemKind.NEW_MAILBOX, params),
                        today=today,
                    )
                    messages.success(
                        request, f"{params['local_part']}@{params['domain']} è nel carrello."
                    )
                else:
                    cart_update_item(item=item, params=params, today=today)
                    messages.success(request, "Casella aggiornata.")
                return redirect("billing:cart")
            except CartError as error:
                field = error.field if error.field in form.fields else None
                form.add_error(field, error.message)
                quote = None
    if quote is None and not form.errors:
        # Before the customer has typed anything: the price of the tier for the term shown.
        years = form["years"].value()
        years = int(years) if str(years) in {"1", "2", "3", "4", "5"} else 1
        quote = quote_new_mailbox(catalogue, tier=tier, years=years)
    return render(
        request,
        "billing/configure.html",
        {
            "form": form,
            "tier": catalogue.tier(tier),
            "quote": quote,
            "item": item,
            "addon_fields": [form[name] for name in form.addon_fields],
            "forms_with_errors": [form] if form.errors else [],
        },
    )


def _report_address_problem(form: MailboxConfigForm, cart, item) -> None:
    data = form.cleaned_data
    if "local_part" not in data or "domain" not in data:
        return  # the address itself is already reported as invalid
    problem = cart_address_problem(
        cart=cart,
        address=make_address(data["local_part"], data["domain"]),
        exclude_item=item.pk if item else None,
    )
    if problem:
        form.add_error("local_part", problem)


def cart(request):
    """Every mailbox in the cart with its add-ons, the totals, edit and remove."""
    state = request_cart_state(request)
    if state is None or not state.count:
        return render(request, "billing/cart.html", {"body": ""})

    def render_body() -> str:
        summary = cart_summary(cart=Cart.objects.get(pk=state.id), today=timezone.localdate())
        new_count = sum(1 for p in summary.items if p.item.kind == ItemKind.NEW_MAILBOX)
        context = {
            "summary": summary,
            "can_add_more": new_count < MAX_NEW_MAILBOXES,
            "max_new": MAX_NEW_MAILBOXES,
            "tiers": list(Tier.objects.filter(is_active=True).order_by("rank")),
        }
        return render_to_string("billing/_cart_body.html", context)

    if state.has_mailbox_changes:
        body = render_body()  # its prices depend on the mailboxes' state: never kept
    else:
        # New mailboxes are priced from the catalogue and the day only: the rendering is
        # kept until the cart, the catalogue or the day changes.
        body = cached_fragment(f"cart:{state.version}", render_body, catalogue=current_catalogue())
    return render(request, "billing/cart.html", {"body": mark_safe(body)})  # noqa: S308


def cart_remove(request, item_id: int):
    """Ask, then remove one item (the cart page itself holds no form: it is kept cached)."""
    cart = request_cart(request)
    item = cart.items.filter(pk=item_id).first() if cart else None
    if item is None:
        raise Http404
    if request.method == "POST":
        cart_remove_item(cart=cart, item_id=item_id)
        forget_request_cart_state(request)
        messages.success(request, "Articolo rimosso dal carrello.")
        return redirect("billing:cart")
    return render(request, "billing/cart_remove.html", {"item": item})
