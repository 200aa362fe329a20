"""Allinea le scadenze: the order for several mailboxes, its invoice and its fulfilment."""

import uuid
from datetime import date
from decimal import Decimal

import pytest

from billing.models import ItemKind, OrderStatus
from billing.pricing import PricingError
from billing.services.alignment import (
    alignment_candidates,
    alignment_order_place,
    alignment_preview,
)
from billing.services.orders import OrderError
from mailboxes.models import AddOnStatus, MailboxStatus
from mailboxes.services import mailbox_transition

D = Decimal
TODAY = date(2026, 11, 25)
TARGET = date(2027, 12, 31)


@pytest.fixture
def three(make_mailbox):
    """A Standard with SMS expired on 10/11/2026 (in grace), a Pro with 5 GB Conservazione
    expiring 31/03/2027 and a Premium expiring 01/06/2027."""
    uno = make_mailbox("uno@pec.it", "standard", activated_on=date(2025, 11, 10), extras={"SMS": 1})
    uno = mailbox_transition(mailbox=uno, to_status=MailboxStatus.EXPIRED, today=date(2026, 11, 10))
    due = make_mailbox(
        "due@pec.it", "pro", activated_on=date(2026, 3, 31), extras={"CONSERVAZIONE": 5}
    )
    tre = make_mailbox("tre@pec.it", "premium", activated_on=date(2026, 6, 1))
    return uno, due, tre


def test_an_order_for_three_mailboxes_is_priced_to_the_cent_and_leaves_them_on_the_target(
    alice, three, pay
):
    uno, due, tre = three
    order = alignment_order_place(
        customer=alice,
        mailbox_ids=[tre.pk, uno.pk, due.pk],
        target="2027-12-31",
        payment_method="card",
        placement_key=uuid.uuid4().hex,
        today=TODAY,
    )
    lines = list(order.lines.order_by("position"))
    # 13.90 x 14 / 12 = 16.22 (10/11/2026 -> 31/12/2027: 1 year, 1 month, 21 days);
    # 44.90 x 9 / 12 = 33.675 -> 33.68; 39.90 x 7 / 12 = 23.275 -> 23.28
    assert [(line.months, line.unit_price, line.net) for line in lines] == [
        (14, D("13.90"), D("16.22")),
        (9, D("44.90"), D("33.68")),
        (7, D("39.90"), D("23.28")),
    ]
    assert [line.description.split()[2] for line in lines] == [
        "uno@pec.it",
        "due@pec.it",
        "tre@pec.it",
    ]
    assert (order.net, order.vat, order.total) == (D("73.18"), D("16.10"), D("89.28"))
    assert {item.kind for item in order.items.all()} == {ItemKind.ALIGNMENT}

    _, outcome = pay(order, paid_on=TODAY)
    assert outcome == "fulfilled"
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    (invoice,) = order.invoices.all()
    assert (invoice.net, invoice.vat, invoice.total) == (D("73.18"), D("16.10"), D("89.28"))
    assert invoice.lines.count() == 3
    assert all(
        address in line.description
        for address, line in zip(
            ["uno@pec.it", "due@pec.it", "tre@pec.it"],
            invoice.lines.order_by("position"),
            strict=True,
        )
    )
    for mailbox in three:
        mailbox.refresh_from_db()
        assert mailbox.expires_on == TARGET
        assert mailbox.status == MailboxStatus.ACTIVE
    assert uno.addons.get().status == AddOnStatus.ACTIVE
    assert due.addons.get().status == AddOnStatus.ACTIVE
    assert due.addons.get().quantity == 5


def test_the_preview_lists_each_mailbox_with_its_months_and_amount(alice, three):
    mailboxes, quote = alignment_preview(
        customer=alice, mailbox_ids=[m.pk for m in three], target="2027-12-31", today=TODAY
    )
    assert [(m.address, r.months, r.net) for m, r in zip(mailboxes, quote.rows, strict=True)] == [
        ("uno@pec.it", 14, D("16.22")),
        ("due@pec.it", 9, D("33.68")),
        ("tre@pec.it", 7, D("23.28")),
    ]
    assert quote.total == D("89.28")


def test_another_customers_mailbox_cannot_be_aligned(alice, bob, make_mailbox):
    bobs = make_mailbox("bob@pec.it", customer=bob)
    with pytest.raises(PricingError, match="Casella non trovata"):
        alignment_preview(customer=alice, mailbox_ids=[bobs.pk], target="2028-01-01", today=TODAY)


def test_a_target_before_an_expiry_is_refused_with_the_mailbox_named(alice, three):
    with pytest.raises(PricingError, match="tre@pec.it"):
        alignment_order_place(
            customer=alice,
            mailbox_ids=[m.pk for m in three],
            target="2027-05-01",
            payment_method="card",
            placement_key=uuid.uuid4().hex,
            today=TODAY,
        )


def test_a_mailbox_changed_after_the_order_makes_it_go_to_staff(alice, three, pay):
    from mailboxes.services import mailbox_renew

    uno, due, tre = three
    order = alignment_order_place(
        customer=alice,
        mailbox_ids=[due.pk],
        target="2027-12-31",
        payment_method="card",
        placement_key=uuid.uuid4().hex,
        today=TODAY,
    )
    mailbox_renew(mailbox=due, years=1, today=TODAY)
    _, outcome = pay(order, paid_on=TODAY)
    assert outcome == "attention"


def test_the_same_placement_key_places_one_order(alice, three):
    key = uuid.uuid4().hex
    kwargs = {
        "customer": alice,
        "mailbox_ids": [three[1].pk],
        "target": "2027-12-31",
        "payment_method": "card",
        "placement_key": key,
        "today": TODAY,
    }
    assert alignment_order_place(**kwargs).pk == alignment_order_place(**kwargs).pk


def test_the_candidates_are_the_active_and_in_grace_mailboxes_or_those_expiring_soon(
    alice, three, make_mailbox
):
    uno, due, tre = three
    old = make_mailbox("vecchia@pec.it", activated_on=date(2025, 6, 1))
    mailbox_transition(mailbox=old, to_status=MailboxStatus.EXPIRED, today=date(2026, 6, 1))
    assert [m.address for m in alignment_candidates(alice, today=TODAY)] == [
        "uno@pec.it",
        "due@pec.it",
        "tre@pec.it",
    ]
    soon = alignment_candidates(alice, today=TODAY, expiring_within_days=130)
    assert [m.address for m in soon] == ["due@pec.it"]
    with pytest.raises(PricingError, match="numero di giorni"):
        alignment_candidates(alice, today=TODAY, expiring_within_days=-1)


def test_an_unknown_payment_method_is_refused(alice, three):
    with pytest.raises(OrderError):
        alignment_order_place(
            customer=alice,
            mailbox_ids=[three[1].pk],
            target="2027-12-31",
            payment_method="contanti",
            placement_key=uuid.uuid4().hex,
            today=TODAY,
        )
