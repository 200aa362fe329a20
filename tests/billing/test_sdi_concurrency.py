"""The SDI's file names and sending under real concurrency (PostgreSQL, in CI)."""

from collections import Counter
from datetime import date

import pytest
from django.db import connection

from billing.models import Invoice
from billing.sdi.models import SdiState, SdiTransmission
from billing.sdi.services import sdi_send
from tests.billing.test_concurrency import confirmed_payment, run_at_once
from tests.billing.test_orders import new_mailbox

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("row locks are only meaningful on PostgreSQL (CI runs this there)")
    from tests.conftest import ensure_catalogue

    ensure_catalogue()


def test_twenty_orders_paid_at_once_send_twenty_files_with_twenty_names_in_sequence(
    alice, order_for, settings
):
    from billing.services.payments import payment_apply

    payments = [
        confirmed_payment(order_for(new_mailbox(alice, local_part=f"sdi{n:02d}")), f"gw-{n}")
        for n in range(20)
    ]

    # Each payment's invoice is sent after its commit (tasks run in process here).
    run_at_once(
        [(lambda p=p: payment_apply(payment_id=p.pk, paid_on=date(2026, 11, 25))) for p in payments]
    )

    assert Counter(SdiTransmission.objects.values_list("state", flat=True)) == {"sent": 20}
    names = sorted(SdiTransmission.objects.values_list("file_name", flat=True))
    assert names == [f"IT12345670017_{n:05d}.xml" for n in range(1, 10)] + [
        f"IT12345670017_0000{c}.xml" for c in "ABCDEFGHIJK"
    ]
    assert sorted(p.name for p in settings.SDI_FOLDER_OUT.iterdir()) == names


def test_one_document_sent_by_ten_workers_at_once_leaves_once(alice, order_for, settings):
    from billing.services.payments import payment_apply

    order = order_for(new_mailbox(alice, local_part="una"))
    payment_apply(payment_id=confirmed_payment(order, "gw-una").pk, paid_on=date(2026, 11, 25))
    invoice = Invoice.objects.get(order=order)
    # A second outbox row for the same document, queued and not yet picked up.
    invoice.sdi_transmissions.update(is_current=False)
    pk = SdiTransmission.objects.create(invoice=invoice, buyer=invoice.buyer).pk

    outcomes = run_at_once([lambda: sdi_send(transmission_id=pk)] * 10)

    assert outcomes.count("sent") == 1
    assert set(outcomes) <= {"sent", "busy", "already"}
    assert SdiTransmission.objects.get(pk=pk).state == SdiState.SENT
    assert len(list(settings.SDI_FOLDER_OUT.iterdir())) == 2
