"""From cart item to paid order to the resulting mailbox state, for every kind of item."""

from datetime import date
from decimal import Decimal as D

import pytest
from django.core import mail

from addons.models import AddOn, Tier
from billing.models import Invoice, Order, OrderStatus
from billing.services.items import ItemSpec
from billing.services.orders import OrderError, order_cancel
from mailboxes.models import AddOnStatus, Mailbox, MailboxStatus
from mailboxes.services import mailbox_transition

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 25)


def new_mailbox(alice, local_part="studio.rossi", tier="pro", years=2, addons=None, holder=None):
    return ItemSpec(
        "new_mailbox",
        {
            "tier": tier,
            "local_part": local_part,
            "domain": "pec.it",
            "years": years,
            "addons": addons or {},
            "holder_id": (holder or alice.own_holder).pk,
        },
    )


def holdings(mailbox):
    return {
        a.addon.code: (a.quantity, a.status, a.next_quantity)
        for a in mailbox.addons.select_related("addon").exclude(status=AddOnStatus.ENDED)
    }


def test_a_new_mailbox_is_reserved_at_order_and_active_once_paid(
    alice, order_for, pay, django_capture_on_commit_callbacks
):
    order = order_for(new_mailbox(alice, addons={"CONSERVAZIONE": 5}))
    assert (order.net, order.vat, order.total) == (D("89.80"), D("19.76"), D("109.56"))
    mailbox = Mailbox.objects.get(address="studio.rossi@pec.it")
    assert mailbox.status == MailboxStatus.PENDING

    with django_capture_on_commit_callbacks(execute=True):
        _, outcome = pay(order, paid_on=date(2026, 11, 27))

    assert outcome == "fulfilled"
    mailbox.refresh_from_db()
    assert mailbox.status == MailboxStatus.ACTIVE
    assert (mailbox.activated_on, mailbox.expires_on) == (date(2026, 11, 27), date(2028, 11, 27))
    assert holdings(mailbox) == {"CONSERVAZIONE": (5, "active", None)}
    assert mailbox.auto_renew is True  # paid by card
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    invoice = order.invoices.get()
    assert (invoice.display_number, invoice.total) == ("2026/1", D("109.56"))
    assert invoice.buyer["fiscal_code"] == alice.own_holder.fiscal_code
    assert mailbox.provisioning_calls.filter(action="create", status="done").exists()


def test_an_addon_bought_six_months_before_expiry_costs_the_seed_rateo(
    make_mailbox, order_for, pay
):
    mailbox = make_mailbox(activated_on=date(2026, 5, 25))  # expires 2027-05-25
    order = order_for(ItemSpec("addon", {"add": {"CONSERVAZIONE": 5}}, mailbox.pk))
    assert [(line.months, line.net) for line in order.lines.all()] == [(6, D("10.00"))]
    assert (order.net, order.vat, order.total) == (D("10.00"), D("2.20"), D("12.20"))

    pay(order)

    mailbox.refresh_from_db()
    assert holdings(mailbox) == {"CONSERVAZIONE": (5, "active", None)}
    assert mailbox.expires_on == date(2027, 5, 25)  # add-ons never move the expiry


def test_aumenta_adds_units_to_the_addon_already_held(make_mailbox, order_for, pay):
    mailbox = make_mailbox(extras={"SPAZIO": 3})
    pay(order_for(ItemSpec("addon", {"add": {"SPAZIO": 2}}, mailbox.pk)))
    assert holdings(mailbox) == {"SPAZIO": (5, "active", None)}


def test_the_seed_renewal_with_five_gb_added_costs_66_98(make_mailbox, order_for, pay):
    mailbox = make_mailbox(activated_on=date(2026, 5, 25))
    order = order_for(ItemSpec("renewal", {"years": 1, "add": {"CONSERVAZIONE": 5}}, mailbox.pk))
    assert [line.net for line in order.lines.all()] == [D("24.90"), D("10.00"), D("20.00")]
    assert (order.net, order.vat, order.total) == (D("54.90"), D("12.08"), D("66.98"))

    pay(order)

    mailbox.refresh_from_db()
    assert mailbox.expires_on == date(2028, 5, 25)
    assert holdings(mailbox) == {"CONSERVAZIONE": (5, "active", None)}


