"""Ten confirmations of the same withdrawal at once (PostgreSQL, separate connections):
one withdrawal, one credit note, one refund."""

from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from payments import PaymentStatus

from billing.models import InvoiceKind, OrderEvent, OrderStatus, Payment
from billing.services.withdrawals import WithdrawalRefused, order_withdraw
from billing.withdrawal_models import RefundStatus, Withdrawal
from mailboxes.models import Mailbox, MailboxStatus, ProvisioningCall
from tests.billing.test_concurrency import confirmed_payment, run_at_once
from tests.billing.test_orders import new_mailbox

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=ZoneInfo("Europe/Rome"))


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("row locks are only meaningful on PostgreSQL (CI runs this there)")
    from tests.conftest import ensure_catalogue

    ensure_catalogue()


def test_ten_confirmations_at_once_give_one_credit_note_and_one_refund(alice, order_for):
    from datetime import date

    from billing.services.payments import payment_apply

    order = order_for(new_mailbox(alice, addons={"CONSERVAZIONE": 5}))
    payment = confirmed_payment(order, "gw-withdrawal")
    assert payment_apply(payment_id=payment.pk, paid_on=date(2026, 11, 25)) == "fulfilled"

    def confirm():
        try:
            order_withdraw(order=order, now=NOW)
        except WithdrawalRefused as refused:
            return refused.code
        return "withdrawn"

    outcomes = run_at_once([confirm] * 10)

    assert Counter(outcomes) == {"withdrawn": 1, "already": 9}
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED
    assert Withdrawal.objects.filter(order=order).count() == 1
    assert order.invoices.filter(kind=InvoiceKind.CREDIT_NOTE).count() == 1
    assert OrderEvent.objects.filter(order=order, kind="withdrawn").count() == 1
    assert OrderEvent.objects.filter(order=order, kind="withdrawal_refunded").count() == 1
    withdrawal = Withdrawal.objects.get(order=order)
    assert withdrawal.refund_status == RefundStatus.DONE
    payment = Payment.objects.get(pk=payment.pk)
    assert (payment.status, payment.captured_amount) == (PaymentStatus.REFUNDED, 0)
    mailbox = Mailbox.objects.get()
    assert mailbox.status == MailboxStatus.CANCELLED
    assert ProvisioningCall.objects.filter(mailbox=mailbox, action="delete").count() == 1
