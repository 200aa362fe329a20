"""Withdrawing (recesso) from each kind of order: the mailbox as it was, the platform told,
a credit note with the refund's exact amounts, the money back at the gateway, the e-mail."""

from datetime import date, datetime, timedelta
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from payments import PaymentStatus

from billing.models import InvoiceKind, OrderEvent, OrderStatus, Payment
from billing.services.items import ItemSpec
from billing.services.payments import bank_transfer_register
from billing.services.withdrawals import (
    WithdrawalRefused,
    order_withdraw,
    withdrawal_bank_refund_done,
    withdrawal_preview,
)
from billing.withdrawal_models import RefundMethod, RefundStatus, Withdrawal
from mailboxes.models import AddOnStatus, Mailbox, MailboxStatus, ProvisioningCall
from mailboxes.services import mailbox_set_usage, mailbox_transition
from tests.billing.test_orders import holdings, new_mailbox
from tests.conftest import COMPANY, make_customer

pytestmark = pytest.mark.django_db
ROME = ZoneInfo("Europe/Rome")
PAID_ON = date(2026, 11, 25)


def at(day: date, hour=15, minute=30) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ROME)


@pytest.fixture
def withdraw(django_capture_on_commit_callbacks):
    """Withdraw as the Area Clienti does, running what follows the commit (refund, e-mail)."""

    def do(order, now=None, iban=""):
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            withdrawal = order_withdraw(order=order, now=now or at(PAID_ON), iban=iban)
        withdrawal.refresh_from_db()
        order.refresh_from_db()
        return withdrawal

    return do


def calls(mailbox, after=0):
    return list(
        ProvisioningCall.objects.filter(mailbox=mailbox, pk__gt=after)
        .order_by("pk")
        .values_list("action", "payload")
    )


def last_call_id() -> int:
    last = ProvisioningCall.objects.order_by("-pk").first()
    return last.pk if last else 0


def assert_credit_note(withdrawal, net, vat, total):
    note = withdrawal.credit_note
    assert note.kind == InvoiceKind.CREDIT_NOTE
    assert note.credited_invoice == withdrawal.order.invoices.get(kind=InvoiceKind.INVOICE)
    assert (note.net, note.vat, note.total) == (D(net), D(vat), D(total))
    assert (withdrawal.net, withdrawal.vat, withdrawal.total) == (D(net), D(vat), D(total))


def assert_refunded_at_the_gateway(order, amount, left):
    payment = Payment.objects.get(order=order)
    assert payment.captured_amount == D(left)
    assert payment.status == (PaymentStatus.REFUNDED if D(left) == 0 else PaymentStatus.CONFIRMED)
    withdrawal = order.withdrawal
    assert withdrawal.refund_method == RefundMethod.GATEWAY
    assert withdrawal.refund_status == RefundStatus.DONE
    # the gateway's own refund id, asked with the withdrawal's idempotency key
    assert withdrawal.refund_reference == f"test-refund-withdrawal-{order.number}"
    assert payment.refund_reference == withdrawal.refund_reference
    event = order.events.get(kind="withdrawal_refunded")
    assert event.data["amount"] == amount


def the_email(order):
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [order.customer.email]
    assert order.number in message.subject
    return message


def test_a_new_mailbox_withdrawn_the_same_day_is_cancelled_and_fully_refunded(
    alice, order_for, pay, withdraw
):
    order = order_for(new_mailbox(alice, addons={"CONSERVAZIONE": 5}))
    pay(order)
    mailbox = Mailbox.objects.get(address="studio.rossi@pec.it")
    before = last_call_id()

    withdrawal = withdraw(order, now=at(PAID_ON, 18, 5))

    mailbox.refresh_from_db()
    assert mailbox.status == MailboxStatus.CANCELLED
    assert set(mailbox.addons.values_list("status", flat=True)) == {AddOnStatus.CANCELLED}
    assert [action for action, _ in calls(mailbox, before)] == ["delete"]
    assert order.status == OrderStatus.REFUNDED
    assert (withdrawal.paid_net, withdrawal.used) == (D("89.80"), D("0.00"))
    assert_credit_note(withdrawal, "89.80", "19.76", "109.56")
    # the whole invoice is credited: the credit note repeats its lines
    assert withdrawal.credit_note.lines.count() == 2
    assert_refunded_at_the_gateway(order, "109.56", "0.00")
    message = the_email(order)
    assert "25/11/2026 alle 18:05" in message.body
    assert "studio.rossi@pec.it è stata cancellata" in message.body
    assert withdrawal.credit_note.display_number in message.body
    assert "€ 109,56" in message.body
    ((name, content, kind),) = message.attachments
    assert name == f"nota-di-credito-2026-{withdrawal.credit_note.number}.pdf"
    assert kind == "application/pdf" and content.startswith(b"%PDF")
    kinds = set(order.events.values_list("kind", flat=True))
    assert {"withdrawn", "withdrawal_refunded", "email_withdrawal"} <= kinds