def test_an_upgrade_credits_the_sms_that_the_new_tier_includes(make_mailbox, order_for, pay):
    mailbox = make_mailbox(tier="standard", extras={"SMS": 1})
    order = order_for(ItemSpec("upgrade", {"to_tier": "pro"}, mailbox.pk))
    assert [(line.kind, line.net) for line in order.lines.all()] == [
        ("upgrade", D("7.50")),
        ("credit", D("-2.00")),
    ]
    assert order.total == D("6.71")  # 5.50 + 1.21

    pay(order)

    mailbox.refresh_from_db()
    assert mailbox.tier.code == "pro"
    assert mailbox.expires_on == date(2027, 5, 25)
    assert mailbox.addons.get().status == AddOnStatus.ENDED


def test_a_renewal_in_the_grace_period_reactivates_the_addons_kept(make_mailbox, order_for, pay):
    mailbox = make_mailbox(
        activated_on=date(2025, 11, 1), extras={"CONSERVAZIONE": 5, "ARCHIVIO": 2}
    )
    mailbox_transition(mailbox=mailbox, to_status=MailboxStatus.EXPIRED, today=date(2026, 11, 1))
    order = order_for(ItemSpec("renewal", {"years": 2, "keep": {"ARCHIVIO": 0}}, mailbox.pk))
    assert [line.net for line in order.lines.all()] == [D("49.80"), D("40.00")]

    pay(order)

    mailbox.refresh_from_db()
    assert mailbox.status == MailboxStatus.ACTIVE
    assert mailbox.expires_on == date(2028, 11, 1)  # from the old expiry, not from today
    assert holdings(mailbox) == {"CONSERVAZIONE": (5, "active", None)}


def test_an_early_renewal_with_a_tier_change_schedules_it_for_the_end_of_the_term(
    make_mailbox, order_for, pay
):
    mailbox = make_mailbox(tier="premium", extras={"MULTIUTENTE": 4, "CONSERVAZIONE": 2})
    pay(order_for(ItemSpec("renewal", {"years": 1, "to_tier": "pro"}, mailbox.pk)))
    mailbox.refresh_from_db()
    assert mailbox.tier.code == "premium"  # still Premium until the running term ends
    assert (mailbox.next_tier.code, mailbox.term_changes_on) == ("pro", date(2027, 5, 25))
    assert mailbox.expires_on == date(2028, 5, 25)
    assert holdings(mailbox) == {
        "CONSERVAZIONE": (2, "active", None),
        "MULTIUTENTE": (4, "active", 0),
    }


def test_a_price_change_never_changes_an_order_already_placed(make_mailbox, order_for, pay):
    mailbox = make_mailbox()
    order = order_for(ItemSpec("addon", {"add": {"CONSERVAZIONE": 5}}, mailbox.pk))
    AddOn.objects.filter(code="CONSERVAZIONE").update(price_per_year=D("40.00"))
    Tier.objects.filter(code="pro").update(price_per_year=D("99.00"))
    pay(order)
    invoice = Invoice.objects.get(order=order)
    assert invoice.total == D("12.20")
    assert order.lines.get().unit_price == D("4.00")


def test_the_same_checkout_submitted_twice_places_one_order(alice, tiers):
    from billing.services.orders import order_place

    spec = new_mailbox(alice)
    first = order_place(
        customer=alice, items=[spec], payment_method="card", placement_key="k1", today=TODAY
    )
    second = order_place(
        customer=alice, items=[spec], payment_method="card", placement_key="k1", today=TODAY
    )
    assert first.pk == second.pk
    assert Order.objects.count() == 1


def test_an_address_taken_between_cart_and_order_is_refused(alice, bob, order_for):
    order_for(new_mailbox(bob, local_part="contesa"), customer=bob)
    with pytest.raises(OrderError, match="già in uso"):
        order_for(new_mailbox(alice, local_part="contesa"))
    assert Order.objects.count() == 1


