"""The JSON API: tokens, the authorization matrix, quotes and orders through the same
services as the Area Clienti, the error shape, paging at a constant number of queries."""

import json
import uuid
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from api.models import ApiToken
from api.schemas import MailboxPage
from api.services import token_hash, token_revoke
from billing.models import Order
from mailboxes.models import Mailbox
from tests.api.conftest import TODAY


def test_a_token_is_stored_only_as_its_hash_and_shown_once(alice, make_token):
    token, raw = make_token(alice)
    assert raw.startswith("pec_") and len(raw) > 40
    stored = ApiToken.objects.get()
    assert stored.token_hash == token_hash(raw)
    assert raw not in {getattr(stored, f.attname) for f in ApiToken._meta.fields}


def test_the_mailbox_list_shows_the_accounts_mailboxes_with_addons_usage_and_expiry(
    alice, bob, make_token, api_client, make_mailbox, studio
):
    make_mailbox("bob@pec.it", customer=bob)
    make_mailbox("conserva@pec.it", "standard", extras={"CONSERVAZIONE": 5})
    _, raw = make_token(alice, "read")
    response = api_client(raw).get("/mailboxes")
    assert response.status_code == 200
    data = response.json()
    assert data["count"] == 2
    assert [m["address"] for m in data["items"]] == ["conserva@pec.it", "studio@pec.it"]
    conserva = data["items"][0]
    assert conserva["expires_on"] == "2027-05-25" and conserva["status"] == "active"
    assert conserva["addons"] == [
        {
            "code": "CONSERVAZIONE",
            "name": "Conservazione PEC",
            "quantity": 5,
            "status": "active",
            "next_quantity": None,
        }
    ]
    assert {u["quota"] for u in conserva["usage"]} >= {"mailbox", "conservation"}


def test_the_mailbox_list_is_what_its_schema_makes_of_it(
    alice, bob, make_token, api_client, make_mailbox, studio
):
    """The list is written without ninja's validation: it must be exactly what validating
    it against MailboxPage would give, for every kind of row."""
    make_mailbox("conserva@pec.it", "standard", extras={"CONSERVAZIONE": 5})
    for address, status in (("scaduta@pec.it", "expired"), ("nuova@pec.it", "pending")):
        Mailbox.objects.filter(pk=make_mailbox(address, "premium").pk).update(status=status)
    make_mailbox("bob@pec.it", customer=bob)
    _, raw = make_token(alice, "read")
    for query in ({}, {"page_size": 2}, {"page": 2, "page_size": 3}, {"page": 9}):
        response = api_client(raw).get("/mailboxes", query)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/json; charset=utf-8"
        data = response.json()
        assert data == json.loads(MailboxPage.model_validate(data).model_dump_json())
    assert {m["status"] for m in api_client(raw).get("/mailboxes").json()["items"]} == {
        "active",
        "expired",
        "pending",
    }


def test_the_mailbox_list_takes_the_dashboards_filters(alice, make_token, api_client, make_mailbox):
    make_mailbox("presto@pec.it", "standard", activated_on=date(2025, 12, 10))
    make_mailbox("tardi@pec.it", "premium", activated_on=date(2026, 10, 1))
    _, raw = make_token(alice, "read")
    client = api_client(raw)
    assert [m["address"] for m in client.get("/mailboxes", {"expiry": "30"}).json()["items"]] == [
        "presto@pec.it"
    ]
    assert [
        m["address"] for m in client.get("/mailboxes", {"tier": "premium"}).json()["items"]
    ] == ["tardi@pec.it"]
    assert client.get("/mailboxes", {"q": "tard"}).json()["count"] == 1
    assert client.get("/mailboxes", {"holder": "others"}).json()["count"] == 0
    bad = client.get("/mailboxes", {"status": "boh"})
    assert bad.status_code == 400 and bad.json()["field"] == "status"


