"""The web cart's pages: bad input gets a clear Italian message next to the field."""

import re
from decimal import Decimal

import pytest
from django.core import mail

from addons.models import AddOn, Tier, TierAddOn
from billing.models import Cart, CartItem, Order
from billing.services.cart import cart_get
from mailboxes.models import Mailbox

pytestmark = pytest.mark.django_db

VALID = {
    "local_part": "studio.verdi",
    "domain": "pec.it",
    "years": "2",
    "addon_SPAZIO": "0",
    "addon_ARCHIVIO": "0",
    "addon_CONSERVAZIONE": "5",
    "action": "add",
}


def configure(client, tier="pro", **changes):
    return client.post(f"/configura/{tier}/", {**VALID, **changes})


def field_error(response, field):
    form = response.context["form"]
    return " ".join(form.errors.get(field, []))


def test_a_configured_mailbox_goes_to_the_cart(client):
    response = configure(client)
    assert response.status_code == 302 and response["Location"] == "/carrello/"
    item = CartItem.objects.get()
    assert item.params == {
        "tier": "pro",
        "local_part": "studio.verdi",
        "domain": "pec.it",
        "years": 2,
        "addons": {"CONSERVAZIONE": 5},
    }
    page = client.get("/carrello/").content.decode()
    assert "studio.verdi@pec.it" in page and "€ 109,56" in page


def test_the_price_is_shown_without_javascript(client):
    response = configure(client, action="price")
    assert response.status_code == 200
    assert "€ 109,56" in response.content.decode()
    assert not CartItem.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"local_part": "ab"}, "local_part", "almeno 3"),
        ({"local_part": "mario..rossi"}, "local_part", "due punti"),
        ({"local_part": "mario rossi"}, "local_part", "Usa solo"),
        ({"domain": "gmail.com"}, "domain", "Scegli"),
        ({"addon_CONSERVAZIONE": "101"}, "addon_CONSERVAZIONE", "al massimo 100"),
        ({"addon_CONSERVAZIONE": "-1"}, "addon_CONSERVAZIONE", "negativa"),
        ({"addon_CONSERVAZIONE": "tanti"}, "addon_CONSERVAZIONE", "numero intero"),
        ({"years": "6"}, "years", "valida"),
    ],
)
def test_bad_input_is_refused_next_to_the_field(client, changes, field, message):
    response = configure(client, **changes)
    assert response.status_code == 200
    assert message in field_error(response, field)
    assert "Controlla i dati inseriti" in response.content.decode()
    assert not CartItem.objects.exists()


def test_an_addon_the_tier_does_not_sell_is_refused_with_a_message(client):
    response = configure(client, tier="standard", addon_ARCHIVIO="3", addon_SPAZIO="1")
    assert response.status_code == 200
    errors = response.context["form"].non_field_errors()
    assert (
        "Spazio aggiuntivo Archivio di sicurezza non è disponibile per la tipologia Standard."
        in errors
    )
    assert "Controlla i dati inseriti" in response.content.decode()
    assert not CartItem.objects.exists()


def test_a_taken_address_is_refused_next_to_the_field(client, make_mailbox):
    make_mailbox(address="studio.verdi@pec.it")
    response = configure(client)
    assert "già in uso" in field_error(response, "local_part")


def test_the_live_address_check_answers_in_italian(client, make_mailbox):
    make_mailbox(address="presa@pec.it")
    assert client.get("/api/indirizzo", {"local_part": "presa"}).json()["available"] is False
    free = client.get("/api/indirizzo", {"local_part": "libera"}).json()
    assert free == {
        "available": True,
        "valid": True,
        "address": "libera@pec.it",
        "message": "libera@pec.it è libero.",
    }
    assert "almeno 3" in client.get("/api/indirizzo", {"local_part": "x"}).json()["message"]


def test_a_taken_address_is_reported_together_with_the_quantity_errors(client, make_mailbox):
    make_mailbox(address="studio.verdi@pec.it")
    response = configure(client, addon_CONSERVAZIONE="101", addon_SPAZIO="-1")
    assert "già in uso" in field_error(response, "local_part")
    assert "al massimo 100" in field_error(response, "addon_CONSERVAZIONE")
    assert "negativa" in field_error(response, "addon_SPAZIO")
    assert not CartItem.objects.exists()


def test_an_address_already_in_the_cart_is_not_free_in_the_live_check(client):
    configure(client)
    answer = client.get("/api/indirizzo", {"local_part": "studio.verdi"}).json()
    assert answer["available"] is False
    assert answer["message"] == "Questo indirizzo è già nel carrello."
    item = CartItem.objects.get()
    # Editing that same item, its own address is still its own.
    mine = client.get("/api/indirizzo", {"local_part": "studio.verdi", "item": item.pk}).json()
    assert mine["available"] is True
    again = configure(client, action="price")
    assert "già nel carrello" in field_error(again, "local_part")