def test_a_withdrawn_address_follows_the_usual_re_purchase_rule(
    alice, bob, order_for, pay, withdraw
):
    from mailboxes.selectors import address_unavailable_reason

    order = order_for(new_mailbox(alice))
    pay(order)
    withdraw(order)
    address = "studio.rossi@pec.it"
    assert address_unavailable_reason(address, alice.own_holder.fiscal_code) is None
    assert "precedente titolare" in address_unavailable_reason(address, bob.own_holder.fiscal_code)


def test_an_addon_withdrawn_on_day_7_is_removed_and_refunded_for_the_days_left(
    make_mailbox, order_for, pay, withdraw
):
    mailbox = make_mailbox(activated_on=date(2026, 5, 25))  # expires 2027-05-25
    order = order_for(ItemSpec("addon", {"add": {"CONSERVAZIONE": 5}}, mailbox.pk))
    pay(order)
    assert holdings(mailbox) == {"CONSERVAZIONE": (5, "active", None)}
    before = last_call_id()

    withdrawal = withdraw(order, now=at(date(2026, 12, 2)))

    assert holdings(mailbox) == {}
    assert calls(mailbox, before) == [("set_quotas", {"tier": "pro", "addons": {}})]
    mailbox.refresh_from_db()
    assert mailbox.status == MailboxStatus.ACTIVE
    # 10.00 for 181 days (2026-11-25 to 2027-05-25), 7 used: 0.39
    assert withdrawal.used == D("0.39")
    assert_credit_note(withdrawal, "9.61", "2.11", "11.72")
    assert withdrawal.credit_note.lines.get().net == D("9.61")
    assert_refunded_at_the_gateway(order, "11.72", "0.48")
    assert "sono stati tolti i servizi acquistati (CONSERVAZIONE 5)" in the_email(order).body


def test_units_removed_leave_nothing_deleted_and_say_how_many_gb_to_free(
    make_mailbox, order_for, pay, withdraw
):
    mailbox = make_mailbox(extras={"CONSERVAZIONE": 2})
    order = order_for(ItemSpec("addon", {"add": {"CONSERVAZIONE": 5}}, mailbox.pk))
    pay(order)
    mailbox_set_usage(
        mailbox=mailbox, mailbox_mb=0, archive_mb=0, conservation_mb=5 * 1024, at=at(PAID_ON)
    )

    withdrawal = withdraw(order)

    assert holdings(mailbox) == {"CONSERVAZIONE": (2, "active", None)}
    mailbox.refresh_from_db()
    assert mailbox.usage_conservation_mb == 5 * 1024  # the shop never deletes anything
    (note,) = withdrawal.space_to_free
    assert "supera i 2 GB disponibili: elimina almeno 3 GB" in note
    assert "elimina almeno 3 GB" in the_email(order).body


def test_aumenta_withdrawn_takes_off_only_the_units_bought(make_mailbox, order_for, pay, withdraw):
    mailbox = make_mailbox(extras={"SPAZIO": 3})
    order = order_for(ItemSpec("addon", {"add": {"SPAZIO": 2}}, mailbox.pk))
    pay(order)
    before = last_call_id()

    withdraw(order)

    assert holdings(mailbox) == {"SPAZIO": (3, "active", None)}
    assert calls(mailbox, before) == [("set_quotas", {"tier": "pro", "addons": {"SPAZIO": 3}})]


def test_multiutente_users_withdrawn_are_removed(make_mailbox, order_for, pay, withdraw):
    mailbox = make_mailbox(tier="premium", extras={"MULTIUTENTE": 2})
    order = order_for(ItemSpec("addon", {"add": {"MULTIUTENTE": 3}}, mailbox.pk))
    pay(order)
    assert holdings(mailbox) == {"MULTIUTENTE": (5, "active", None)}
    before = last_call_id()

    withdrawal = withdraw(order, now=at(date(2026, 11, 26)))

    assert holdings(mailbox) == {"MULTIUTENTE": (2, "active", None)}
    assert calls(mailbox, before) == [
        ("set_quotas", {"tier": "premium", "addons": {"MULTIUTENTE": 2}})
    ]
    # 6 months of 3 users: 9.00 for 181 days, 1 used: 0.05
    assert_credit_note(withdrawal, "8.95", "1.97", "10.92")
    assert_refunded_at_the_gateway(order, "10.92", "0.06")


