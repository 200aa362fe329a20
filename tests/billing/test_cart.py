"""The cart: every kind of item, from cart to paid order to the mailbox it changes."""

from datetime import date
from decimal import Decimal as D

import pytest

from billing.models import Cart, CartItem, OrderStatus
from billing.services.cart import (
    CartError,
    cart_add_item,
    cart_checkout,
    cart_get,
    cart_merge,
    cart_remove_item,
    cart_summary,
)
from billing.services.items import ItemSpec
from mailboxes.models import Mailbox, MailboxStatus

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 25)


def new_mailbox_spec(local_part="studio", tier="pro", years=2, addons=None):
    return ItemSpec(
        "new_mailbox",
        {
            "tier": tier,
            "local_part": local_part,
            "domain": "pec.it",
            "years": years,
            "addons": addons or {},
        },
    )


def checkout(cart, customer, key="k", method="card"):
    return cart_checkout(
        cart=cart, customer=customer, payment_method=method, placement_key=key, today=TODAY
    )


def test_an_anonymous_cart_survives_login_and_merges_into_the_customers(alice):
    anonymous = cart_get(session_key="s1", create=True)
    cart_add_item(cart=anonymous, spec=new_mailbox_spec("uno"), today=TODAY)
    own = cart_get(customer=alice, create=True)
    cart_add_item(cart=own, spec=new_mailbox_spec("due"), today=TODAY)

    merged = cart_merge(session_key="s1", customer=alice)

    assert merged.pk == own.pk
    assert sorted(i.params["local_part"] for i in merged.items.all()) == ["due", "uno"]
    assert not Cart.objects.filter(session_key="s1").exists()


def test_the_cart_prices_every_item_and_computes_vat_once(alice):
    cart = cart_get(customer=alice, create=True)
    cart_add_item(cart=cart, spec=new_mailbox_spec("uno", addons={"CONSERVAZIONE": 5}), today=TODAY)
    cart_add_item(cart=cart, spec=new_mailbox_spec("due", tier="standard", years=1), today=TODAY)
    summary = cart_summary(cart=cart, today=TODAY)
    assert (summary.net, summary.vat, summary.total) == (D("99.70"), D("21.93"), D("121.63"))
    assert summary.is_valid


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (new_mailbox_spec("ab"), "almeno 3"),
        (new_mailbox_spec(tier="standard", addons={"ARCHIVIO": 1}), "non è disponibile"),
        (new_mailbox_spec(addons={"SPAZIO": 101}), "al massimo"),
        (new_mailbox_spec(years=6), "da 1 a 5"),
    ],
)
def test_a_bad_item_never_enters_the_cart(alice, spec, message):
    cart = cart_get(customer=alice, create=True)
    with pytest.raises(CartError, match=message):
        cart_add_item(cart=cart, spec=spec, today=TODAY)
    assert not CartItem.objects.exists()


def test_the_same_address_cannot_be_in_the_cart_twice(alice):
    cart = cart_get(customer=alice, create=True)
    cart_add_item(cart=cart, spec=new_mailbox_spec("doppia"), today=TODAY)
    with pytest.raises(CartError, match="già nel carrello"):
        cart_add_item(cart=cart, spec=new_mailbox_spec("Doppia"), today=TODAY)


def test_a_100th_mailbox_is_refused(alice):
    cart = cart_get(customer=alice, create=True)
    CartItem.objects.bulk_create(
        CartItem(cart=cart, kind="new_mailbox", params=new_mailbox_spec(f"c{n:03d}").params)
        for n in range(99)
    )
    with pytest.raises(CartError, match="al massimo 99"):
        cart_add_item(cart=cart, spec=new_mailbox_spec("centesima"), today=TODAY)


def test_a_price_sent_with_the_item_is_never_stored(alice):
    cart = cart_get(customer=alice, create=True)
    spec = new_mailbox_spec()
    spec.params.update({"net": "0.01", "price": "0.01"})
    item = cart_add_item(cart=cart, spec=spec, today=TODAY)
    assert "net" not in item.params and "price" not in item.params


def test_removing_an_item_empties_the_cart(alice):
    cart = cart_get(customer=alice, create=True)
    item = cart_add_item(cart=cart, spec=new_mailbox_spec(), today=TODAY)
    cart_remove_item(cart=cart, item_id=item.pk)
    assert not cart.items.exists()


@pytest.mark.parametrize(
    ("kind", "params", "total", "check"),
    [
        (
            "addon",
            {"add": {"CONSERVAZIONE": 5}},
            D("12.20"),
            lambda m: m.addons.get().quantity == 5,
        ),
        (
            "renewal",
            {"years": 1, "add": {"CONSERVAZIONE": 5}},
            D("66.98"),
            lambda m: m.expires_on == date(2028, 5, 25),
        ),
        ("upgrade", {"to_tier": "premium"}, D("9.15"), lambda m: m.tier.code == "premium"),
    ],
)
def test_each_kind_of_item_goes_from_cart_to_paid_order_to_the_mailbox(
    alice, make_mailbox, pay, kind, params, total, check
):
    mailbox = make_mailbox(activated_on=date(2026, 5, 25))
    cart = cart_get(customer=alice, create=True)
    cart_add_item(cart=cart, spec=ItemSpec(kind, params, mailbox.pk), mailbox=mailbox, today=TODAY)
    order = checkout(cart, alice)
    assert order.total == total
    assert not cart.items.exists()
    pay(order)
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    mailbox.refresh_from_db()
    assert check(mailbox)


def test_new_mailboxes_get_the_holder_and_password_chosen_at_checkout(alice, pay):
    from django.contrib.auth.hashers import check_password

    from customers.services import holder_create
    from tests.conftest import COMPANY

    company = holder_create(customer=alice, **COMPANY)
    cart = cart_get(customer=alice, create=True)
    item = cart_add_item(cart=cart, spec=new_mailbox_spec("azienda"), today=TODAY)
    order = cart_checkout(
        cart=cart,
        customer=alice,
        payment_method="card",
        placement_key="k",
        today=TODAY,
        holders={item.pk: company.pk},
        passwords={item.pk: "Casella-Segreta-1"},
    )
    pay(order)
    mailbox = Mailbox.objects.get(address="azienda@pec.it")
    assert mailbox.holder == company
    assert mailbox.status == MailboxStatus.ACTIVE
    assert check_password("Casella-Segreta-1", mailbox.password)
    assert "Casella-Segreta-1" not in str(order.items.get().params)


def test_checkout_twice_with_the_same_key_places_one_order(alice):
    cart = cart_get(customer=alice, create=True)
    cart_add_item(cart=cart, spec=new_mailbox_spec(), today=TODAY)
    first = checkout(cart, alice, key="same")
    second = checkout(cart, alice, key="same")
    assert first.pk == second.pk