@pytest.mark.parametrize("local_part", ["studio-", "-studio", "studio_", "studio.verdi-"])
def test_a_local_part_starting_or_ending_with_a_dash_is_refused(client, local_part):
    response = configure(client, local_part=local_part)
    assert "trattino" in field_error(response, "local_part")
    assert client.get("/api/indirizzo", {"local_part": local_part}).json()["valid"] is False


def test_the_sms_notice_is_a_checkbox_and_a_ticked_box_buys_one(client):
    page = client.get("/configura/standard/").content.decode()
    assert 'type="checkbox" name="addon_SMS"' in page
    assert 'type="number" name="addon_SMS"' not in page
    response = configure(client, tier="standard", addon_ARCHIVIO="", addon_SMS="on")
    assert response.status_code == 302
    assert CartItem.objects.get().params["addons"] == {"CONSERVAZIONE": 5, "SMS": 1}


def test_an_unknown_tier_is_a_404(client):
    assert client.get("/configura/gold/").status_code == 404
    assert configure(client, tier="gold").status_code == 404


def test_a_100th_mailbox_is_refused_with_a_message(client):
    client.get("/")
    configure(client, local_part="prima")
    cart = Cart.objects.get()
    CartItem.objects.bulk_create(
        CartItem(
            cart=cart,
            kind="new_mailbox",
            params={**CartItem.objects.first().params, "local_part": f"c{n:03d}"},
        )
        for n in range(98)
    )
    response = configure(client, local_part="centesima")
    assert "al massimo 99" in field_error(response, "local_part")


def test_an_item_of_another_cart_cannot_be_edited_or_removed(client, alice):
    other = cart_get(session_key="qualcun-altro", create=True)
    item = CartItem.objects.create(cart=other, kind="new_mailbox", params=VALID)
    assert client.get(f"/carrello/{item.pk}/modifica/pro/").status_code == 404
    assert client.post(f"/carrello/{item.pk}/rimuovi/").status_code == 404
    assert client.get(f"/carrello/{item.pk}/rimuovi/").status_code == 404
    assert CartItem.objects.filter(pk=item.pk).exists()


def _cold_query_counts(client, n_items):
    """Queries of the catalogue and the cart page for a cart of `n_items`, caches empty."""
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from billing import catalogue_cache

    configure(client, local_part=f"prima{n_items}")
    cart = Cart.objects.get(session_key=client.session.session_key)
    first = cart.items.get()
    CartItem.objects.bulk_create(
        CartItem(
            cart=cart,
            kind="new_mailbox",
            params={**first.params, "local_part": f"c{n_items}-{n:03d}"},
        )
        for n in range(n_items - 1)
    )
    counts = []
    for path in ("/", "/carrello/"):
        cache.clear()
        catalogue_cache.forget_local_copies()
        session = client.session
        session.pop("cart_state", None)
        session.save()
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path)
        assert response.status_code == 200
        counts.append(len(queries))
    return counts, response.content.decode()


def test_the_catalogue_and_the_cart_run_the_same_queries_whatever_their_size(client):
    from django.test import Client

    small, _ = _cold_query_counts(Client(), 1)
    tiers = list(Tier.objects.all())
    for n in range(200):
        addon = AddOn.objects.create(
            code=f"X{n}",
            name=f"Extra {n}",
            unit="GB",
            price_per_year=Decimal("1.00"),
            position=100 + n,
        )
        TierAddOn.objects.bulk_create(
            TierAddOn(tier=t, addon=addon, sold=True, max_quantity=5) for t in tiers
        )
    large, page = _cold_query_counts(Client(), 99)
    assert large == small
    assert page.count('class="card cart-item') == 99


# --- checkout -------------------------------------------------------------------------

BUYER = {
    "buyer-kind": "person",
    "buyer-first_name": "Alice",
    "buyer-last_name": "Rossi",
    "buyer-fiscal_code": "RSSMRA85T10A562S",
    "buyer-street": "Via Roma 1",
    "buyer-postal_code": "00184",
    "buyer-city": "Roma",
    "buyer-province": "RM",
    "buyer-email": "alice@example.it",
}