def test_listing_500_mailboxes_page_by_page_runs_a_constant_number_of_queries(
    alice, make_token, api_client, tiers, addons
):
    from mailboxes.models import Mailbox, MailboxAddOn

    mailboxes = Mailbox.objects.bulk_create(
        Mailbox(
            address=f"casella{n:03d}@pec.it",
            tier=tiers["pro"],
            holder=alice.own_holder,
            customer=alice,
            term_years=1,
            status="active",
            activated_on=date(2026, 5, 25),
            expires_on=date(2027, 5, 25),
        )
        for n in range(500)
    )
    MailboxAddOn.objects.bulk_create(
        MailboxAddOn(mailbox=m, addon=addons["CONSERVAZIONE"], quantity=2, status="active")
        for m in mailboxes
    )
    _, raw = make_token(alice, "read")
    client = api_client(raw)
    client.get("/mailboxes", {"page_size": 1})  # the token's last use, the catalogue: once
    counts, seen = [], 0
    for page in range(1, 6):
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/mailboxes", {"page": page, "page_size": 100})
        seen += len(response.json()["items"])
        counts.append(len(queries))
    assert seen == 500
    with CaptureQueriesContext(connection) as queries:
        client.get("/mailboxes", {"page": 1, "page_size": 5})
    counts.append(len(queries))
    assert len(set(counts)) == 1 and counts[0] <= 5, counts


def test_the_mailbox_detail_of_another_account_is_a_404(
    alice, bob, make_token, api_client, make_mailbox, studio
):
    theirs = make_mailbox("bob@pec.it", customer=bob)
    _, raw = make_token(alice, "read")
    client = api_client(raw)
    assert client.get(f"/mailboxes/{studio.pk}").json()["address"] == "studio@pec.it"
    response = client.get(f"/mailboxes/{theirs.pk}")
    assert response.status_code == 404
    assert response.json() == {"error": "Casella non trovata.", "field": "mailbox_id"}


def test_an_order_and_an_invoice_of_another_account_are_404(
    alice, bob, make_token, api_client, make_mailbox, order_for, pay
):
    from billing.services.items import ItemSpec

    theirs = make_mailbox("bob@pec.it", customer=bob)
    order = order_for(ItemSpec("addon", {"add": {"CONSERVAZIONE": 5}}, theirs.pk), customer=bob)
    pay(order)
    invoice = order.invoices.get()
    _, raw = make_token(alice, "buy")
    client = api_client(raw)
    assert client.get(f"/orders/{order.number}").status_code == 404
    assert client.get(f"/invoices/{invoice.pk}").status_code == 404
    assert client.get(f"/invoices/{invoice.pk}/pdf").status_code == 404
    assert client.get(f"/invoices/{invoice.pk}/xml").status_code == 404
    assert client.get("/orders").json()["count"] == 0
    assert client.get("/invoices").json()["count"] == 0
    buying = client.post(
        "/orders/addon", {"mailbox_id": theirs.pk, "add": {"CONSERVAZIONE": 1}}, key="k1"
    )
    assert buying.status_code == 404
    _, bobs = make_token(bob, "read")
    assert api_client(bobs).get(f"/invoices/{invoice.pk}/pdf")["Content-Type"] == "application/pdf"


def test_a_read_token_cannot_buy(alice, make_token, api_client, studio):
    _, raw = make_token(alice, "read")
    response = api_client(raw).post(
        "/orders/addon", {"mailbox_id": studio.pk, "add": {"CONSERVAZIONE": 5}}, key="k1"
    )
    assert response.status_code == 403
    assert "sola lettura" in response.json()["error"]
    assert not Order.objects.exists()
    quote = api_client(raw).post(
        "/quotes/addon", {"mailbox_id": studio.pk, "add": {"CONSERVAZIONE": 5}}
    )
    assert quote.status_code == 200  # a quote is a read


# The mailbox list looks its token up with the page (TokenAuth(together=True)), the others
# before the operation runs (TokenAuth()).
@pytest.mark.parametrize("path", ["/mailboxes", "/invoices"])
@pytest.mark.parametrize("how", ["revoked", "expired", "unknown", "missing"])
def test_a_revoked_expired_unknown_or_missing_token_is_a_401(
    alice, make_token, api_client, how, path
):
    token, raw = make_token(alice, "buy", expires_on=TODAY + timedelta(days=1))
    if how == "revoked":
        token_revoke(token=token)
    elif how == "expired":
        ApiToken.objects.filter(pk=token.pk).update(expires_on=TODAY)
    elif how == "unknown":
        raw = raw[:-2] + "xx"
    elif how == "missing":
        raw = None
    response = api_client(raw).get(path)
    assert response.status_code == 401
    assert set(response.json()) == {"error", "field"}


