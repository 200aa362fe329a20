"""pecshop.prepared: a queryset compiled once gives what the queryset gives, on either
database, from any thread, and refuses what it cannot compile once."""

import threading
from datetime import date

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.models import QuerySet
from django.test.utils import CaptureQueriesContext

from addons.models import Tier
from mailboxes.models import Mailbox, MailboxAddOn, MailboxEvent
from pecshop.prepared import PreparedQuery, prepared, set_prefetched


def _mailboxes(customer_id: int, since: date) -> QuerySet:
    return (
        Mailbox.objects.select_related("tier", "holder")
        .filter(customer_id=customer_id, activated_on__gte=since, status="active")
        .order_by("address")
    )


@pytest.fixture
def three(make_mailbox, bob):
    make_mailbox("b@pec.it", activated_on=date(2026, 3, 1))
    make_mailbox("a@pec.it", tier="standard", activated_on=date(2026, 6, 1))
    make_mailbox("c@pec.it", activated_on=date(2026, 7, 1))
    make_mailbox("bob@pec.it", customer=bob, activated_on=date(2026, 7, 1))


@pytest.mark.django_db
def test_instances_with_their_related_objects_as_the_queryset_gives_them(alice, three):
    query = PreparedQuery(_mailboxes)
    since = date(2026, 5, 1)
    expected = list(_mailboxes(alice.pk, since))
    for _ in range(2):  # compiled by the first call, reused by the second
        got = query.all(customer_id=alice.pk, since=since)
        assert [m.address for m in got] == ["a@pec.it", "c@pec.it"]
        assert [m.pk for m in got] == [m.pk for m in expected]
        assert got[0].expires_on == expected[0].expires_on  # the database's converters ran
        with CaptureQueriesContext(connection) as queries:
            assert [(m.tier.code, m.holder.pk) for m in got] == [
                (m.tier.code, m.holder.pk) for m in expected
            ]
        assert len(queries) == 0  # select_related filled in
    assert query.all(customer_id=alice.pk, since=date(2027, 1, 1)) == []


@pytest.mark.django_db
def test_one_statement_per_call_and_the_values_are_bound_not_written(alice, bob, three):
    query = PreparedQuery(_mailboxes)
    query.all(customer_id=alice.pk, since=date(2026, 1, 1))
    with CaptureQueriesContext(connection) as queries:
        bobs = query.all(customer_id=bob.pk, since=date(2026, 1, 1))
    assert [m.address for m in bobs] == ["bob@pec.it"]
    assert len(queries) == 1
    assert str(bob.pk) not in queries[0]["sql"].split("WHERE")[0]


@pytest.mark.django_db
def test_values_lists_exists_first_and_pages(alice, three):
    @prepared
    def addresses(customer_id: int) -> QuerySet:
        return Mailbox.objects.filter(customer_id=customer_id).order_by("address")

    @prepared
    def pairs(customer_id: int, status: str) -> QuerySet:
        return (
            Mailbox.objects.filter(customer_id=customer_id, status=status)
            .values_list("address", "tier__code")
            .order_by("address")
        )

    @prepared
    def flat(customer_id: int) -> QuerySet:
        return (
            Mailbox.objects.filter(customer_id=customer_id)
            .values_list("address", flat=True)
            .order_by("-address")
        )

    assert pairs.all(customer_id=alice.pk, status="active") == [
        ("a@pec.it", "standard"),
        ("b@pec.it", "pro"),
        ("c@pec.it", "pro"),
    ]
    assert pairs.all(customer_id=alice.pk, status="expired") == []
    assert flat.all(customer_id=alice.pk) == ["c@pec.it", "b@pec.it", "a@pec.it"]
    assert addresses.exists(customer_id=alice.pk) is True
    assert addresses.exists(customer_id=-5) is False
    assert addresses.first(customer_id=alice.pk).address == "a@pec.it"
    assert addresses.first(customer_id=-5) is None
    assert [m.address for m in addresses.page(2, 1, customer_id=alice.pk)] == [
        "b@pec.it",
        "c@pec.it",
    ]
    assert addresses.page(2, 3, customer_id=alice.pk) == []
    with connection.cursor() as cursor:  # the same question as a column of another statement
        for customer_id, expected in ((alice.pk, True), (-5, False)):
            sql, params = addresses.exists_sql(customer_id=customer_id)
            cursor.execute(f"SELECT {sql}, %s", [*params, "poi"])  # noqa: S608 - test SQL
            assert tuple(cursor.fetchone()) in ((expected, "poi"), (int(expected), "poi"))


@pytest.mark.django_db
def test_another_thread_runs_it_on_its_own_connection(tiers):
    @prepared
    def query(code: str) -> QuerySet:  # a table this test does not write (SQLite locks it)
        return Tier.objects.filter(code=code).values_list("name", flat=True)

    assert query.all(code="pro") == [tiers["pro"].name]  # compiled in this thread
    outcome = []

    def other():  # Django refuses a connection opened by another thread
        from django.db import connections

        try:
            outcome.append(query.all(code="standard"))
        except Exception as error:  # noqa: BLE001 - reported below
            outcome.append(error)
        finally:
            connections.close_all()

    thread = threading.Thread(target=other)
    thread.start()
    thread.join()
    assert outcome == [[tiers["standard"].name]]