@pytest.fixture
def shopper(client, django_user_model, django_capture_on_commit_callbacks):
    """A new account with one Pro mailbox in the cart, on the checkout page: signed up and
    confirmed through the link e-mailed to it."""

    configure(client)
    with django_capture_on_commit_callbacks(execute=True):  # the outbox sends after commit
        client.post(
            "/registrati/?next=/checkout/dati/",
            {
                "email": "nuova@example.it",
                "password1": "Password-Lunga-9",
                "password2": "Password-Lunga-9",
            },
        )
    link = re.search(r"https?://[^/\s]+(/registrati/conferma/\S+)", mail.outbox[-1].body).group(1)
    assert client.get(link).status_code == 302
    item = CartItem.objects.get()
    return {
        **BUYER,
        f"m{item.pk}-holder": "own",
        f"m{item.pk}-password1": "Casella-Segreta-1",
        f"m{item.pk}-password2": "Casella-Segreta-1",
        "payment_method": "card",
        "accept_terms": "on",
        "accept_privacy": "on",
        "placement_key": "chiave-1",
    }


def test_the_anonymous_cart_follows_the_new_account(client, shopper):
    assert CartItem.objects.get().cart.customer.user.email == "nuova@example.it"


def test_checkout_places_one_order_even_when_submitted_twice(client, shopper):
    first = client.post("/checkout/dati/", shopper)
    second = client.post("/checkout/dati/", shopper)
    order = Order.objects.get()
    assert first["Location"] == second["Location"] == f"/ordini/{order.number}/paga/"
    assert order.total == Decimal("109.56")
    assert Mailbox.objects.get().status == "pending"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"buyer-fiscal_code": "RSSMRA85T10A562X"}, "fiscal_code", "carattere di controllo"),
        (
            {
                "buyer-kind": "company",
                "buyer-company_name": "Verdi Srl",
                "buyer-vat_number": "00743110158",
                "buyer-fiscal_code": "00743110157",
                "buyer-legal_representative": "Anna Verdi",
            },
            "vat_number",
            "carattere di controllo",
        ),
        ({"buyer-postal_code": "123"}, "postal_code", "5 cifre"),
    ],
)
def test_invalid_tax_codes_are_refused_next_to_the_field(client, shopper, changes, field, message):
    response = client.post("/checkout/dati/", {**shopper, **changes})
    assert response.status_code == 200
    assert message in " ".join(response.context["buyer_form"].errors[field])
    assert not Order.objects.exists()


def test_terms_passwords_and_a_new_holder_are_checked(client, shopper):
    item = CartItem.objects.get()
    response = client.post(
        "/checkout/dati/",
        {
            **shopper,
            "accept_terms": "",
            f"m{item.pk}-password2": "diversa",
            f"m{item.pk}-holder": "new",
            f"h{item.pk}-kind": "person",
            f"h{item.pk}-fiscal_code": "NONVALIDO",
        },
    )
    page = response.content.decode()
    assert "condizioni di contratto" in page
    assert "non coincidono" in page
    assert "16 caratteri" in page
    assert not Order.objects.exists()


def test_a_tampered_price_or_tier_in_the_post_changes_nothing(client, shopper):
    client.post("/checkout/dati/", {**shopper, "total": "0.01", "tier": "standard", "price": "1"})
    assert Order.objects.get().total == Decimal("109.56")


def test_an_expired_session_mid_checkout_says_so_and_keeps_the_cart(client, shopper):
    client.logout()
    response = client.post("/checkout/dati/", shopper, follow=True)
    assert "La sessione è scaduta" in response.content.decode()
    assert not Order.objects.exists()
    assert CartItem.objects.exists()


def test_a_csrf_failure_gets_a_friendly_italian_page(shopper):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post("/configura/pro/", VALID)
    assert response.status_code == 403
    assert "La pagina è scaduta" in response.content.decode()


def test_removing_an_item_asks_first_and_the_cart_page_shows_the_change(client):
    configure(client, local_part="prima")
    configure(client, local_part="seconda")
    assert "seconda@pec.it" in client.get("/carrello/").content.decode()
    item = CartItem.objects.get(params__local_part="seconda")
    page = client.get(f"/carrello/{item.pk}/rimuovi/").content.decode()
    assert "Rimuovere dal carrello?" in page and "seconda@pec.it" in page
    assert CartItem.objects.count() == 2
    client.post(f"/carrello/{item.pk}/rimuovi/")
    page = client.get("/carrello/").content.decode()
    assert "seconda@pec.it" not in page and "prima@pec.it" in page
    assert '<span class="badge" aria-label="1 articoli">1</span>' in page


def test_the_cart_page_follows_every_change_of_the_cart(client):
    configure(client, local_part="prima")
    assert "€ 109,56" in client.get("/carrello/").content.decode()
    item = CartItem.objects.get()
    client.post(
        f"/carrello/{item.pk}/modifica/pro/", {**VALID, "local_part": "prima", "years": "1"}
    )
    page = client.get("/carrello/").content.decode()
    assert "€ 109,56" not in page and "€ 54,78" in page