def test_a_renewal_withdrawn_moves_the_expiry_back_and_refunds_the_term_not_started(
    make_mailbox, order_for, pay, withdraw
):
    mailbox = make_mailbox(activated_on=date(2026, 5, 25))
    order = order_for(ItemSpec("renewal", {"years": 1, "add": {"CONSERVAZIONE": 5}}, mailbox.pk))
    pay(order)
    mailbox.refresh_from_db()
    assert mailbox.expires_on == date(2028, 5, 25)
    before = last_call_id()

    withdrawal = withdraw(order, now=at(date(2026, 11, 30)))

    mailbox.refresh_from_db()
    assert mailbox.expires_on == date(2027, 5, 25)
    assert (mailbox.next_tier, mailbox.term_changes_on) == (None, None)
    assert holdings(mailbox) == {}  # the 5 GB added at once are removed again
    assert calls(mailbox, before) == [("set_quotas", {"tier": "pro", "addons": {}})]
    # renewal 24.90 and 20.00 not started: nothing used; the rateo 10.00: 5 of 181 days
    assert withdrawal.used == D("0.28")
    assert_credit_note(withdrawal, "54.62", "12.02", "66.64")
    assert_refunded_at_the_gateway(order, "66.64", "0.34")
    assert "la scadenza è tornata al 25/05/2027" in the_email(order).body


def test_an_early_renewal_with_a_tier_change_withdrawn_drops_the_scheduled_changes(
    make_mailbox, order_for, pay, withdraw
):
    mailbox = make_mailbox(tier="premium", extras={"MULTIUTENTE": 4, "CONSERVAZIONE": 2})
    order = order_for(
        ItemSpec("renewal", {"years": 1, "to_tier": "pro", "add": {"SPAZIO": 2}}, mailbox.pk)
    )
    pay(order)
    mailbox.refresh_from_db()
    assert mailbox.next_tier.code == "pro"

    withdrawal = withdraw(order)

    mailbox.refresh_from_db()
    assert (mailbox.tier.code, mailbox.next_tier, mailbox.term_changes_on) == (
        "premium",
        None,
        None,
    )
    assert mailbox.expires_on == date(2027, 5, 25)
    assert holdings(mailbox) == {
        "MULTIUTENTE": (4, "active", None),
        "CONSERVAZIONE": (2, "active", None),
    }
    assert withdrawal.total == order.total  # same day, the new term not started


def test_a_renewal_paid_in_the_grace_period_withdrawn_leaves_the_mailbox_expired_again(
    make_mailbox, order_for, pay, withdraw
):
    mailbox = make_mailbox(activated_on=date(2025, 11, 1), extras={"CONSERVAZIONE": 5})
    mailbox_transition(mailbox=mailbox, to_status=MailboxStatus.EXPIRED, today=date(2026, 11, 1))
    order = order_for(ItemSpec("renewal", {"years": 1}, mailbox.pk))
    pay(order)
    mailbox.refresh_from_db()
    assert mailbox.status == MailboxStatus.ACTIVE
    before = last_call_id()

    withdrawal = withdraw(order)

    mailbox.refresh_from_db()
    assert (mailbox.status, mailbox.expires_on) == (MailboxStatus.EXPIRED, date(2026, 11, 1))
    assert holdings(mailbox) == {"CONSERVAZIONE": (5, "expired", None)}
    assert [a for a, _ in calls(mailbox, before)] == ["suspend"]
    # the new term started on its old expiry, 2026-11-01: 24 of 365 days, 1.64 + 1.32
    assert withdrawal.used == D("2.96")
    assert withdrawal.net == order.net - withdrawal.used


def test_a_grace_renewal_that_lowered_and_dropped_add_ons_withdrawn_gives_them_back(
    make_mailbox, order_for, pay, withdraw
):
    mailbox = make_mailbox(activated_on=date(2025, 11, 1), extras={"CONSERVAZIONE": 5, "SPAZIO": 1})
    mailbox_transition(mailbox=mailbox, to_status=MailboxStatus.EXPIRED, today=date(2026, 11, 1))
    order = order_for(
        ItemSpec("renewal", {"years": 1, "keep": {"CONSERVAZIONE": 2, "SPAZIO": 0}}, mailbox.pk)
    )
    pay(order)
    mailbox.refresh_from_db()
    assert mailbox.status == MailboxStatus.ACTIVE
    assert holdings(mailbox) == {"CONSERVAZIONE": (2, "active", None)}  # at once, in grace
    from billing.services.withdrawals import _describe_undo

    assert "torna scaduta, con i servizi aggiuntivi che aveva prima" in _describe_undo(
        order.items.get(), today=date(2026, 11, 25)
    )

    withdraw(order)

    mailbox.refresh_from_db()
    assert (mailbox.status, mailbox.expires_on) == (MailboxStatus.EXPIRED, date(2026, 11, 1))
    assert holdings(mailbox) == {
        "CONSERVAZIONE": (5, "expired", None),
        "SPAZIO": (1, "expired", None),
    }
    changes = mailbox.events.filter(kind="addon_changed", reason__contains="recesso")
    assert changes.filter(data__to=5).exists()


