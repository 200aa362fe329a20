"""The mailbox lists' one statement (area.listing): filters, both lists' pages and counts,
the add-ons held, on the database the suite runs on (SQLite locally, PostgreSQL in CI)."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from area.listing import ALL, Filters, ListedMailbox, mailbox_listing
from customers.services import holder_create
from mailboxes.models import Mailbox, MailboxStatus

TODAY = date(2026, 11, 25)


@pytest.fixture
def other_holder(alice):
    return holder_create(
        customer=alice,
        own=False,
        kind="company",
        company_name="Studio_Verdi 100% S.r.l.",
        vat_number="00743110157",
        fiscal_code="00743110157",
        legal_representative="Gino Verdi",
        street="Via Po 1",
        postal_code="10121",
        city="Torino",
        province="TO",
        email="verdi@example.it",
    )


def _listing(alice, filters: Filters | None = None, **pages):
    return mailbox_listing(
        alice.pk, alice.own_holder_id, filters or Filters(), today=TODAY, size=2, **pages
    )


def test_one_query_gives_both_lists_their_pages_counts_and_addons(
    alice, other_holder, make_mailbox
):
    for n in range(5):
        make_mailbox(address=f"mia{n}@pec.it", extras={"CONSERVAZIONE": 5} if n == 0 else None)
    for n in range(3):
        make_mailbox(address=f"verdi{n}@pec.it", holder=other_holder)
    with CaptureQueriesContext(connection) as queries:
        listing = _listing(alice, own_page=3, others_page=1)
    assert len(queries) == 1
    assert [m.address for m in listing["own"].rows] == ["mia4@pec.it"]
    assert listing["own"].count == 5
    assert [m.address for m in listing["others"].rows] == ["verdi0@pec.it", "verdi1@pec.it"]
    assert listing["others"].count == 3
    first = _listing(alice)["own"].rows[0]
    assert first.holdings == {"CONSERVAZIONE": 5}
    assert first.own and first.tier_code == "pro" and first.expires_on == date(2027, 5, 25)
    assert first.holder_name == "Alice Rossi"
    verdi = _listing(alice)["others"].rows[0]
    assert not verdi.own and verdi.holder_name == "Studio_Verdi 100% S.r.l."
    assert verdi.holder_tax_id == "00743110157" and verdi.addons == []


def test_a_page_past_the_end_is_empty_with_its_count(alice, make_mailbox):
    make_mailbox(address="sola@pec.it")
    listing = _listing(alice, own_page=7, others_page=99_999_999_999)
    assert listing["own"].rows == [] and listing["own"].count == 1
    assert listing["others"].rows == [] and listing["others"].count == 0


def test_the_search_takes_percent_and_underscore_as_they_are(alice, other_holder, make_mailbox):
    make_mailbox(address="studio@pec.it")
    make_mailbox(address="studioxverdi@pec.it")
    make_mailbox(address="verdi@pec.it", holder=other_holder)

    def found(q):
        listing = _listing(alice, Filters(q=q))
        return sorted(m.address for page in listing.values() for m in page.rows)

    # "_" and "%" are not wildcards: only the company named with them matches.
    assert found("o_v") == ["verdi@pec.it"]
    assert found("100%") == ["verdi@pec.it"]
    assert found("STUDIO") == ["studio@pec.it", "studioxverdi@pec.it", "verdi@pec.it"]
    assert found("00743110157") == ["verdi@pec.it"]  # the P.IVA, whole
    assert found("0074311") == []  # a part of it is no match
    assert found("rossi") == ["studio@pec.it", "studioxverdi@pec.it"]


def test_the_status_tier_expiry_and_holder_filters(alice, other_holder, make_mailbox):
    make_mailbox(address="pro@pec.it")  # expires 2027-05-25
    soon = make_mailbox(address="presto@pec.it", tier="standard")
    Mailbox.objects.filter(pk=soon.pk).update(expires_on=date(2026, 12, 10))
    gone = make_mailbox(address="scaduta@pec.it", holder=other_holder)
    Mailbox.objects.filter(pk=gone.pk).update(status=MailboxStatus.EXPIRED)
    closed = make_mailbox(address="chiusa@pec.it")
    Mailbox.objects.filter(pk=closed.pk).update(status=MailboxStatus.CANCELLED)

    def found(**filters):
        listing = mailbox_listing(
            alice.pk,
            alice.own_holder_id,
            Filters(**filters),
            today=TODAY,
            size=ALL,
            split=False,
        )
        return [m.address for m in listing["all"].rows]

    assert found() == ["presto@pec.it", "pro@pec.it", "scaduta@pec.it"]  # no cancelled
    assert found(status="cancelled") == ["chiusa@pec.it"]
    assert found(tier="standard") == ["presto@pec.it"]
    assert found(expiry="30") == ["presto@pec.it"]
    assert found(expiry="expired") == ["scaduta@pec.it"]
    assert found(holder="own") == ["presto@pec.it", "pro@pec.it"]
    assert found(holder="others") == ["scaduta@pec.it"]


def test_another_accounts_mailboxes_never_appear(alice, bob, make_mailbox):
    make_mailbox(address="alice@pec.it")
    make_mailbox(address="bob@pec.it", customer=bob)
    listing = mailbox_listing(
        bob.pk, bob.own_holder_id, Filters(), today=TODAY, size=ALL, split=False
    )
    assert [m.address for m in listing["all"].rows] == ["bob@pec.it"]


def test_the_listed_record_of_a_mailbox_read_with_the_orm_is_the_same(alice, make_mailbox):
    from area.selectors import customer_mailboxes

    make_mailbox(address="uguale@pec.it", extras={"CONSERVAZIONE": 5})
    listed = _listing(alice)["own"].rows[0]
    orm = ListedMailbox.of(customer_mailboxes(alice).get(), alice.own_holder_id)
    assert listed == orm


def test_flags_asked_along_come_back_by_name_in_the_same_statement(alice, make_mailbox):
    make_mailbox(address="mia@pec.it")
    with CaptureQueriesContext(connection) as queries:
        listing = mailbox_listing(
            alice.pk,
            alice.own_holder_id,
            Filters(),
            today=TODAY,
            size=2,
            flags={
                "yes": ("EXISTS (SELECT 1 WHERE %s = %s)", [1, 1]),
                "no": ("EXISTS (SELECT 1 WHERE %s = %s)", [1, 2]),
            },
        )
    assert len(queries) == 1
    assert listing["own"].flags == {"yes": True, "no": False}
    assert [m.address for m in listing["own"].rows] == ["mia@pec.it"]  # the rows unchanged
    empty = mailbox_listing(  # no mailbox on the page: the flags still come
        alice.pk,
        alice.own_holder_id,
        Filters(q="nessuna"),
        today=TODAY,
        size=2,
        flags={"yes": ("EXISTS (SELECT 1 WHERE %s = %s)", [3, 3])},
    )
    assert empty["own"].flags == {"yes": True} and empty["own"].rows == []