def test_a_cancelled_order_frees_its_addresses(alice, order_for):
    order = order_for(new_mailbox(alice, local_part="libera"), method="bank_transfer")
    order_cancel(order=order, today=TODAY)
    assert Mailbox.objects.get(address="libera@pec.it").status == MailboxStatus.CANCELLED
    again = order_for(new_mailbox(alice, local_part="libera"))
    assert again.status == OrderStatus.AWAITING_PAYMENT


def test_only_an_order_awaiting_payment_can_be_cancelled(alice, order_for, pay):
    order = order_for(new_mailbox(alice))
    pay(order)
    with pytest.raises(OrderError, match="in attesa di pagamento"):
        order_cancel(order=order, today=TODAY)


def test_a_card_charge_for_a_cancelled_order_is_refunded_and_applies_nothing(
    alice, order_for, django_capture_on_commit_callbacks
):
    from payments import PaymentStatus

    from billing.services.payments import payment_confirm, payment_start

    order = order_for(new_mailbox(alice))
    payment = payment_start(order=order)  # the customer was at the gateway ...
    order_cancel(order=order, today=TODAY)  # ... when the order was cancelled
    with django_capture_on_commit_callbacks(execute=True):
        outcome = payment_confirm(
            payment_id=payment.pk, reference="gw-late", amount=order.total, source="webhook"
        )
    assert outcome == "duplicate"
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REFUNDED
    assert payment.refund_reference and not payment.needs_review
    assert not Invoice.objects.exists()
    assert Mailbox.objects.get().status == MailboxStatus.CANCELLED


def test_a_payment_of_the_wrong_amount_is_flagged_not_applied(alice, order_for, pay):
    order = order_for(new_mailbox(alice))
    payment, outcome = pay(order, amount=order.total - D("0.01"))
    assert outcome == "flagged"
    order.refresh_from_db()
    assert order.status == OrderStatus.AWAITING_PAYMENT
    assert not Invoice.objects.exists()


def test_a_second_card_charge_for_a_paid_order_is_refunded_through_the_gateway(
    alice, order_for, pay, django_capture_on_commit_callbacks
):
    from payments import PaymentStatus

    from billing.models import Payment

    order = order_for(new_mailbox(alice))
    first = Payment.objects.create(order=order, method="card", variant="card", total=order.total)
    pay(order)
    Payment.objects.filter(pk=first.pk).update(
        status=PaymentStatus.CONFIRMED, captured_amount=order.total, transaction_id="gw-late"
    )
    from billing.services.payments import payment_apply

    with django_capture_on_commit_callbacks(execute=True):
        assert payment_apply(payment_id=first.pk) == "duplicate"
    first.refresh_from_db()
    assert (first.status, first.duplicate, first.needs_review) == ("refunded", True, False)
    assert first.refund_reference == "test-refund-refund-gw-late"
    assert order.events.filter(kind="duplicate_refunded", payment=first).count() == 1
    assert Invoice.objects.count() == 1


def test_a_tampered_price_in_the_item_is_ignored(alice, order_for):
    spec = new_mailbox(alice)
    spec.params.update({"net": "0.01", "total": "0.01", "unit_price": "0.01"})
    order = order_for(spec)
    assert order.total == D("60.76")  # 2 x 24.90 + 22%


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"tier": "gold"}, "Tipologia sconosciuta"),
        ({"years": 6}, "da 1 a 5 anni"),
        ({"addons": {"ARCHIVIO": 101}}, "al massimo"),
        ({"tier": "standard", "addons": {"ARCHIVIO": 1}}, "non è disponibile"),
        ({"addons": {"SPAZIO": -1}}, "positivo"),
        ({"local_part": "a..b"}, "due punti"),
        ({"domain": "gmail.com"}, "domini certificati"),
    ],
)
def test_a_tampered_or_invalid_item_is_refused_at_order(alice, order_for, change, message):
    spec = new_mailbox(alice)
    spec.params.update(change)
    with pytest.raises(OrderError, match=message):
        order_for(spec)
    assert not Order.objects.exists()
    assert not Mailbox.objects.exists()