@pytest.mark.django_db
def test_what_cannot_be_compiled_once_is_refused(alice):
    @prepared
    def derived(today: date) -> QuerySet:  # the day before is computed inside: not a parameter
        return Mailbox.objects.filter(expires_on__lt=date.fromordinal(today.toordinal() - 1))

    with pytest.raises(ImproperlyConfigured, match="today"):
        derived.all(today=date(2026, 12, 1))

    @prepared
    def unordered(customer_id: int) -> QuerySet:
        return Mailbox.objects.filter(customer_id=customer_id).order_by()  # no default order

    with pytest.raises(ImproperlyConfigured, match="ordered"):  # a page needs an order
        unordered.page(10, 0, customer_id=alice.pk)

    @prepared
    def prefetching(customer_id: int) -> QuerySet:
        return Mailbox.objects.filter(customer_id=customer_id).prefetch_related("addons")

    with pytest.raises(ImproperlyConfigured, match="prefetch_related"):
        prefetching.all(customer_id=alice.pk)

    @prepared
    def by_customer(customer_id: int) -> QuerySet:
        return Mailbox.objects.filter(customer_id=customer_id)

    with pytest.raises(TypeError, match="customer_id"):  # "= NULL" would match nothing
        by_customer.all(customer_id=None)
    with pytest.raises(TypeError, match="expected the values"):
        by_customer.all(customer=alice.pk)

    with pytest.raises(ImproperlyConfigured, match="int, str or date"):

        @prepared
        def untyped(flag: bool) -> QuerySet:  # True and False are everywhere in a statement
            return Mailbox.objects.filter(auto_renew=flag)


@pytest.mark.django_db
def test_prefetched_rows_answer_the_relation_without_a_query(make_mailbox):
    mailbox = make_mailbox(extras={"CONSERVAZIONE": 5})
    fresh = Mailbox.objects.get(pk=mailbox.pk)
    rows = list(MailboxAddOn.objects.filter(mailbox=mailbox).select_related("addon"))
    set_prefetched(fresh, "addons", rows)
    with CaptureQueriesContext(connection) as queries:
        held = list(fresh.addons.all())
        assert [a.addon.code for a in held] == ["CONSERVAZIONE"]
        assert held[0].mailbox is fresh
    assert len(queries) == 0
    assert MailboxEvent.objects.filter(mailbox=mailbox).exists()  # other relations still query


@pytest.mark.django_db
def test_queries_run_together_give_what_each_gives_alone(alice, bob, three):
    from pecshop.prepared import Statement, together

    mailboxes = PreparedQuery(_mailboxes)

    @prepared
    def addresses(customer_id: int) -> QuerySet:
        return Mailbox.objects.filter(customer_id=customer_id).values_list("address", flat=True)

    since = date(2026, 1, 1)
    alone = [
        mailboxes.all(customer_id=alice.pk, since=since),
        addresses.page(2, 1, customer_id=alice.pk),
        mailboxes.all(customer_id=-5, since=since),
    ]
    with CaptureQueriesContext(connection) as queries:
        together_ = together(
            mailboxes.bind(customer_id=alice.pk, since=since),
            addresses.bind_page(2, 1, customer_id=alice.pk),
            mailboxes.bind(customer_id=-5, since=since),
        )
    assert len(queries) == 3  # each statement is still one (PostgreSQL sends them at once)
    assert [[m.pk for m in alone[0]], alone[1], alone[2]] == [
        [m.pk for m in together_[0]],
        together_[1],
        together_[2],
    ]
    assert together_[0][0].tier.code == alone[0][0].tier.code  # select_related filled in
    assert together_[1] == ["b@pec.it", "c@pec.it"]

    # SQL written by hand goes along, its rows as the cursor gives them.
    table = Mailbox._meta.db_table
    by_hand = Statement(
        f"SELECT address FROM {table} WHERE customer_id = %s ORDER BY address",  # noqa: S608
        [alice.pk],
    )
    with CaptureQueriesContext(connection) as queries:
        first, rows = together(addresses.bind_page(1, 0, customer_id=alice.pk), by_hand)
    assert len(queries) == 2
    assert first == ["a@pec.it"]
    assert rows == [(a,) for a in addresses.all(customer_id=alice.pk)] == by_hand.rows()


@pytest.mark.django_db
def test_a_failing_statement_among_others_is_a_database_error_and_the_connection_goes_on(alice):
    from django.db import DatabaseError, transaction

    from pecshop.prepared import together

    if connection.vendor != "postgresql":
        pytest.skip("one after another elsewhere: the pipeline is PostgreSQL's")

    @prepared
    def fine(customer_id: int) -> QuerySet:
        return Mailbox.objects.filter(customer_id=customer_id).values_list("address", flat=True)

    @prepared
    def broken(customer_id: int) -> QuerySet:
        return Mailbox.objects.filter(customer_id=customer_id).extra(where=["1 / 0 = 1"])

    with pytest.raises(DatabaseError), transaction.atomic():
        together(fine.bind(customer_id=alice.pk), broken.bind(customer_id=alice.pk))
    assert fine.all(customer_id=alice.pk) == []  # the connection still answers
