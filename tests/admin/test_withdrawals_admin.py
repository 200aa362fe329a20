"""Withdrawals in the back office: filters by refund status, the bank-transfer refunds to
pay, the Cruscotto count, and the order's history."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from billing.dashboard import dashboard_figures
from billing.services.payments import bank_transfer_register
from billing.services.withdrawals import order_withdraw
from billing.withdrawal_models import Withdrawal
from tests.billing.test_orders import new_mailbox

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=ZoneInfo("Europe/Rome"))


@pytest.fixture
def bank_withdrawal(alice, order_for):
    order = order_for(new_mailbox(alice, local_part="rimborso"), method="bank_transfer")
    bank_transfer_register(
        order=order, amount=order.total, received_on=date(2026, 11, 25), bank_reference="CRO-1"
    )
    return order_withdraw(order=order, now=NOW, iban="IT60X0542811101000000123456")


@pytest.fixture
def card_withdrawal(alice, order_for, pay, django_capture_on_commit_callbacks):
    order = order_for(new_mailbox(alice, local_part="carta"))
    pay(order)
    with django_capture_on_commit_callbacks(execute=True):
        return order_withdraw(order=order, now=NOW)


def test_staff_filter_withdrawals_by_refund_status(
    bank_withdrawal, card_withdrawal, support, client
):
    client.force_login(support)
    changelist = reverse("admin:billing_withdrawal_changelist")
    pending = client.get(changelist + "?refund_status__exact=pending").content.decode()
    assert bank_withdrawal.order.number in pending
    assert card_withdrawal.order.number not in pending
    done = client.get(changelist + "?refund_status__exact=done").content.decode()
    assert card_withdrawal.order.number in done and bank_withdrawal.order.number not in done


def test_the_cruscotto_counts_the_refunds_to_pay(bank_withdrawal, card_withdrawal, support, client):
    figure = {f.key: f for f in dashboard_figures(today=date(2026, 11, 25))}["withdrawal_refunds"]
    assert figure.count == 1 and figure.rows == [bank_withdrawal]
    client.force_login(support)
    page = client.get(reverse("admin:cruscotto")).content.decode()
    assert "Rimborsi di recesso da eseguire" in page
    assert "refund_status__exact=pending" in page


def test_accounting_registers_the_bank_refund_and_the_history_says_so(
    bank_withdrawal, accounting, support, client
):
    url = reverse("admin:billing_withdrawal_operation", args=["bonifico-rimborso"])
    url += f"?ids={bank_withdrawal.pk}"
    client.force_login(support)
    assert client.get(url).status_code == 403
    client.force_login(accounting)
    missing = client.post(url, {"ids": str(bank_withdrawal.pk), "reason": "rimborso"})
    assert "Indica il riferimento del bonifico" in missing.content.decode()
    client.post(url, {"ids": str(bank_withdrawal.pk), "reference": "TRN-1", "reason": "pagato"})
    bank_withdrawal.refresh_from_db()
    assert (bank_withdrawal.refund_status, bank_withdrawal.refund_reference) == ("done", "TRN-1")
    kinds = list(bank_withdrawal.order.events.order_by("id").values_list("kind", flat=True))
    assert kinds.index("withdrawn") < kinds.index("withdrawal_refunded")
    history = client.get(
        reverse("admin:billing_order_change", args=[bank_withdrawal.order.pk])
    ).content.decode()
    assert "recesso del cliente" in history and "recesso: rimborso eseguito" in history


def test_a_withdrawal_is_never_edited_or_deleted_in_the_admin(bank_withdrawal, accounting, client):
    client.force_login(accounting)
    change = reverse("admin:billing_withdrawal_change", args=[bank_withdrawal.pk])
    assert client.get(change).status_code == 200
    delete = reverse("admin:billing_withdrawal_delete", args=[bank_withdrawal.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert Withdrawal.objects.count() == 1