def test_a_renewal_withdrawn_after_its_new_term_started_gives_back_the_lowered_add_on(
    make_mailbox, order_for, pay, withdraw
):
    from mailboxes.lifecycle import apply_term_changes

    mailbox = make_mailbox(activated_on=date(2025, 11, 30), extras={"CONSERVAZIONE": 5})
    order = order_for(ItemSpec("renewal", {"years": 1, "keep": {"CONSERVAZIONE": 2}}, mailbox.pk))
    pay(order)  # 25 November: the lower quantity is for the term starting on 30 November
    apply_term_changes(today=date(2026, 11, 30))
    mailbox.refresh_from_db()
    assert holdings(mailbox) == {"CONSERVAZIONE": (2, "active", None)}

    withdraw(order, now=at(date(2026, 12, 2)))

    mailbox.refresh_from_db()
    assert (mailbox.status, mailbox.expires_on) == (MailboxStatus.EXPIRED, date(2026, 11, 30))
    assert holdings(mailbox) == {"CONSERVAZIONE": (5, "expired", None)}


def test_an_upgrade_withdrawn_returns_to_the_previous_tier_with_the_credited_sms(
    make_mailbox, order_for, pay, withdraw
):
    mailbox = make_mailbox(tier="standard", extras={"SMS": 1})
    order = order_for(ItemSpec("upgrade", {"to_tier": "pro"}, mailbox.pk))
    pay(order)
    mailbox.refresh_from_db()
    assert mailbox.tier.code == "pro"
    before = last_call_id()

    withdrawal = withdraw(order, now=at(date(2026, 12, 2)))

    mailbox.refresh_from_db()
    assert mailbox.tier.code == "standard"
    assert holdings(mailbox) == {"SMS": (1, "active", None)}
    assert calls(mailbox, before) == [("set_quotas", {"tier": "standard", "addons": {"SMS": 1}})]
    # upgrade 7.50 and credit -2.00 over 181 days, 7 used: 0.29 and -0.08
    assert withdrawal.used == D("0.21")
    assert_credit_note(withdrawal, "5.29", "1.16", "6.45")
    assert_refunded_at_the_gateway(order, "6.45", "0.26")
    assert "è tornata alla tipologia precedente (Standard)" in the_email(order).body


def test_a_bank_transfer_order_is_refunded_by_staff_to_the_iban_given(
    alice, order_for, withdraw, admin_user
):
    order = order_for(new_mailbox(alice), method="bank_transfer")
    bank_transfer_register(
        order=order, amount=order.total, received_on=PAID_ON, bank_reference="CRO-1"
    )
    with pytest.raises(WithdrawalRefused) as missing:
        order_withdraw(order=order, now=at(PAID_ON))
    assert "Indica l'IBAN" in missing.value.message
    with pytest.raises(WithdrawalRefused) as wrong:
        order_withdraw(order=order, now=at(PAID_ON), iban="IT60X0542811101000000123457")
    assert "L'IBAN non è valido" in wrong.value.message
    assert not Withdrawal.objects.exists()

    withdrawal = withdraw(order, iban="it60 x054 2811 1010 0000 0123 456")

    assert withdrawal.iban == "IT60X0542811101000000123456"
    assert (withdrawal.refund_method, withdrawal.refund_status) == ("bank_transfer", "pending")
    assert "IBAN IT60X0542811101000000123456" in the_email(order).body
    withdrawal_bank_refund_done(withdrawal=withdrawal, actor=admin_user, reference="TRN-99")
    withdrawal.refresh_from_db()
    assert (withdrawal.refund_status, withdrawal.refund_reference) == ("done", "TRN-99")
    assert withdrawal.refunded_by == admin_user
    assert Payment.objects.get(order=order).status == PaymentStatus.REFUNDED
    event = order.events.get(kind="withdrawal_refunded")
    assert (event.actor, event.data["iban"]) == (admin_user, withdrawal.iban)