@pytest.mark.parametrize("how", ["revoked", "expired", "unknown"])
def test_the_page_sent_with_the_token_reads_nothing_for_a_token_that_is_not_live(
    alice, make_token, make_mailbox, how
):
    """The list's statement goes to the database before the token is known to be live
    (TokenAuth(together=True)): it is scoped to the token's account in SQL, so it reads
    nothing for a token that is not."""
    from api import selectors
    from api.services import token_account
    from area.listing import Filters

    make_mailbox("studio@pec.it")
    token, raw = make_token(alice, "read", expires_on=TODAY + timedelta(days=1))

    def listed():
        customer, own_holder = token_account(raw, today=TODAY)
        asked = selectors.mailbox_list(
            customer, own_holder, Filters(), today=TODAY, page=1, size=20
        )
        return asked.pages(asked.statement.rows(), None)["all"]

    assert [m.address for m in listed().rows] == ["studio@pec.it"]
    if how == "revoked":
        token_revoke(token=token)
    elif how == "expired":
        ApiToken.objects.filter(pk=token.pk).update(expires_on=TODAY)
    else:
        raw = raw[:-2] + "xx"
    page = listed()
    assert (page.rows, page.count) == ([], 0)


def test_the_last_use_is_recorded(alice, make_token, api_client):
    token, raw = make_token(alice, "read")
    assert token.last_used_at is None
    api_client(raw).get("/mailboxes")
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_a_token_is_rate_limited(alice, make_token, api_client, settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 3
    _, raw = make_token(alice, "read")
    client = api_client(raw)
    statuses = [client.get("/mailboxes").status_code for _ in range(5)]
    assert statuses[:3] == [200, 200, 200] and statuses[3:] == [429, 429]
    response = client.get("/mailboxes")
    assert response["Retry-After"] == "60" and "Troppe richieste" in response.json()["error"]
    assert client.get("/invoices").status_code == 429  # one count per token, every operation
    _, other = make_token(alice, "read", name="altro")
    assert api_client(other).get("/mailboxes").status_code == 200  # per token
    assert api_client(other).get("/invoices").status_code == 200


def test_quotes_give_the_same_prices_and_messages_as_the_web_pages(
    alice, make_token, api_client, studio
):
    _, raw = make_token(alice, "read")
    client = api_client(raw)
    addon = client.post("/quotes/addon", {"mailbox_id": studio.pk, "add": {"CONSERVAZIONE": 5}})
    assert (addon.json()["months"], addon.json()["net"], addon.json()["total"]) == (
        6,
        "10.00",
        "12.20",
    )
    renewal = client.post(
        "/quotes/renewal", {"mailbox_id": studio.pk, "years": 1, "add": {"CONSERVAZIONE": 5}}
    ).json()
    assert (renewal["net"], renewal["vat"], renewal["total"]) == ("54.90", "12.08", "66.98")
    upgrade = client.post("/quotes/upgrade", {"mailbox_id": studio.pk, "to_tier": "premium"})
    assert upgrade.json()["net"] == "7.50"  # (39.90 - 24.90) x 6 / 12
    new = client.post(
        "/quotes/new-mailboxes",
        {
            "mailboxes": [
                {"tier": "pro", "local_part": "nuova", "years": 2, "addons": {"CONSERVAZIONE": 5}}
            ]
        },
    )
    assert new.json()["net"] == "89.80"
    too_many = client.post("/quotes/addon", {"mailbox_id": studio.pk, "add": {"MULTIUTENTE": 1}})
    assert too_many.status_code == 400
    assert too_many.json()["error"].startswith("Utenti aggiuntivi Multiutente non si acquista")
    assert too_many.json()["field"] == "addon"
    years = client.post("/quotes/renewal", {"mailbox_id": studio.pk, "years": 9})
    assert years.status_code == 400 and years.json()["field"] == "years"


def test_an_alignment_quote_lists_each_mailbox(alice, make_token, api_client, make_mailbox):
    uno = make_mailbox("uno@pec.it", "standard", activated_on=date(2026, 1, 31))
    due = make_mailbox("due@pec.it", "pro", activated_on=date(2026, 5, 25))
    _, raw = make_token(alice, "read")
    data = (
        api_client(raw)
        .post("/quotes/alignment", {"mailbox_ids": [due.pk, uno.pk], "target": "2027-07-31"})
        .json()
    )
    assert [(m["address"], m["months"], m["net"]) for m in data["mailboxes"]] == [
        ("uno@pec.it", 6, "4.95"),
        ("due@pec.it", 3, "6.23"),
    ]
    assert data["total"] == "13.64"
    early = api_client(raw).post(
        "/quotes/alignment", {"mailbox_ids": [uno.pk, due.pk], "target": "2027-03-01"}
    )
    assert early.status_code == 400 and "due@pec.it" in early.json()["error"]


def test_an_order_answers_with_its_amounts_and_a_payment_link(
    alice, make_token, api_client, studio
):
    _, raw = make_token(alice, "buy")
    response = api_client(raw).post(
        "/orders/addon", {"mailbox_id": studio.pk, "add": {"CONSERVAZIONE": 5}}, key="ordine-1"
    )
    assert response.status_code == 201
    data = response.json()
    order = Order.objects.get()
    assert (data["number"], data["total"], data["status"]) == (order.number, "12.20", "awaiting")
    assert data["payment_url"].endswith(f"/ordini/{order.number}/paga/")
    assert data["bank_transfer"] is None
    again = api_client(raw).post(
        "/orders/addon", {"mailbox_id": studio.pk, "add": {"CONSERVAZIONE": 5}}, key="ordine-1"
    )
    assert again.status_code == 200 and again.json()["number"] == order.number
    other = api_client(raw).post(
        "/orders/addon", {"mailbox_id": studio.pk, "add": {"CONSERVAZIONE": 6}}, key="ordine-1"
    )
    assert other.status_code == 409
    missing = api_client(raw).post(
        "/orders/addon", {"mailbox_id": studio.pk, "add": {"CONSERVAZIONE": 5}}
    )
    assert missing.status_code == 400 and missing.json()["field"] == "Idempotency-Key"
    assert Order.objects.count() == 1


def test_every_kind_of_order_goes_through_the_same_services(
    alice, make_token, api_client, studio, make_mailbox, pay
):
    _, raw = make_token(alice, "buy")
    client = api_client(raw)
    renewal = client.post(
        "/orders/renewal",
        {"mailbox_id": studio.pk, "years": 2, "payment_method": "bank_transfer"},
        key="r",
    ).json()
    assert renewal["total"] == "60.76"  # 2 x 24.90 = 49.80 + 10.96
    assert renewal["bank_transfer"]["reference"] == f"Ordine {renewal['number']}"
    other = make_mailbox("altra@pec.it", "standard")
    upgrade = client.post("/orders/upgrade", {"mailbox_id": other.pk, "to_tier": "pro"}, key="u")
    assert upgrade.status_code == 201 and upgrade.json()["net"] == "7.50"
    new = client.post(
        "/orders/new-mailboxes",
        {"mailboxes": [{"tier": "standard", "local_part": "nuovissima", "years": 1}]},
        key="n",
    )
    assert new.status_code == 201 and new.json()["total"] == "12.08"
    taken = client.post(
        "/orders/new-mailboxes",
        {"mailboxes": [{"tier": "standard", "local_part": "studio", "years": 1}]},
        key="n2",
    )
    assert taken.status_code == 400 and "già in uso" in taken.json()["error"]
    align = client.post(
        "/orders/alignment", {"mailbox_ids": [other.pk], "target": "2027-08-25"}, key="a"
    )
    assert align.status_code == 201 and align.json()["lines"][0]["months"] == 3
    order = Order.objects.get(number=new.json()["number"])
    pay(order)
    paid = client.get(f"/orders/{order.number}").json()
    assert paid["status"] == "paid" and paid["payment_url"] is None
    (invoice,) = paid["invoices"]
    assert client.get(f"/invoices/{invoice['id']}").json()["total"] == "12.08"
    pdf = client.get(f"/invoices/{invoice['id']}/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    xml = client.get(f"/invoices/{invoice['id']}/xml")
    assert xml.status_code == 200 and b"FatturaElettronica" in xml.content
    listed = client.get("/invoices", {"from": "2026-11-01", "to": "2026-11-30"}).json()
    assert listed["count"] == 1
    assert client.get("/invoices", {"from": "2026-12-01"}).json()["count"] == 0
    assert client.get("/orders").json()["count"] == 4


def test_bad_json_and_bad_types_get_the_error_shape_in_italian(
    alice, make_token, api_client, studio
):
    _, raw = make_token(alice, "buy")
    client = api_client(raw)
    response = client.post("/quotes/addon", {"mailbox_id": "abc", "add": {}})
    assert response.status_code == 400
    assert response.json() == {
        "error": "«mailbox_id» deve essere un numero intero.",
        "field": "mailbox_id",
    }
    response = client.post("/quotes/renewal", {"mailbox_id": studio.pk})
    assert response.json() == {"error": "Manca il campo «years».", "field": "years"}
    from django.test import Client

    raw_response = Client().post(
        "/api/v1/quotes/addon",
        "{not json",
        content_type="application/json",
        headers={"Authorization": f"Bearer {raw}"},
    )
    assert raw_response.status_code == 400 and set(raw_response.json()) == {"error", "field"}
    assert client.get("/orders/nessuno").status_code == 404


def test_the_schema_is_openapi_3_and_the_docs_page_is_served(client, db):
    from openapi_spec_validator import validate

    schema = client.get("/api/v1/openapi.json").json()
    assert schema["openapi"].startswith("3.")
    validate(schema)
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200 and b"swagger" in docs.content.lower()


def test_the_old_quote_endpoint_still_works(client, db):
    response = client.get(
        "/api/quote",
        {"tier": "pro", "expires": "2027-05-25", "today": "2026-11-25", "add": "CONSERVAZIONE=5"},
    )
    assert response.json()["total"] == "12.20"


def test_tokens_are_created_and_revoked_in_the_area_clienti(client, alice, bob, make_token):
    client.force_login(alice.user)
    page = client.post(
        "/area-clienti/accesso-api/", {"name": "gestionale", "scope": "buy", "expires_on": ""}
    )
    raw = page.context["new_token"]
    assert raw in page.content.decode()
    token = ApiToken.objects.get(customer=alice)
    assert token.token_hash == token_hash(raw) and token.scope == "buy"
    listing = client.get("/area-clienti/accesso-api/").content.decode()
    assert "gestionale" in listing and raw not in listing and "mai" in listing
    error = client.post(
        "/area-clienti/accesso-api/", {"name": "x", "scope": "read", "expires_on": "2026-11-01"}
    )
    assert "deve essere futura" in error.content.decode()
    theirs, _ = make_token(bob)
    assert client.post(f"/area-clienti/accesso-api/token/{theirs.pk}/revoca/").status_code == 404
    client.post(f"/area-clienti/accesso-api/token/{token.pk}/revoca/")
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_the_error_answers_never_leak_other_shapes(alice, make_token, api_client):
    _, raw = make_token(alice, "read")
    response = api_client(raw).get("/mailboxes", {"page": "0"})
    assert response.status_code == 400
    assert json.loads(response.content).keys() == {"error", "field"}


def test_ten_requests_with_the_same_key_without_a_race_give_one_order(
    alice, make_token, api_client, studio
):
    _, raw = make_token(alice, "buy")
    key = uuid.uuid4().hex
    numbers = {
        api_client(raw)
        .post("/orders/addon", {"mailbox_id": studio.pk, "add": {"SPAZIO": 1}}, key=key)
        .json()["number"]
        for _ in range(10)
    }
    assert len(numbers) == 1 and Order.objects.count() == 1
