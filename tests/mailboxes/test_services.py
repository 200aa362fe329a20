from datetime import date

import pytest
from django.db import IntegrityError, transaction

from mailboxes.models import AddOnStatus, Mailbox, MailboxEvent, MailboxStatus
from mailboxes.services import TransitionError, mailbox_transition

pytestmark = pytest.mark.django_db


def test_activation_starts_the_term_on_the_payment_date(make_mailbox):
    mailbox = make_mailbox(years=2, activated_on=date(2026, 11, 25), extras={"CONSERVAZIONE": 5})
    assert mailbox.status == MailboxStatus.ACTIVE
    assert (mailbox.activated_on, mailbox.expires_on) == (date(2026, 11, 25), date(2028, 11, 25))
    assert [a.status for a in mailbox.addons.all()] == [AddOnStatus.ACTIVE]


def test_activation_on_29_february_expires_on_28_february(make_mailbox):
    mailbox = make_mailbox(activated_on=date(2028, 2, 29))
    assert mailbox.expires_on == date(2029, 2, 28)


def test_expiry_takes_the_addons_with_it_the_same_day(make_mailbox):
    mailbox = make_mailbox(extras={"CONSERVAZIONE": 5, "ARCHIVIO": 2})
    mailbox_transition(mailbox=mailbox, to_status=MailboxStatus.EXPIRED, today=date(2027, 5, 25))
    mailbox.refresh_from_db()
    assert mailbox.status == MailboxStatus.EXPIRED
    assert mailbox.expired_on == date(2027, 5, 25)
    assert set(mailbox.addons.values_list("status", flat=True)) == {AddOnStatus.EXPIRED}


def test_reactivation_after_expiry_reactivates_the_addons(make_mailbox):
    mailbox = make_mailbox(extras={"CONSERVAZIONE": 5})
    mailbox_transition(mailbox=mailbox, to_status=MailboxStatus.EXPIRED, today=date(2027, 5, 25))
    mailbox_transition(mailbox=mailbox, to_status=MailboxStatus.ACTIVE, today=date(2027, 6, 1))
    assert set(mailbox.addons.values_list("status", flat=True)) == {AddOnStatus.ACTIVE}


def test_cancellation_cancels_every_addon_and_is_final(make_mailbox):
    mailbox = make_mailbox(extras={"CONSERVAZIONE": 5})
    mailbox_transition(mailbox=mailbox, to_status=MailboxStatus.CANCELLED, today=date(2026, 12, 1))
    assert set(mailbox.addons.values_list("status", flat=True)) == {AddOnStatus.CANCELLED}
    with pytest.raises(TransitionError):
        mailbox_transition(mailbox=mailbox, to_status=MailboxStatus.ACTIVE, today=date(2026, 12, 2))


def test_a_pending_mailbox_cannot_expire(alice, tiers):
    from mailboxes.services import mailbox_create

    mailbox = mailbox_create(
        address="attesa@pec.it",
        tier=tiers["pro"],
        holder=alice.own_holder,
        customer=alice,
        term_years=1,
    )
    with pytest.raises(TransitionError, match="non può passare"):
        mailbox_transition(mailbox=mailbox, to_status=MailboxStatus.EXPIRED, today=date(2026, 1, 1))
    mailbox.refresh_from_db()
    assert mailbox.status == MailboxStatus.PENDING


def test_every_change_writes_an_event(make_mailbox):
    mailbox = make_mailbox(extras={"SPAZIO": 1})
    mailbox_transition(mailbox=mailbox, to_status=MailboxStatus.EXPIRED, today=date(2027, 5, 25))
    kinds = list(mailbox.events.order_by("id").values_list("kind", "to_status"))
    assert kinds == [
        ("created", "pending"),
        ("addon_added", "pending"),
        ("status", "active"),
        ("addon_status", "active"),
        ("status", "expired"),
        ("addon_status", "expired"),
    ]


def test_events_can_be_neither_edited_nor_deleted(make_mailbox):
    event = make_mailbox().events.first()
    event.reason = "riscritto"
    with pytest.raises(ValueError):
        event.save()
    with pytest.raises(ValueError):
        event.delete()
    assert MailboxEvent.objects.filter(reason="riscritto").count() == 0


def test_the_database_allows_one_live_mailbox_per_address(make_mailbox, bob):
    mailbox = make_mailbox(address="unica@pec.it")
    with pytest.raises(IntegrityError), transaction.atomic():
        Mailbox.objects.create(
            address="unica@pec.it",
            tier=mailbox.tier,
            holder=bob.own_holder,
            customer=bob,
            term_years=1,
        )
    mailbox_transition(mailbox=mailbox, to_status=MailboxStatus.CANCELLED, today=date(2026, 6, 1))
    again = Mailbox.objects.create(
        address="unica@pec.it", tier=mailbox.tier, holder=bob.own_holder, customer=bob, term_years=1
    )
    assert again.pk != mailbox.pk


@pytest.mark.parametrize(
    "changes",
    [
        {"status": "frozen"},
        {"term_years": 0},
        {"term_years": 6},
        {"expires_on": date(2026, 5, 25)},  # not after activation
        {"activated_on": None},  # active without dates
    ],
)
def test_the_database_refuses_an_impossible_mailbox(make_mailbox, changes):
    mailbox = make_mailbox()
    with pytest.raises(IntegrityError), transaction.atomic():
        Mailbox.objects.filter(pk=mailbox.pk).update(**changes)


@pytest.mark.parametrize(
    "changes",
    [{"status": "lost"}, {"quantity": -1}, {"next_quantity": 5}],
)
def test_the_database_refuses_an_impossible_addon(make_mailbox, changes):
    item = make_mailbox(extras={"CONSERVAZIONE": 5}).addons.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        type(item).objects.filter(pk=item.pk).update(**changes)


def test_the_database_allows_one_live_holding_of_an_addon_per_mailbox(make_mailbox, addons):
    item = make_mailbox(extras={"CONSERVAZIONE": 5}).addons.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        type(item).objects.create(
            mailbox=item.mailbox, addon=addons["CONSERVAZIONE"], quantity=1, status="active"
        )