# --- refusals ---------------------------------------------------------------------------------


def test_a_business_holder_has_no_right_of_withdrawal(order_for, pay, db):
    company = make_customer("ufficio@bianchi.example", COMPANY)
    order = order_for(new_mailbox(company), customer=company)
    pay(order)
    order.refresh_from_db()
    preview = withdrawal_preview(order=order, now=at(PAID_ON))
    assert preview.refused.code == "business"
    assert "partita IVA" in preview.refused.message
    assert "solo ai consumatori" in preview.refused.message
    with pytest.raises(WithdrawalRefused):
        order_withdraw(order=order, now=at(PAID_ON))
    assert not Withdrawal.objects.exists()


@pytest.mark.parametrize(
    "now, allowed",
    [
        (at(date(2026, 12, 9), 23, 59), True),  # the 14th day after payment, 23:59
        (datetime(2026, 12, 10, 0, 0, 5, tzinfo=ROME), False),  # the 15th day
        (at(date(2026, 12, 20)), False),
    ],
)
def test_the_period_ends_at_23_59_of_the_14th_day(alice, order_for, pay, now, allowed):
    order = order_for(new_mailbox(alice))
    pay(order)
    order.refresh_from_db()
    preview = withdrawal_preview(order=order, now=now)
    assert preview.allowed is allowed
    if not allowed:
        assert preview.refused.code == "expired"
        assert "è terminato il 09/12/2026 alle 23:59" in preview.refused.message
        with pytest.raises(WithdrawalRefused):
            order_withdraw(order=order, now=now)


def test_withdrawing_twice_has_one_effect(alice, order_for, pay, withdraw):
    order = order_for(new_mailbox(alice))
    pay(order)
    withdraw(order)
    with pytest.raises(WithdrawalRefused) as again:
        order_withdraw(order=order, now=at(PAID_ON, 16))
    assert again.value.code == "already"
    assert "Hai già esercitato il recesso" in again.value.message
    assert order.invoices.filter(kind=InvoiceKind.CREDIT_NOTE).count() == 1
    assert OrderEvent.objects.filter(order=order, kind="withdrawal_refunded").count() == 1


def test_an_unpaid_order_cannot_be_withdrawn(alice, order_for):
    order = order_for(new_mailbox(alice), method="bank_transfer")
    preview = withdrawal_preview(order=order, now=at(PAID_ON))
    assert preview.refused.code == "unpaid"
    assert "non è pagato" in preview.refused.message
    with pytest.raises(WithdrawalRefused):
        order_withdraw(order=order, now=at(PAID_ON))


def test_a_mailbox_changed_after_the_order_is_refused_with_what_to_do(make_mailbox, order_for, pay):
    mailbox = make_mailbox(activated_on=date(2026, 5, 25))
    order = order_for(ItemSpec("renewal", {"years": 1}, mailbox.pk))
    pay(order)
    Mailbox.objects.filter(pk=mailbox.pk).update(expires_on=date(2029, 1, 1))
    with pytest.raises(WithdrawalRefused) as refused:
        order_withdraw(order=order, now=at(PAID_ON))
    assert refused.value.code == "conflict"
    assert "scrivi all'assistenza" in refused.value.message.lower()
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert not order.invoices.filter(kind=InvoiceKind.CREDIT_NOTE).exists()


def test_a_failed_gateway_refund_stays_pending_for_staff(
    alice, order_for, pay, withdraw, monkeypatch
):
    from billing.gateways import GatewayError
    from billing.payments import TestGatewayProvider

    def decline(self, payment, *, amount, idempotency_key):
        raise GatewayError("gateway down")

    monkeypatch.setattr(TestGatewayProvider, "refund_payment", decline)
    order = order_for(new_mailbox(alice))
    pay(order)
    withdrawal = withdraw(order)
    assert withdrawal.refund_status == RefundStatus.PENDING
    assert "gateway down" in withdrawal.refund_error
    assert order.events.filter(kind="withdrawal_refund_failed").exists()
    assert order.status == OrderStatus.REFUNDED  # the withdrawal itself holds


def test_the_earliest_payment_still_withdrawable_is_fourteen_days_back():
    from billing.withdrawal_rule import earliest_withdrawable_payment, withdrawal_open

    today = date(2026, 3, 1)
    first = earliest_withdrawable_payment(today)
    assert first == date(2026, 2, 15)
    assert withdrawal_open(paid_on=first, today=today)
    assert not withdrawal_open(paid_on=first - timedelta(days=1), today=today)