def test_an_order_holds_at_most_99_new_mailboxes(alice, order_for):
    specs = [new_mailbox(alice, local_part=f"casella{n:03d}") for n in range(100)]
    with pytest.raises(OrderError, match="99"):
        order_for(*specs)


def test_another_customers_mailbox_cannot_be_ordered_for(make_mailbox, bob, order_for):
    mailbox = make_mailbox()
    with pytest.raises(OrderError, match="non trovata"):
        order_for(ItemSpec("addon", {"add": {"CONSERVAZIONE": 1}}, mailbox.pk), customer=bob)


def test_an_expired_mailbox_can_only_be_renewed(make_mailbox, order_for):
    mailbox = make_mailbox(activated_on=date(2025, 11, 1))
    mailbox_transition(mailbox=mailbox, to_status=MailboxStatus.EXPIRED, today=date(2026, 11, 1))
    with pytest.raises(OrderError, match="si può solo rinnovare"):
        order_for(ItemSpec("addon", {"add": {"CONSERVAZIONE": 1}}, mailbox.pk))


def test_a_mailbox_cancelled_after_the_order_sends_the_paid_order_to_staff(
    make_mailbox, order_for, pay
):
    mailbox = make_mailbox()
    order = order_for(ItemSpec("addon", {"add": {"CONSERVAZIONE": 5}}, mailbox.pk))
    mailbox_transition(mailbox=mailbox, to_status=MailboxStatus.CANCELLED, today=TODAY)
    payment, outcome = pay(order)
    assert outcome == "attention"
    order.refresh_from_db()
    assert order.status == OrderStatus.ATTENTION
    assert "cambiata" in order.attention_reason or "non è più attiva" in order.attention_reason
    payment.refresh_from_db()
    assert payment.applied_at is not None  # the money is recorded, nothing is lost
    assert not mailbox.addons.exists()
    assert not Invoice.objects.exists()


def test_a_failure_half_way_leaves_nothing_applied_and_a_retry_succeeds(
    alice, make_mailbox, order_for, pay, monkeypatch
):
    from billing.services import payments as payments_service

    first = make_mailbox(address="uno@pec.it")
    order = order_for(
        new_mailbox(alice, local_part="due"),
        ItemSpec("addon", {"add": {"CONSERVAZIONE": 5}}, first.pk),
    )
    real = payments_service.addon_attach

    def broken(**kwargs):
        raise RuntimeError("crash half-way")

    monkeypatch.setattr(payments_service, "addon_attach", broken)
    with pytest.raises(RuntimeError):
        pay(order)
    assert Mailbox.objects.get(address="due@pec.it").status == MailboxStatus.PENDING
    assert not first.addons.exists()
    assert not Invoice.objects.exists()
    order.refresh_from_db()
    assert order.status == OrderStatus.AWAITING_PAYMENT

    monkeypatch.setattr(payments_service, "addon_attach", real)
    _, outcome = pay(order)
    assert outcome == "fulfilled"
    assert Mailbox.objects.get(address="due@pec.it").status == MailboxStatus.ACTIVE
    assert Invoice.objects.get().number == 1  # the failed attempt used no number


def test_the_order_emails_are_sent_once_each(
    alice, order_for, pay, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        order = order_for(new_mailbox(alice), method="card")
    with django_capture_on_commit_callbacks(execute=True):
        pay(order)
    from billing.services.emails import order_email_send

    assert order_email_send(order_id=order.pk, kind="paid") == "already sent"
    subjects = [m.subject for m in mail.outbox]
    assert subjects == [
        f"Ordine {order.number} ricevuto",
        f"Pagamento ricevuto: ordine {order.number}",
    ]
    assert mail.outbox[1].attachments[0][0] == "fattura-2026-1.pdf"
    assert mail.outbox[1].attachments[0][1][:4] == b"%PDF"


def test_the_bank_transfer_email_gives_the_order_number_as_reference(
    alice, order_for, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        order = order_for(new_mailbox(alice), method="bank_transfer")
    body = mail.outbox[0].body
    assert "IBAN" in body and f"Causale: ordine {order.number}" in body and "€ 60,76" in body
