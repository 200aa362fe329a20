"""The mailbox list stays cheap whatever the size of the table: the same number of queries
with 50 or 500 mailboxes, and never a COUNT(*) over the whole table (the count is capped
with a LIMIT). `bench/admin_mailboxes.py` measures the same pages with 1,000,000 rows on
PostgreSQL."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from addons.models import Tier
from mailboxes.models import Mailbox, MailboxStatus
from pecshop.admin_helpers import CappedCountPaginator

pytestmark = pytest.mark.django_db

URL = "/admin/mailboxes/mailbox/"
CASES = {
    "list": {},
    "search by address": {"q": "casella-00042@pec.it"},
    "search by address prefix": {"q": "casella-0004"},
    "status filter": {"status__exact": "cancelled"},
    "tier and expiry filters": {
        "tier__id__exact": "2",
        "expires_on__gte": "2027-01-01",
        "expires_on__lt": "2027-02-01",
    },
}


def add_mailboxes(alice, start: int, count: int) -> None:
    tiers = list(Tier.objects.order_by("rank"))
    Mailbox.objects.bulk_create(
        Mailbox(
            address=f"casella-{n:05d}@pec.it",
            tier=tiers[n % 3],
            holder_id=alice.own_holder_id,
            customer=alice,
            status=MailboxStatus.CANCELLED if n % 10 == 0 else MailboxStatus.ACTIVE,
            term_years=1,
            activated_on=date(2026, 1, 1) + timedelta(days=n % 365),
            expires_on=date(2027, 1, 1) + timedelta(days=n % 365),
        )
        for n in range(start, start + count)
    )


def whole_table_counts(queries) -> list[str]:
    table = Mailbox._meta.db_table
    return [
        q["sql"]
        for q in queries
        if "COUNT(" in q["sql"].upper() and table in q["sql"] and "LIMIT" not in q["sql"].upper()
    ]


@pytest.mark.parametrize("params", CASES.values(), ids=CASES.keys())
def test_the_mailbox_list_runs_the_same_queries_with_50_or_500_mailboxes(
    params, alice, accounting, client, django_assert_num_queries
):
    client.force_login(accounting)
    add_mailboxes(alice, 0, 50)
    client.get(URL, params)  # warm-up: what the site caches per session is not measured
    with CaptureQueriesContext(connection) as small:
        response = client.get(URL, params)
    assert response.status_code == 200
    assert not whole_table_counts(small.captured_queries)

    add_mailboxes(alice, 50, 450)
    with django_assert_num_queries(len(small.captured_queries)) as large:
        response = client.get(URL, params)
    assert response.status_code == 200
    assert not whole_table_counts(large.captured_queries)


def test_a_search_by_address_finds_it_among_many(alice, accounting, client):
    add_mailboxes(alice, 0, 500)
    client.force_login(accounting)
    found = client.get(URL, {"q": "casella-00042@pec.it"}).context["cl"].result_list
    assert [m.address for m in found] == ["casella-00042@pec.it"]
    prefix = client.get(URL, {"q": "casella-0004"}).context["cl"].result_list
    assert [m.address for m in prefix] == [f"casella-{n:05d}@pec.it" for n in range(40, 50)]
    cancelled = client.get(URL, {"status__exact": "cancelled"}).context["cl"]
    assert cancelled.result_count == 50


def test_beyond_the_cap_the_list_says_more_than(alice, accounting, client, monkeypatch):
    monkeypatch.setattr(CappedCountPaginator, "cap", 100)
    add_mailboxes(alice, 0, 300)
    client.force_login(accounting)
    response = client.get(URL)
    cl = response.context["cl"]
    assert (cl.result_count, cl.paginator.count_is_capped) == (100, True)
    assert cl.full_result_count is None  # show_full_result_count = False: no second count
    assert "più di 100 caselle PEC" in response.content.decode()
    assert len(cl.result_list) == 50
