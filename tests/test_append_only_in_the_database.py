"""PostgreSQL itself refuses to change or delete the history: a raw UPDATE fails."""

import pytest
from django.db import DatabaseError, connection, transaction

from billing.models import Invoice, OrderEvent
from customers.models import SecurityEvent, SecurityEventKind
from mailboxes.models import MailboxEvent

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("the triggers are installed on PostgreSQL only")


def refused(sql: str, params=()) -> bool:
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
    except DatabaseError as error:
        assert "append-only" in str(error) or "never" in str(error)
        return True
    return False


@pytest.fixture
def history(alice, order_for, pay, make_mailbox):
    from tests.billing.test_orders import new_mailbox

    order = order_for(new_mailbox(alice, local_part="storia"))
    pay(order)
    mailbox = make_mailbox(address="eventi@pec.it")
    SecurityEvent.objects.create(user=alice.user, kind=SecurityEventKind.TWO_FACTOR_ENABLED)
    return {
        "invoice": Invoice.objects.get(order=order),
        "order_event": OrderEvent.objects.filter(order=order).first(),
        "mailbox_event": MailboxEvent.objects.filter(mailbox=mailbox).first(),
    }


def test_a_raw_update_or_delete_of_an_event_fails(history):
    for table, pk in [
        ("billing_orderevent", history["order_event"].pk),
        ("mailboxes_mailboxevent", history["mailbox_event"].pk),
        ("customers_securityevent", SecurityEvent.objects.get().pk),
    ]:
        assert refused(f"UPDATE {table} SET reason = 'riscritto' WHERE id = %s", [pk]), table
        assert refused(f"DELETE FROM {table} WHERE id = %s", [pk]), table
    assert MailboxEvent.objects.get(pk=history["mailbox_event"].pk).reason != "riscritto"


def test_a_raw_update_of_an_issued_invoice_s_fiscal_content_fails(history):
    invoice = history["invoice"]
    for assignment in ("total = total + 1", "number = 999", "buyer = '{}'::jsonb"):
        assert refused(f"UPDATE billing_invoice SET {assignment} WHERE id = %s", [invoice.pk])
    assert refused("DELETE FROM billing_invoice WHERE id = %s", [invoice.pk])
    assert refused("UPDATE billing_invoiceline SET net = 0 WHERE invoice_id = %s", [invoice.pk])
    invoice.refresh_from_db()
    assert Invoice.objects.get(pk=invoice.pk).total == invoice.total
    # Other columns a later feature may add stay writable: an update that changes no fiscal
    # content goes through.
    assert not refused("UPDATE billing_invoice SET total = total WHERE id = %s", [invoice.pk])


def test_a_raw_update_of_the_price_history_fails(tiers):
    from addons.models import PriceChange, Tier

    tier = Tier.objects.first()
    change = PriceChange.objects.create(
        tier=tier,
        price_per_year="30.00",
        previous_price=tier.price_per_year,
        effective_from="2027-01-01",
    )
    assert refused("UPDATE addons_pricechange SET price_per_year = 1 WHERE id = %s", [change.pk])
    assert refused("DELETE FROM addons_pricechange WHERE id = %s", [change.pk])
